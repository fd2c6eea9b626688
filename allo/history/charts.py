"""A server-rendered SVG chart of the « bilan » (no script): offered and answered calls per day as bars,
the service level as a line on its own 0–100 % scale. The page's data table is its text alternative.
Everything drawn is a number or a day of the month computed here, so nothing needs escaping."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 260, 48, 48, 12, 28
SL_TARGET = 0.8  # the service level target drawn on the page and in the monthly PDF


def daily_chart(days: list[dict], title_id: str) -> SafeString:
    n = max(len(days), 1)
    top = max([int(d["offered"]) for d in days] + [1])
    step = _nice(top)
    top = step * -(-top // step)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / n

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    def y_pct(p: float) -> float:
        return TOP + plot_h * (1 - p)

    parts = [f'<svg viewBox="0 0 {W} {H}" role="img" aria-labelledby="{title_id}" class="bilan-chart" '
             'xmlns="http://www.w3.org/2000/svg">']
    for v in range(0, top + 1, step):
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" class="axis" text-anchor="end">{v}</text>')
    for p in (0, 50, 80, 100):
        parts.append(f'<text x="{W - RIGHT + 6}" y="{y_pct(p / 100) + 4:.1f}" class="axis">{p} %</text>')
    points = []
    for i, d in enumerate(days):
        x = LEFT + i * slot
        offered, answered = int(d["offered"]), int(d["answered"])
        parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{y(offered):.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{TOP + plot_h - y(offered):.1f}" class="offered"/>'
                     f'<rect x="{x + slot * 0.3:.1f}" y="{y(answered):.1f}" width="{slot * 0.4:.1f}" '
                     f'height="{TOP + plot_h - y(answered):.1f}" class="answered"/>')
        if n <= 31:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{H - 8}" class="axis" text-anchor="middle">'
                         f'{int(d["date"][8:10])}</text>')
        if d["service_level"] is not None:
            points.append(f"{x + slot / 2:.1f},{y_pct(float(d['service_level'])):.1f}")
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" class="sl"/>')
    parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y_pct(SL_TARGET):.1f}" y2="{y_pct(SL_TARGET):.1f}" class="target"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — numbers only, see the module's docstring


def _nice(top: int) -> int:
    """A round step giving about five grid lines."""
    raw = max(top / 5, 1)
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude
