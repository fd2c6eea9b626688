"""The server-rendered SVG chart of « Prévisions et effectifs » (no script): expected calls per interval as
a line inside its 90 % prediction band (left scale), agents needed on the phones as a step line (right
scale), a tick and the day's name at each day's first interval. Intervals without any expected call are
left out (nights, closed days). The page's data table is its text alternative. Everything drawn is a
number or a weekday label from this module, so nothing needs escaping."""

from __future__ import annotations

import datetime as dt

from django.utils.safestring import SafeString, mark_safe

from allo.history.charts import _nice

W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 280, 48, 48, 12, 36
DAYS = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]


def forecast_chart(rows: list[dict], title_id: str) -> SafeString:
    n = max(len(rows), 1)
    top = max([int(r["high"]) for r in rows] + [int(r["expected"]) + 1 for r in rows] + [1])
    step = _nice(top)
    top = step * -(-top // step)
    agents_top = max([r.get("agents", 0) for r in rows] + [1])
    a_step = _nice(agents_top)
    agents_top = a_step * -(-agents_top // a_step)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / n

    def x(i: float) -> float:
        return LEFT + (i + 0.5) * slot

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    def y_agents(v: float) -> float:
        return TOP + plot_h * (1 - v / agents_top)

    parts = [f'<svg viewBox="0 0 {W} {H}" role="img" aria-labelledby="{title_id}" class="forecast-chart" '
             'xmlns="http://www.w3.org/2000/svg">']
    for v in range(0, top + 1, step):
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" class="axis" text-anchor="end">{v}</text>')
    for v in range(0, agents_top + 1, a_step):
        parts.append(f'<text x="{W - RIGHT + 6}" y="{y_agents(v) + 4:.1f}" class="axis agents-axis">{v}</text>')
    if rows:
        upper = " ".join(f"{x(i):.1f},{y(r['high']):.1f}" for i, r in enumerate(rows))
        lower = " ".join(f"{x(i):.1f},{y(r['low']):.1f}" for i, r in reversed(list(enumerate(rows))))
        parts.append(f'<polygon points="{upper} {lower}" class="band"/>')
        parts.append('<polyline points="' + " ".join(f"{x(i):.1f},{y(r['expected']):.1f}" for i, r in enumerate(rows))
                     + '" class="expected"/>')
        if "agents" in rows[0]:
            steps = []
            for i, r in enumerate(rows):
                ya = y_agents(r["agents"])
                steps.append(f"{LEFT + i * slot:.1f},{ya:.1f} {LEFT + (i + 1) * slot:.1f},{ya:.1f}")
            parts.append(f'<polyline points="{" ".join(steps)}" class="agents"/>')
    previous = None
    for i, r in enumerate(rows):
        day = dt.date.fromisoformat(r["start"][:10])
        if day != previous:
            previous = day
            x0 = LEFT + i * slot
            parts.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{TOP}" y2="{H - BOTTOM + 4}" class="day"/>'
                         f'<text x="{x0 + 2:.1f}" y="{H - BOTTOM + 16}" class="axis">{DAYS[day.weekday()]} '
                         f'{day.day}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — numbers only, see the module's docstring
