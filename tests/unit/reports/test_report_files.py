"""allo/reports: one table written as CSV, ODS and XLSX and read back with each format's library: the
same cells, typed (numbers a spreadsheet sums, dates, percentages), a sheet per table; the shared PDF
blocks make a tagged PDF (PDF/UA) whose tables go over as many pages as they need."""

from __future__ import annotations

import datetime as dt
import zipfile
from io import BytesIO

import pytest
from report_files import (
    Percent,
    csv_number,
    pdf_pages,
    pdf_structure,
    pdf_text,
    pdf_title,
    read_csv,
    read_ods,
    read_xlsx,
)

from allo.reports import pdf
from allo.reports.spreadsheets import to_csv, to_ods, to_xlsx
from allo.reports.tables import DATE, INT, NUMBER, PERCENT, SECONDS, Column, Table, display, period_label

DAYS = Table("Par jour", "Bilan par jour, mars 2026, file n1",
             [Column("Jour", DATE), Column("Présentés", INT), Column("Attente (s)", SECONDS),
              Column("Niveau de service", PERCENT), Column("Coût", NUMBER)],
             [[dt.date(2026, 3, 2), 1234, 24.5, 2 / 3, 1.25],
              [dt.date(2026, 3, 3), 1, None, 0.0, 0.5],
              ["Total", 1235, 24.5, 0.6, 1.75]])
THEMES = Table("Par thème", "Par thème, mars 2026", [Column("Thème"), Column("Présentés", INT)],
               [["Impôts", 3], ["Famille", 2]])


def test_a_table_checks_its_sheet_name_and_row_widths():
    with pytest.raises(ValueError, match="31 characters"):
        Table("Une feuille au nom bien trop long pour Excel", "t", [Column("a")])
    with pytest.raises(ValueError, match="a row of 1 cells for 2 columns"):
        Table("t", "t", [Column("a"), Column("b")], [["x"]])


def test_values_read_as_a_french_reader_reads_them():
    assert [display(v, k) for v, k in [(1234, INT), (2 / 3, PERCENT), (24.5, SECONDS), (None, PERCENT),
                                       (dt.date(2026, 3, 2), DATE), ("Total", DATE)]] == [
        "1\u202f234", "66,7\u202f%", "24\u202fs", "—", "lun. 02/03/2026", "Total"]
    assert period_label(dt.date(2026, 2, 1), dt.date(2026, 2, 28)) == "février 2026"
    assert period_label(dt.date(2026, 3, 2), dt.date(2026, 3, 3)) == "du 02/03/2026 au 03/03/2026"


def typed_rows(table: Table) -> list[list]:
    """What a spreadsheet holds for the table: title, header, then its values (ints as the floats ODS keeps)."""
    return [[table.title], table.header, *table.rows]


@pytest.mark.parametrize("reader, writer", [(read_ods, to_ods), (read_xlsx, to_xlsx)])
def test_ods_and_xlsx_keep_numbers_dates_and_percentages_typed(reader, writer):
    body = writer([DAYS, THEMES])
    sheets = reader(body)
    assert list(sheets) == ["Par jour", "Par thème"]
    days = sheets["Par jour"]
    assert days[0][0] == DAYS.title and days[1] == DAYS.header
    for got, want in zip(days[2:], DAYS.rows, strict=True):
        assert got == want
    percentages = [r[3] for r in days[2:]]
    assert all(isinstance(p, Percent) for p in percentages)  # a percentage to the spreadsheet
    assert all(isinstance(r[0], dt.date) for r in days[2:4]) and days[4][0] == "Total"
    assert sum(r[1] for r in days[2:4]) == days[4][1]  # numbers, not texts: they sum
    assert days[3][2] is None  # no value: an empty cell, not « — » nor 0
    assert sheets["Par thème"][2:] == [["Impôts", 3], ["Famille", 2]]


def test_the_ods_follows_the_packaging_rule():
    archive = zipfile.ZipFile(BytesIO(to_ods([DAYS])))
    first = archive.infolist()[0]  # mimetype first and stored: `file` and applications recognise the format
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"


def test_the_csv_puts_the_tables_one_after_the_other_in_the_french_dialect():
    rows = read_csv(to_csv([DAYS, THEMES]))
    assert rows[0] == [DAYS.title] and rows[1] == DAYS.header
    assert rows[2] == ["2026-03-02", "1234", "24,5", "66,7 %", "1,25"]
    assert rows[3] == ["2026-03-03", "1", "", "0,0 %", "0,5"]
    assert [csv_number(x) for x in rows[4][1:]] == [1235, 24.5, 0.6, 1.75]
    assert rows[5] == [] and rows[6] == [THEMES.title] and rows[8] == ["Impôts", "3"]


def test_a_pdf_report_is_tagged_and_a_long_table_goes_over_pages_with_its_header_on_each():
    """PDF/UA: French, marked, its title in the metadata, a heading, tables with header cells and a
    caption, the chart a figure with its text alternative; a table longer than a page repeats its header
    on the next one; a table without rows is left out."""
    long = Table("Par agent", "Par agent, mars 2026", [Column("Agent"), Column("Présentés", INT)],
                 [[f"agent-{i:02d}", i] for i in range(70)])
    with pdf.PdfReport("Bilan mensuel, février 2026", "Essai") as report:
        report.heading("Bilan mensuel, février 2026")
        report.summary("Le mois en bref", [("Appels", "3")])
        report.chart("Appels par jour", "Barres : 3 appels le 2 février",
                     lambda ax: pdf.stacked_bars(ax, [dt.date(2026, 2, 1), dt.date(2026, 2, 2)],
                                                 [("Répondus", [0, 3], pdf.BLUE)]))
        report.table(long)
        report.table(Table("Vide", "Un tableau vide", [Column("a")]))  # no rows: left out
    body = report.body
    assert pdf_pages(body) == report.pages >= 2
    assert pdf_title(body) == "Bilan mensuel, février 2026"
    structure = pdf_structure(body)
    assert structure["lang"] == "fr" and structure["marked"]
    assert {"/H1", "/Table", "/Caption", "/TH", "/TD", "/Figure"} <= set(structure["types"])
    assert structure["figures"] == ["Barres : 3 appels le 2 février"]
    text = pdf_text(body)
    assert "Par agent, mars 2026" in text and "agent-69" in text and "Un tableau vide" not in text
    last = pdf_text(body, page=report.pages - 1)
    assert "agent-69" in last and "Présentés" in last  # the header again on the last page
