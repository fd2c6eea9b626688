"""The building blocks of a PDF report (matplotlib, already a dependency: no PDF library added).

Drawn with matplotlib's object API (Figure, no pyplot state): safe in the web threads. Pages are A4
landscape; the French title goes to the PDF's metadata, so a reader's window and a screen reader
announce it.
"""

from __future__ import annotations

import datetime as dt
import io
import math

from allo.reports.tables import NNBSP, Table

A4_LANDSCAPE = (11.69, 8.27)
BLUE, LIGHT_BLUE, RED, GREY = "#000091", "#6a6af4", "#e1000f", "#bbbbbb"  # DSFR's blue France, red Marianne
ROWS_PER_PAGE = 32  # a month of days and its total on one page


class PdfReport:
    """`with PdfReport(title, subject) as report: fig = report.page(heading) ...`; then `report.body`."""

    def __init__(self, title: str, subject: str):
        self.title, self.subject = title, subject
        self.pages = 0
        self._out = io.BytesIO()
        self._pdf = None

    def __enter__(self) -> PdfReport:
        from matplotlib.backends.backend_pdf import PdfPages

        self._pdf = PdfPages(self._out, metadata={"Title": self.title, "Subject": self.subject, "Creator": "Allô"})
        return self

    def __exit__(self, *exc) -> None:
        self._pdf.close()

    @property
    def body(self) -> bytes:
        return self._out.getvalue()

    def page(self, heading: str, draw) -> None:
        """A page with its heading; `draw(fig)` puts the rest on it."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=A4_LANDSCAPE)
        fig.suptitle(heading, fontsize=13, x=0.04, ha="left")
        draw(fig)
        self._pdf.savefig(fig)
        self.pages += 1

    def table(self, table: Table, heading: str | None = None, rows_per_page: int = ROWS_PER_PAGE,
              widths: list[float] | None = None, left: int = 1) -> None:
        """A table over as many pages as it needs (header on each); nothing for a table without rows.
        `widths` and `left` as draw_table's (columns' fractions of the page's width, equal by default;
        the left-aligned columns)."""
        rows = table.display_rows()
        n = math.ceil(len(rows) / rows_per_page)
        for i in range(n):
            part = rows[i * rows_per_page:(i + 1) * rows_per_page]
            title = (heading or table.title) + (f" ({i + 1}/{n})" if n > 1 else "")
            self.page(title, lambda fig, part=part: draw_table(fig.add_axes((0.04, 0.04, 0.92, 0.86)),
                                                                 table.header, part, widths=widths,
                                                                 left=left))


def table_pages(table: Table, rows_per_page: int = ROWS_PER_PAGE) -> int:
    """The pages PdfReport.table draws for a table."""
    return math.ceil(len(table.rows) / rows_per_page)


def draw_table(ax, header: list[str], rows: list[list[str]], fontsize: float = 8,
               widths: list[float] | None = None, left: int = 1) -> None:
    """Rows of display texts under a bold header (wrapped: a table cell does not wrap by itself), from
    the top of the axes; the first `left` columns (texts) left-aligned. `widths`: fractions of the axes'
    width."""
    import textwrap

    ax.axis("off")
    rows = [[latin(c) for c in row] for row in rows] or [["—", *([""] * (len(header) - 1))]]
    labels = [textwrap.fill(h, 18 if widths is None else max(12, int(110 * widths[i])))
              for i, h in enumerate(header)]
    lines = max(label.count("\n") + 1 for label in labels)
    table = ax.table(cellText=rows, colLabels=labels, loc="upper left", cellLoc="right", colWidths=widths)
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    for (r, c), cell in table.get_celld().items():
        cell.set_linewidth(0.3)
        if r == 0:
            cell.set_text_props(fontweight="bold", ha="center")
            cell.set_height(cell.get_height() * (0.5 + 0.65 * lines))
            cell.set_facecolor("#eeeef8")
        elif c < left:
            cell.set_text_props(ha="left")
            cell.PAD = 0.03


def latin(text: str) -> str:
    """The narrow no-break space of French figures as a no-break space: matplotlib writes a character
    outside Latin-1 as a separate glyph run, which readers and copy-paste split from its number."""
    return text.replace(NNBSP, "\u00a0")


def summary(ax, items: list[tuple[str, str]], fontsize: float = 9) -> None:
    """The period in brief: a two-column table of figures and their values."""
    draw_table(ax, ["Indicateur", "Valeur"], [[label, value] for label, value in items], fontsize,
               widths=[0.82, 0.18])


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
