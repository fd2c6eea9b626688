"""The partner's monthly report as PDF, drawn with the shared blocks of allo/reports/pdf.py.

Page 1: the month in brief and the calls per day as stacked bars (answered at N1, transferred, returned,
other: abandoned or lost); page 2: the table per hour and the top themes and fiches.
"""

from __future__ import annotations

from allo.reports import pdf
from allo.reports.tables import Table, display


def report_pdf(partner_name: str, data: dict, top: dict, tables: list[Table]) -> bytes:
    """`tables`: space.report_tables (per day, per hour): the PDF shows the same cells as the spreadsheet."""
    days_table, hours_table = tables
    title = days_table.title
    total = days_table.rows[-1]

    def first_page(fig):
        summary = "   ·   ".join(f"{c.label} : {display(v, c.kind)}"
                                 for c, v in zip(days_table.columns[1:], total[1:], strict=True))
        fig.text(0.05, 0.9, pdf.latin(summary), fontsize=8.5)
        days = data["days"]
        stacks = [(label, [d[key] for d in days], colour) for key, label, colour in [
            ("answered_n1", "Répondus au niveau 1", pdf.BLUE), ("transferred", "Transférés au niveau 2", pdf.LIGHT_BLUE),
            ("returned", "Transmis au partenaire", pdf.RED)]]
        counted = [sum(s[1][i] for s in stacks) for i in range(len(days))]
        stacks.append(("Autres (abandonnés, perdus)", [max(0, d["offered"] - c) for d, c in zip(days, counted,
                                                                                                strict=True)],
                       pdf.GREY))
        pdf.stacked_bars(fig.add_axes((0.07, 0.12, 0.9, 0.7)), [d["day"] for d in days], stacks)

    def second_page(fig):
        hours = Table(hours_table.sheet, hours_table.title, hours_table.columns,
                      [r for r in hours_table.rows if r[1]])  # the hours with calls
        pdf.draw_table(fig.add_axes((0.03, 0.05, 0.6, 0.85)), hours.header, hours.display_rows())
        lines = ["Thèmes les plus fréquents :"]
        lines += [f"{i}. {t['label']} ({t['n']})" for i, t in enumerate(top["themes"], 1)] or ["aucun"]
        lines += ["", "Fiches les plus utilisées :"]
        lines += [f"{i}. {f['title'][:48]} ({f['n']})" for i, f in enumerate(top["fiches"], 1)] or ["aucune"]
        fig.text(0.66, 0.88, "\n".join(lines), fontsize=8, va="top")

    with pdf.PdfReport(title, "Rapport mensuel du partenaire") as report:
        report.page(title, first_page)
        report.page(f"{partner_name}, {data['label']} : par heure, thèmes et fiches", second_page)
    return report.body
