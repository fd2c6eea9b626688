"""Reading back the report files the project writes (allo/reports), with the format's own libraries:
odfpy for ODS, openpyxl for XLSX, the csv module for CSV. No PDF parser is installed: a PDF is read
from its bytes (pages, the Info dictionary's title, the text runs matplotlib writes)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zlib


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


def pdf_pages(body: bytes) -> int:
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    return len(re.findall(rb"/Type\s*/Page\b", body))


def pdf_title(body: bytes) -> str:
    """The Info dictionary's /Title: a PDF literal string, UTF-16 with its BOM when not ASCII."""
    m = re.search(rb"/Title\s*\(((?:\\.|[^\\)])*)\)", body, re.S)
    assert m, "no /Title in the PDF's metadata"
    raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda e: bytes([int(e[1], 8)]) if e[1][:1].isdigit()
                 else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(e[1], e[1]), m[1], flags=re.S)
    return raw[2:].decode("utf-16-be") if raw.startswith(codecs.BOM_UTF16_BE) else raw.decode("latin-1")


def pdf_text(body: bytes) -> str:
    """The text runs of a PDF matplotlib wrote (zlib streams, TJ arrays of strings between kerning offsets)."""
    # up to `endstream` with the line end: a stream's last byte may be a \r; zlib leaves what follows its end
    streams = b"".join(zlib.decompressobj().decompress(m) for m in re.findall(rb"stream\r?\n(.*?)endstream", body, re.S)
                       if m[:1] == b"x")
    runs = ("".join(re.findall(r"\((.*?)(?<!\\)\)", array))
            for array in re.findall(r"\[(.*?)\]\s*TJ", streams.decode("latin-1"), re.S))
    return "\n".join(re.sub(r"\\([()\\])", r"\1", run) for run in runs)  # \( \) \\ as written
