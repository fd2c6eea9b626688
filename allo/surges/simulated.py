"""Topical surges in a simulated run (`allo simulate --surges`; pure: no Django).

The same detector and rule as the live scan (allo/surges/detector.py, the calls' rule),
over the simulated calls' topics (fiche ids of the scenario's mix) and their themes, per quarter hour:
the last hour against the same hour of up to four previous weeks of the run. The simulator's clock is
local time without summer time, so a week is exactly 672 quarters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from allo.forecast import staffing as stf
from allo.surges import detector

QUARTER_S = 900
WINDOW_QUARTERS = 4
SPAN_QUARTERS = 4 * detector.SPAN_HOURS
WEEK_QUARTERS = 7 * 96
BASELINE_WEEKS = 4


@dataclass
class SimSurge:
    dim: str  # "fiche" or "theme"
    key: str
    started: int  # quarter index from the run's start
    ended: int | None = None
    peak_observed: int = 0
    peak_expected: float = 0.0
    peak_ratio: float = 0.0
    extra_agents: int = 0  # the most the excess needed while it lasted

    def to_json(self, start: dt.date) -> dict:
        def at(q):
            return None if q is None else (dt.datetime.combine(start, dt.time()) + dt.timedelta(
                seconds=q * QUARTER_S)).strftime("%Y-%m-%dT%H:%M")

        return {"dim": self.dim, "key": self.key, "start": at(self.started), "end": at(self.ended),
                "peak_observed": self.peak_observed, "peak_expected": round(self.peak_expected, 2),
                "peak_ratio": round(self.peak_ratio, 2), "extra_agents": self.extra_agents}


def detect(arrivals: Iterable[tuple[float, str]], theme_of: Mapping[str, str], inputs: stf.Inputs,
           rule: detector.Rule = detector.CALLS) -> list[SimSurge]:
    """Surges among `arrivals` (seconds from the run's start, topic id), by fiche and by theme, in the
    order they started."""
    keys: dict[tuple[str, str], int] = {}
    rows: list[tuple[int, int, int]] = []  # (quarter, fiche column, theme column)
    for t, topic in arrivals:
        fiche = keys.setdefault(("fiche", topic), len(keys))
        theme = keys.setdefault(("theme", theme_of.get(topic, "")), len(keys))
        rows.append((int(t // QUARTER_S), fiche, theme))
    if not rows:
        return []
    n_q = max(q for q, _, _ in rows) + 1
    pad = SPAN_QUARTERS  # zeros before and after the run: every window is a difference of sums
    counts = np.zeros((n_q + 2 * pad, len(keys)), dtype=np.int64)
    total = np.zeros(n_q + 2 * pad, dtype=np.int64)
    for q, fiche, theme in rows:
        counts[q + pad, fiche] += 1
        counts[q + pad, theme] += 1
        total[q + pad] += 1
    cum = np.vstack([np.zeros((1, len(keys)), dtype=np.int64), np.cumsum(counts, axis=0)])
    index = np.arange(n_q) + pad
    window = cum[index + 1] - cum[index + 1 - WINDOW_QUARTERS]  # window[q]: the hour ending with quarter q
    side = (SPAN_QUARTERS - WINDOW_QUARTERS) // 2  # the quarters either side of that hour in a past week
    span = (cum[index + 1 + side] - cum[index + 1 - WINDOW_QUARTERS - side]) / detector.SPAN_HOURS
    calls_cum = np.concatenate([[0], np.cumsum(total)])
    calls = calls_cum[index + 1] - calls_cum[index + 1 - WINDOW_QUARTERS]
    names = {i: f"{dim}:{key}" for (dim, key), i in keys.items()}
    columns = {name: i for i, name in names.items()}
    active: dict[str, SimSurge] = {}
    found: list[SimSurge] = []
    for q in range(n_q):
        row = window[q]
        candidates = {names[i] for i in np.nonzero(row >= rule.min_count / 2)[0].tolist()} | set(active)
        if not candidates:
            continue
        weeks = [q - k * WEEK_QUARTERS for k in range(1, BASELINE_WEEKS + 1)
                 if q - k * WEEK_QUARTERS - (WINDOW_QUARTERS - 1) - side >= 0]  # only hours inside the run
        if not weeks:
            continue  # the run's first week is its history: a real line has its own (allo history import)
        observed = {name: int(row[columns[name]]) for name in candidates}
        past = {name: [float(span[w, columns[name]]) for w in weeks] for name in candidates}
        for r in detector.scan(observed, past, active, rule):
            surge = active.get(r.key)
            if r.started:
                dim, key = r.key.split(":", 1)
                surge = active[r.key] = SimSurge(dim, key, q)
                found.append(surge)
            if r.surging:
                if r.ratio >= surge.peak_ratio:
                    surge.peak_observed, surge.peak_expected, surge.peak_ratio = r.observed, r.expected, r.ratio
                surge.extra_agents = max(surge.extra_agents,
                                         detector.extra_agents(float(calls[q]), r.observed - r.expected, inputs))
            if r.ended:
                surge.ended = q
                del active[r.key]
    return found
