"""Tables as files: CSV, ODS (OpenDocument, ISO/IEC 26300, the format administrations use) and XLSX.

One sheet per table in ODS and XLSX: its title on the first row, the header on the second, then the
rows; numbers are numbers, dates dates, percentages fractions shown as percentages (a spreadsheet
sums, sorts and charts them). The CSV puts the tables one after the other (title, header, rows, an
empty line), in the French spreadsheets' dialect: « ; » between cells, a decimal comma, UTF-8 with a
BOM (so Excel reads the accents).

ODS through odfpy and XLSX through openpyxl, the maintained libraries of each format (tablib wraps
them but has no percentage format).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from allo.reports.tables import DATE, INT, NUMBER, PERCENT, SECONDS, TEXT, Table

CSV_TYPE = "text/csv; charset=utf-8"
ODS_TYPE = "application/vnd.oasis.opendocument.spreadsheet"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _is_typed(value, kind: str) -> bool:
    """A value the column's kind applies to (a text in a number column stays a text)."""
    if value is None or isinstance(value, str | bool) or kind == TEXT:
        return False
    if kind == DATE:
        return isinstance(value, dt.date)
    return isinstance(value, int | float)


# ---------------------------------------------------------------------------------------------- CSV

def _csv_cell(value, kind: str) -> str:
    if value is None:
        return ""
    if not _is_typed(value, kind):
        return str(value)
    if kind == DATE:
        return value.isoformat()
    if kind == PERCENT:
        return f"{100 * value:.1f} %".replace(".", ",")
    if kind == INT or isinstance(value, int):
        return str(int(value))
    return f"{round(value, 2):g}".replace(".", ",")


def to_csv(tables: Iterable[Table]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.header)
        kinds = [c.kind for c in table.columns]
        for row in table.rows:
            writer.writerow([_csv_cell(v, k) for v, k in zip(row, kinds, strict=True)])
    return out.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------------------------- ODS

def to_ods(tables: Iterable[Table]) -> bytes:
    from odf import number
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TableColumnProperties, TextProperties
    from odf.table import Table as OdsTable
    from odf.table import TableCell, TableColumn, TableRow
    from odf.text import P

    from allo.reports.tables import decimal, display

    doc = OpenDocumentSpreadsheet()
    styles = doc.automaticstyles

    def add(element):
        styles.addElement(element)
        return element

    pct_format = add(number.PercentageStyle(name="N-pct"))
    pct_format.addElement(number.Number(decimalplaces=1, minintegerdigits=1))
    pct_format.addElement(number.Text(text="\u00a0%"))
    date_format = add(number.DateStyle(name="N-date"))
    date_format.addElement(number.Day(style="long"))
    date_format.addElement(number.Text(text="/"))
    date_format.addElement(number.Month(style="long"))
    date_format.addElement(number.Text(text="/"))
    date_format.addElement(number.Year(style="long"))
    dec_format = add(number.NumberStyle(name="N-dec"))
    dec_format.addElement(number.Number(decimalplaces=2, minintegerdigits=1, grouping="true"))
    int_format = add(number.NumberStyle(name="N-int"))
    int_format.addElement(number.Number(decimalplaces=0, minintegerdigits=1, grouping="true"))
    cell_style = {}
    for kind, fmt in ((PERCENT, pct_format), (DATE, date_format), (INT, int_format), (NUMBER, dec_format),
                      (SECONDS, int_format)):
        cell_style[kind] = add(Style(name=f"C-{kind}", family="table-cell", datastylename=fmt))
    bold = add(Style(name="C-bold", family="table-cell"))
    bold.addElement(TextProperties(fontweight="bold"))
    bold.addElement(TableCellProperties(wrapoption="wrap"))
    title_style = add(Style(name="C-title", family="table-cell"))
    title_style.addElement(TextProperties(fontweight="bold", fontsize="12pt"))
    wide = add(Style(name="Col-wide", family="table-column"))
    wide.addElement(TableColumnProperties(columnwidth="4.5cm"))
    narrow = add(Style(name="Col", family="table-column"))
    narrow.addElement(TableColumnProperties(columnwidth="3cm"))

    for table in tables:
        sheet = OdsTable(name=table.sheet)
        sheet.addElement(TableColumn(stylename=wide))
        if len(table.columns) > 1:
            sheet.addElement(TableColumn(stylename=narrow, numbercolumnsrepeated=len(table.columns) - 1))
        title_row = TableRow()
        cell = TableCell(valuetype="string", stylename=title_style)
        cell.addElement(P(text=table.title))
        title_row.addElement(cell)
        sheet.addElement(title_row)
        header = TableRow()
        for label in table.header:
            cell = TableCell(valuetype="string", stylename=bold)
            cell.addElement(P(text=label))
            header.addElement(cell)
        sheet.addElement(header)
        for row in table.rows:
            tr = TableRow()
            for value, column in zip(row, table.columns, strict=True):
                kind = column.kind
                if value is None:
                    cell = TableCell()
                elif not _is_typed(value, kind):
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                elif kind == DATE:
                    cell = TableCell(valuetype="date", datevalue=value.isoformat(), stylename=cell_style[DATE])
                    cell.addElement(P(text=f"{value:%d/%m/%Y}"))
                elif kind == PERCENT:
                    cell = TableCell(valuetype="percentage", value=value, stylename=cell_style[PERCENT])
                    cell.addElement(P(text=display(value, kind)))
                else:  # the text is what the style shows; the header names the unit
                    cell = TableCell(valuetype="float", value=value, stylename=cell_style[kind])
                    cell.addElement(P(text=decimal(value, 2 if kind == NUMBER else 0)))
                tr.addElement(cell)
            sheet.addElement(tr)
        doc.spreadsheet.addElement(sheet)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- XLSX

XLSX_FORMATS = {PERCENT: "0.0%", DATE: "DD/MM/YYYY", INT: "#,##0", NUMBER: "#,##0.00", SECONDS: "#,##0"}


def to_xlsx(tables: Iterable[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.sheet)
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append(table.header)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
            for cell, column, value in zip(sheet[sheet.max_row], table.columns, row, strict=True):
                if _is_typed(value, column.kind) and column.kind in XLSX_FORMATS:
                    cell.number_format = XLSX_FORMATS[column.kind]
        sheet.freeze_panes = "B3"  # the header and the first column stay in view
        sheet.column_dimensions["A"].width = 24
        for i in range(2, len(table.columns) + 1):
            sheet.column_dimensions[get_column_letter(i)].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FORMATS = {"csv": (to_csv, CSV_TYPE), "ods": (to_ods, ODS_TYPE), "xlsx": (to_xlsx, XLSX_TYPE)}


def render(tables: list[Table], fmt: str) -> tuple[bytes, str]:
    """(file bytes, content type) of the tables in one of FORMATS."""
    writer, content_type = FORMATS[fmt]
    return writer(tables), content_type
