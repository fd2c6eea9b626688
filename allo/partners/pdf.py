"""The partner's monthly report as a tagged PDF, with the shared blocks of allo/reports/pdf.py: the month
in brief and the calls per day as stacked bars (answered at N1, transferred, returned, other: abandoned or
lost), then the table per hour and the top themes and fiches."""

from __future__ import annotations

from allo.reports import pdf
from allo.reports.tables import Table, display


def report_pdf(partner_name: str, data: dict, top: dict, tables: list[Table]) -> bytes:
    """`tables`: space.report_tables (per day, per hour): the PDF shows the same cells as the spreadsheet."""
    days_table, hours_table = tables
    title = days_table.title
    total = days_table.rows[-1]
    days = data["days"]
    stacks = [(label, [d[key] for d in days], colour) for key, label, colour in [
        ("answered_n1", "Répondus au niveau 1", pdf.BLUE), ("transferred", "Transférés au niveau 2", pdf.LIGHT_BLUE),
        ("returned", "Transmis au partenaire", pdf.RED)]]
    counted = [sum(s[1][i] for s in stacks) for i in range(len(days))]
    stacks.append(("Autres (abandonnés, perdus)", [max(0, d["offered"] - c) for d, c in zip(days, counted, strict=True)],
                   pdf.GREY))
    dates = [d["day"] for d in days]
    with pdf.PdfReport(title, "Rapport mensuel du partenaire") as report:
        report.heading(title)
        report.summary(f"{data['label']} en bref", [(c.label, display(v, c.kind)) for c, v in
                                                   zip(days_table.columns[1:], total[1:], strict=True)])
        report.chart(
            "Appels par jour",
            f"Barres par jour, {data['label']} : " + ", ".join(f"{label} {sum(values):.0f}" for label, values, _ in stacks)
            + f" ; le jour le plus chargé : {pdf.busiest(dates, [d['offered'] for d in days])}. "
            "Les chiffres de chaque jour sont dans le tableau par jour du tableur.",
            lambda ax: pdf.stacked_bars(ax, dates, stacks))
        report.heading(f"{partner_name}, {data['label']} : par heure, thèmes et fiches", 2, new_page=True)
        report.table(Table(hours_table.sheet, hours_table.title, hours_table.columns,
                           [r for r in hours_table.rows if r[1]]))  # the hours with calls
        report.ranked("Thèmes les plus fréquents", [f"{t['label']} ({t['n']})" for t in top["themes"]], "aucun")
        report.ranked("Fiches les plus utilisées", [f"{f['title']} ({f['n']})" for f in top["fiches"]], "aucune")
    return report.body
