"""The building blocks of a PDF report: an HTML document of headings, tables and charts, which WeasyPrint
sets in A4 landscape pages as a tagged PDF (PDF/UA-1): its headings, its tables with their header cells
and captions, its charts as figures with their text alternative, French as its language and its title in
the metadata. A screen reader reads it as it reads the « Bilan » page (RGAA); matplotlib's PDF, before,
was drawings of text with no structure.

The charts are drawn with matplotlib's object API (Figure, no pyplot state: safe in the web threads) as
PNG images; each comes with a sentence that says what it shows (`alt`), and the figures it shows are in
the report's tables too.

WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0): without it `body` raises
PdfUnavailable, whose French message the views show.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math

from allo.reports.tables import DATE, TEXT, Table

BLUE, LIGHT_BLUE, RED, GREY = "#000091", "#6a6af4", "#e1000f", "#bbbbbb"  # DSFR's blue France, red Marianne
CHART_SIZE = (10.4, 3.0)  # inches: a chart across the page, two of them and a heading on one page
CHART_DPI = 150

STYLE = """
@page { size: A4 landscape; margin: 1.2cm 1.2cm 1.4cm;
        @bottom-right { content: "Page " counter(page) " sur " counter(pages); font-size: 7pt; color: #555; } }
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 8pt; color: #161616; }
h1 { font-size: 13pt; margin: 0 0 6pt; }
h2 { font-size: 10.5pt; margin: 10pt 0 4pt; }
table { border-collapse: collapse; width: 100%; margin: 0 0 10pt; }
table.court { width: auto; min-width: 45%; }
caption { caption-side: top; text-align: left; font-weight: bold; font-size: 9pt; padding: 0 0 3pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 0.5pt solid #929292; padding: 1.5pt 4pt; vertical-align: top; }
thead th { background: #eeeef8; text-align: center; }
tbody th { text-align: left; font-weight: normal; }
td { text-align: right; }
td.texte { text-align: left; }
figure { margin: 0 0 8pt; break-inside: avoid; }
figure img { width: 100%; }
figcaption { font-weight: bold; font-size: 9pt; margin: 0 0 2pt; }
.rupture { break-before: page; }
"""


class PdfUnavailable(RuntimeError):
    """The PDF cannot be made on this machine (WeasyPrint's system libraries are missing)."""


class PdfReport:
    """`with PdfReport(title, subject) as report:` heading, summary, chart, table…; then `report.body`
    (the PDF, made once) and `report.pages`."""

    def __init__(self, title: str, subject: str):
        self.title, self.subject = title, subject
        self._parts: list[str] = []
        self._body: bytes | None = None
        self.pages = 0

    def __enter__(self) -> PdfReport:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def heading(self, text: str, level: int = 1, new_page: bool = False) -> None:
        css = ' class="rupture"' if new_page else ""
        self._parts.append(f"<h{level}{css}>{_e(text)}</h{level}>")

    def summary(self, caption: str, items: list[tuple[str, str]]) -> None:
        """Figures and their values: a two-column table, each figure's label as its row's header."""
        rows = "".join(f'<tr><th scope="row">{_e(label)}</th><td>{_e(value)}</td></tr>' for label, value in items)
        self._parts.append(f'<table class="court"><caption>{_e(caption)}</caption><thead><tr>'
                           f'<th scope="col">Indicateur</th><th scope="col">Valeur</th></tr></thead>'
                           f"<tbody>{rows}</tbody></table>")

    def chart(self, caption: str, alt: str, draw, size: tuple[float, float] = CHART_SIZE) -> None:
        """A chart `draw(ax)` draws, as a figure with its caption and its text alternative `alt`."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=size)
        draw(fig.add_axes((0.06, 0.2, 0.92, 0.75)))
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=CHART_DPI)
        data = base64.b64encode(out.getvalue()).decode("ascii")
        self._parts.append(f"<figure><figcaption>{_e(caption)}</figcaption>"
                           f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}"></figure>')

    def table(self, table: Table, left: int = 1) -> None:
        """A Table under its title (its caption), over as many pages as it needs, its header repeated on
        each; nothing for a table without rows. The first `left` columns are texts: the first one is
        each row's header."""
        if not table.rows:
            return
        head = "".join(f'<th scope="col">{_e(label)}</th>' for label in table.header)
        body = []
        for row in table.display_rows():
            cells = []
            for i, (value, column) in enumerate(zip(row, table.columns, strict=True)):
                if i == 0:
                    cells.append(f'<th scope="row">{_e(value)}</th>')
                elif i < left or column.kind in (TEXT, DATE):
                    cells.append(f'<td class="texte">{_e(value)}</td>')
                else:
                    cells.append(f"<td>{_e(value)}</td>")
            body.append(f"<tr>{''.join(cells)}</tr>")
        self._parts.append(f"<table><caption>{_e(table.title)}</caption><thead><tr>{head}</tr></thead>"
                           f"<tbody>{''.join(body)}</tbody></table>")

    def ranked(self, heading: str, entries: list[str], empty: str) -> None:
        """An ordered list under its heading (`empty` when there is none)."""
        items = "".join(f"<li>{_e(entry)}</li>" for entry in entries) or f"<li>{_e(empty)}</li>"
        self._parts.append(f"<h2>{_e(heading)}</h2><ol>{items}</ol>")

    def document(self) -> str:
        """The report as one HTML document (what WeasyPrint sets in pages)."""
        return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{_e(self.title)}</title>'
                f'<meta name="description" content="{_e(self.subject)}"><meta name="generator" content="Allô">'
                f"<style>{STYLE}</style></head><body>{''.join(self._parts)}</body></html>")

    @property
    def body(self) -> bytes:
        if self._body is None:
            try:
                html_class = _weasyprint_html()
            except OSError as exc:  # Pango or its fonts' libraries missing
                raise PdfUnavailable("Le rapport PDF ne peut pas être produit sur ce serveur : il lui manque "
                                     "la bibliothèque Pango (Debian : libpango-1.0-0 libpangoft2-1.0-0).") from exc
            rendered = html_class(string=self.document()).render()
            self.pages = len(rendered.pages)
            self._body = rendered.write_pdf(pdf_variant="pdf/ua-1")
        return self._body


def _weasyprint_html():
    """WeasyPrint's HTML class; OSError when its system libraries (Pango) cannot be loaded."""
    from weasyprint import HTML

    return HTML


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def day_axis(ax, days: list[dt.date]) -> list[int]:
    """x positions of the days, labelled with the day of the month (and the month when the range spans
    more than one); returns the positions."""
    xs = list(range(len(days)))
    step = max(1, math.ceil(len(days) / 31))
    several_months = len({(d.year, d.month) for d in days}) > 1
    ax.set_xticks(xs[::step], [f"{d.day}/{d.month}" if several_months else str(d.day) for d in days[::step]])
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlim(-0.6, len(days) - 0.4)
    ax.set_xlabel("jour du mois" if not several_months else "jour")
    return xs


def stacked_bars(ax, days: list[dt.date], stacks: list[tuple[str, list[float], str]], ylabel: str = "appels"):
    """Bars per day, one stack per (label, values, colour), bottom first."""
    xs = day_axis(ax, days)
    bottom = [0.0] * len(days)
    for label, values, colour in stacks:
        ax.bar(xs, values, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right", fontsize=7)
    ax.yaxis.get_major_locator().set_params(integer=True)


def rate_per_day(ax, days: list[dt.date], lines: list[tuple[str, list[float | None], str]],
                 target: float | None = None, target_label: str = "") -> None:
    """Rates (0-1) per day as lines on a 0-100 % scale; a day without a value leaves a gap."""
    from matplotlib.ticker import PercentFormatter

    xs = day_axis(ax, days)
    for label, values, colour in lines:
        ax.plot(xs, [math.nan if v is None else 100 * v for v in values], marker="o", markersize=3,
                label=label, color=colour)
    if target is not None:
        ax.axhline(100 * target, color=RED, linestyle=":", label=target_label)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.legend(loc="lower right", fontsize=7)


def busiest(days: list[dt.date], values: list[float]) -> str:
    """« le 12 (80) » : the day of the highest value, for a chart's text alternative."""
    if not values or max(values) <= 0:
        return "aucun"
    i = max(range(len(values)), key=lambda k: (values[k], -k))
    return f"le {days[i].day}/{days[i].month} ({values[i]:.0f})"
