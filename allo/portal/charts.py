"""Server-side SVG charts for the statistics page: no script, no inline style (CSP), accessible.

Each chart is an <svg role="img"> with a <title> and a <desc>; the page always gives the same
figures as a data table next to it.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR = "#000091"  # DSFR blue France
GRID = "#929292"
TEXT = "#161616"


def _trim(label: str, size: int = 38) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def hbar_chart(rows: list[tuple[str, float]], title: str, chart_id: str, unit: str = "") -> SafeString:
    """Horizontal bars, one per (label, value), largest scale at the widest bar."""
    if not rows:
        return mark_safe("")
    label_w, bar_w, row_h, width = 300, 340, 26, 720
    height = row_h * len(rows) + 10
    top = max(value for _, value in rows) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="allo-chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape("; ".join(f"{label} : {value:g}{unit}" for label, value in rows))}</desc>',
    ]
    for i, (label, value) in enumerate(rows):
        y = 5 + i * row_h
        w = max(1.0, bar_w * value / top)
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13" fill="{TEXT}">'
                     f'{escape(_trim(label))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{BAR}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="13" fill="{TEXT}">{value:g}{unit}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(points: list[tuple[str, float, float]], title: str, chart_id: str,
               series: tuple[str, str] = ("Recherches", "Consultations")) -> SafeString:
    """Two daily series as lines (solid and dashed, so colour is not the only cue)."""
    if not points:
        return mark_safe("")
    width, height, left, bottom, top_pad = 720, 240, 48, 36, 28
    plot_w, plot_h = width - left - 12, height - bottom - top_pad
    peak = max(max(a, b) for _, a, b in points) or 1
    n = len(points)

    def xy(i: int, value: float) -> str:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        y = top_pad + plot_h - plot_h * value / peak
        return f"{x:.1f},{y:.1f}"

    desc = "; ".join(f"{day} : {a:g} {series[0].lower()}, {b:g} {series[1].lower()}" for day, a, b in points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="allo-chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="{GRID}"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="{GRID}"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" font-size="12" fill="{TEXT}">{peak:g}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="12" fill="{TEXT}">0</text>',
        f'<text x="{left}" y="{height - 8}" font-size="12" fill="{TEXT}">{escape(points[0][0])}</text>',
        f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end" font-size="12" fill="{TEXT}">'
        f'{escape(points[-1][0])}</text>',
        f'<polyline fill="none" stroke="{BAR}" stroke-width="2.5" '
        f'points="{" ".join(xy(i, a) for i, (_, a, _) in enumerate(points))}"/>',
        f'<polyline fill="none" stroke="#c9191e" stroke-width="2.5" stroke-dasharray="6 4" '
        f'points="{" ".join(xy(i, b) for i, (_, _, b) in enumerate(points))}"/>',
        f'<line x1="{left + 10}" y1="12" x2="{left + 40}" y2="12" stroke="{BAR}" stroke-width="2.5"/>',
        f'<text x="{left + 46}" y="16" font-size="12" fill="{TEXT}">{escape(series[0])}</text>',
        f'<line x1="{left + 170}" y1="12" x2="{left + 200}" y2="12" stroke="#c9191e" stroke-width="2.5" '
        f'stroke-dasharray="6 4"/>',
        f'<text x="{left + 206}" y="16" font-size="12" fill="{TEXT}">{escape(series[1])}</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))
