"""Reading back the report files the project writes (allo/reports), with the format's own libraries:
odfpy for ODS, openpyxl for XLSX, the csv module for CSV, pypdf for PDF (its text, pages, title, and the
structure tree that makes it accessible)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io


class Percent(float):
    """A spreadsheet cell typed as a percentage (its value a fraction)."""


def read_ods(body: bytes) -> dict[str, list[list]]:
    """{sheet: rows}, each cell as its type says: float, Percent, date, str; None when empty."""
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow

    doc = load(io.BytesIO(body))
    assert doc.mimetype == "application/vnd.oasis.opendocument.spreadsheet"
    out = {}
    for sheet in doc.spreadsheet.getElementsByType(Table):
        rows = []
        for row in sheet.getElementsByType(TableRow):
            cells = []
            for cell in row.getElementsByType(TableCell):
                kind = cell.getAttribute("valuetype")
                if kind == "float":
                    cells.append(float(cell.getAttribute("value")))
                elif kind == "percentage":
                    cells.append(Percent(cell.getAttribute("value")))
                elif kind == "date":
                    cells.append(dt.date.fromisoformat(cell.getAttribute("datevalue")))
                elif kind == "string":
                    cells.append(str(cell))
                else:
                    cells.append(None)
            rows.append(cells)
        out[sheet.getAttribute("name")] = rows
    return out


def read_xlsx(body: bytes) -> dict[str, list[list]]:
    """{sheet: rows}: numbers, Percent for a cell shown as a percentage, date, str; None when empty."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body))
    out = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows():
            cells = []
            for cell in row:
                value = cell.value
                if isinstance(value, dt.datetime):
                    value = value.date()
                elif isinstance(value, int | float) and "%" in cell.number_format:
                    value = Percent(value)
                cells.append(value)
            rows.append(cells)
        out[sheet.title] = rows
    return out


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(codecs.BOM_UTF8)  # Excel then reads the accents
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def csv_number(text: str) -> float | None:
    """A French CSV cell as a number: « 66,7 % » -> 0.667, « 103,33 » -> 103.33, empty -> None."""
    if not text:
        return None
    if text.endswith("%"):
        return float(text[:-1].strip().replace(",", ".")) / 100
    return float(text.replace(",", "."))


def _pdf(body: bytes):
    import pypdf

    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    return pypdf.PdfReader(io.BytesIO(body))


def pdf_pages(body: bytes) -> int:
    return len(_pdf(body).pages)


def pdf_title(body: bytes) -> str:
    """The document's title in its metadata (what a reader's window and a screen reader announce)."""
    return _pdf(body).metadata.title


def pdf_text(body: bytes, page: int | None = None) -> str:
    """The text of every page (or of one), as pypdf extracts it."""
    reader = _pdf(body)
    pages = reader.pages if page is None else [reader.pages[page]]
    return "\n".join(p.extract_text() for p in pages)


def pdf_structure(body: bytes) -> dict:
    """What makes the PDF accessible (PDF/UA): {"lang", "marked", "types": {structure type: count},
    "figures": [each figure's text alternative], "headers": the table header cells' texts}."""
    import pypdf

    reader = _pdf(body)
    root = reader.trailer["/Root"]
    types: dict[str, int] = {}
    figures: list[str] = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, pypdf.generic.ArrayObject):
            for child in node:
                walk(child)
            return
        if not isinstance(node, pypdf.generic.DictionaryObject):
            return
        kind = node.get("/S")
        if kind is not None:
            types[str(kind)] = types.get(str(kind), 0) + 1
            if kind == "/Figure":
                figures.append(str(node.get("/Alt", "")))
        if "/K" in node:
            walk(node["/K"])

    if "/StructTreeRoot" in root:
        walk(root["/StructTreeRoot"])
    return {"lang": str(root.get("/Lang", "")), "marked": bool(root.get("/MarkInfo", {}).get("/Marked")),
            "types": types, "figures": figures}
