"""The partner's monthly report as PDF (matplotlib, already a dependency: no PDF library added).

Page 1: the month in brief and the calls per day as stacked bars (answered at N1, transferred, returned,
other: abandoned or lost); page 2: the table per hour and the top themes and fiches. Drawn with
matplotlib's object API (no pyplot state: safe in the web threads).
"""

from __future__ import annotations

import io

from allo.partners.space import COLUMNS, percent

A4_LANDSCAPE = (11.69, 8.27)


def report_pdf(partner_name: str, data: dict, top: dict) -> bytes:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = io.BytesIO()
    title = f"{partner_name} : appels pris en charge par le 3939, {data['label']}"
    with PdfPages(out, metadata={"Title": title, "Creator": "Allô", "Subject": "Rapport mensuel du partenaire"}) as pdf:
        fig = Figure(figsize=A4_LANDSCAPE)
        fig.suptitle(title, fontsize=14, x=0.05, ha="left")
        total = data["total"]
        summary = "   ·   ".join(f"{label} : {percent(total[k]) if k == 'service_level' else total[k]}"
                                 for k, label in COLUMNS)
        fig.text(0.05, 0.9, summary, fontsize=8.5)
        ax = fig.add_axes((0.07, 0.12, 0.9, 0.7))
        days = data["days"]
        xs = [d["day"].day for d in days]
        bottom = [0] * len(days)
        for key, label, colour in [("answered_n1", "Répondus au niveau 1", "#000091"),
                                   ("transferred", "Transférés au niveau 2", "#6a6af4"),
                                   ("returned", "Transmis au partenaire", "#e1000f")]:
            values = [d[key] for d in days]
            ax.bar(xs, values, bottom=bottom, label=label, color=colour)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        other = [max(0, d["offered"] - b) for d, b in zip(days, bottom, strict=True)]
        ax.bar(xs, other, bottom=bottom, label="Autres (abandonnés, perdus)", color="#bbbbbb")
        ax.set_xlabel("jour du mois")
        ax.set_ylabel("appels")
        ax.set_xticks(xs)
        ax.tick_params(axis="x", labelsize=7)
        ax.legend(loc="upper right", fontsize=8)
        ax.yaxis.get_major_locator().set_params(integer=True)
        pdf.savefig(fig)

        fig = Figure(figsize=A4_LANDSCAPE)
        fig.suptitle(f"{partner_name}, {data['label']} : par heure, thèmes et fiches", fontsize=13, x=0.05, ha="left")
        ax = fig.add_axes((0.03, 0.05, 0.6, 0.85))
        ax.axis("off")
        rows = [[f"{h['hour']:02d} h", *(percent(h[k]) if k == "service_level" else h[k] for k, _ in COLUMNS)]
                for h in data["hours"] if h["offered"]] or [["—", *([""] * len(COLUMNS))]]
        headers = ["heure", "reçus", "répondus N1", "transférés N2", "transmis", "abandonnés", "taux de service"]
        table = ax.table(cellText=rows, colLabels=headers, loc="upper left", cellLoc="right")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        lines = ["Thèmes les plus fréquents :"]
        lines += [f"{i}. {t['label']} ({t['n']})" for i, t in enumerate(top["themes"], 1)] or ["aucun"]
        lines += ["", "Fiches les plus utilisées :"]
        lines += [f"{i}. {f['title'][:48]} ({f['n']})" for i, f in enumerate(top["fiches"], 1)] or ["aucune"]
        fig.text(0.66, 0.88, "\n".join(lines), fontsize=8, va="top")
        pdf.savefig(fig)
    return out.getvalue()
