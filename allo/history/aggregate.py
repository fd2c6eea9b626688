"""Stored KPI bins from call legs (pure: numpy, no Django import).

Every leg adds to counters (`COUNTERS`) in bins of 15 minutes of local time, rolled up per hour,
day, ISO week (from Monday) and month. Per dimension: `all` (the line: level-1 legs), `queue`,
`centre` in every grain; `destination`, `theme`, `origin`, `fiche` (level-1 legs) and `agent` per day,
week and month (per 15 minutes they would be mostly empty bins). The KPIs of any sum of bins come from
`figures`, through allo.routing.kpi's functions: one definition of each.

A leg is counted within the threshold of its own level (`threshold`: kpi's, 20 s at N1, 60 s at N2): the
bins of an N2 queue or centre give the N2 service level the wallboard shows (`service_level_n2_by_queue`),
and Asterisk's ServicelevelPerf/Perf2 there use the same T, as app_queue uses each queue's own
`servicelevel`. The line (`all`) and the level-1 dimensions hold level-1 legs only (T = 20 s).

Grouping is numpy's (np.unique + np.bincount): a year of 1.2 M legs aggregates in a few seconds,
where a Python loop adding vectors per dimension took about a minute.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterator

import numpy as np

from allo.routing import kpi

T = kpi.SERVICE_LEVEL_S  # the N1 service level's threshold, also Asterisk's figures' T at N1
SHORT = kpi.SHORT_ABANDON_S
COUNTERS = ("offered", "answered", "answered_t", "abandoned", "abandoned_short", "abandoned_t", "wait_s",
            "handled", "talk_s", "wrap_s")
DIMS = ("all", "queue", "centre", "destination", "theme", "origin", "fiche", "agent")
FINE_DIMS = ("all", "queue", "centre")  # also per 15 minutes and per hour
LEVEL1_DIMS = ("all", "destination", "theme", "origin", "fiche")  # one leg per call: no double count of transfers
GRAINS = ("15m", "1h", "1d", "1w", "1M")
ANSWERED, ABANDONED, OTHER = 0, 1, 2
OUTCOME_CODES = {"answered": ANSWERED, "abandoned": ABANDONED, "other": OTHER}


class Columns:
    """Legs as columns (strings coded as ints per dimension): a year of legs in tens of MB."""

    STR_DIMS = ("queue", "centre", "destination", "theme", "origin", "fiche", "agent")

    def __init__(self):
        self.day, self.slot, self.level, self.outcome = array("i"), array("b"), array("b"), array("b")
        self.waited, self.talk, self.wrap = array("d"), array("d"), array("d")
        self.codes: dict[str, dict[str, int]] = {d: {"": 0} for d in self.STR_DIMS}
        self.keys: dict[str, array] = {d: array("i") for d in self.STR_DIMS}

    def __len__(self) -> int:
        return len(self.day)

    def add(self, local: dt.datetime, level: int, outcome: str, waited: float, talk: float | None, wrap: float,
            **keys: str) -> None:
        self.day.append(local.toordinal())
        self.slot.append((local.hour * 60 + local.minute) // 15)
        self.level.append(level)
        self.outcome.append(OUTCOME_CODES[outcome])
        self.waited.append(waited)
        self.talk.append(np.nan if talk is None else talk)
        self.wrap.append(wrap or 0.0)
        for dim in self.STR_DIMS:
            codes = self.codes[dim]
            value = keys.get(dim) or ""
            code = codes.get(value)
            if code is None:
                code = codes[value] = len(codes)
            self.keys[dim].append(code)


def threshold(level: int) -> float:
    """The service level's T of a level's legs (allo.routing.kpi's definition)."""
    return kpi.service_level_threshold(level)


StatRow = tuple  # (grain, dim, key, period: date, slot, *COUNTERS)


def aggregate(cols: Columns) -> Iterator[StatRow]:
    """Every bin of every grain and dimension that holds at least one leg."""
    n = len(cols)
    if not n:
        return
    day = np.frombuffer(cols.day, dtype=np.int32).astype(np.int64)
    slot = np.frombuffer(cols.slot, dtype=np.int8).astype(np.int64)
    level = np.frombuffer(cols.level, dtype=np.int8)
    outcome = np.frombuffer(cols.outcome, dtype=np.int8)
    waited = np.frombuffer(cols.waited, dtype=np.float64)
    talk = np.frombuffer(cols.talk, dtype=np.float64)
    wrap = np.frombuffer(cols.wrap, dtype=np.float64)
    answered = outcome == ANSWERED
    abandoned = outcome == ABANDONED
    handled = answered & ~np.isnan(talk)
    limit = np.where(level == 1, threshold(1), threshold(2))  # each leg's T, by its level
    values = np.stack([
        np.ones(n), answered, answered & (waited <= limit), abandoned, abandoned & (waited < SHORT),
        abandoned & (waited <= limit), np.where(answered, waited, 0.0), handled, np.where(handled, talk, 0.0), wrap,
    ]).astype(np.float64)

    day0 = int(day.min())
    ndays = int(day.max()) - day0 + 1
    # local day offset -> its week's Monday and its month's first day (ordinals)
    dates = [dt.date.fromordinal(day0 + i) for i in range(ndays)]
    week_of = np.array([d.toordinal() - d.weekday() for d in dates], dtype=np.int64)
    month_of = np.array([d.replace(day=1).toordinal() for d in dates], dtype=np.int64)
    dayoff = day - day0
    level1 = level == 1

    for dim in DIMS:
        if dim == "all":
            key, names = np.zeros(n, dtype=np.int64), [""]
            mask = level1
        else:
            key = np.frombuffer(cols.keys[dim], dtype=np.int32).astype(np.int64)
            names = list(cols.codes[dim])  # insertion order = code
            mask = key != 0
            if dim in LEVEL1_DIMS:
                mask = mask & level1
        if not mask.any():
            continue
        k, d, s, v = key[mask], dayoff[mask], slot[mask], values[:, mask]
        if dim in FINE_DIMS:
            yield from _grouped("15m", dim, names, (k, d, s), v, day0)
            yield from _grouped("1h", dim, names, (k, d, s // 4), v, day0)
        yield from _grouped("1d", dim, names, (k, d, np.zeros_like(s)), v, day0)
        yield from _grouped("1w", dim, names, (k, week_of[d] - day0, np.zeros_like(s)), v, day0)
        yield from _grouped("1M", dim, names, (k, month_of[d] - day0, np.zeros_like(s)), v, day0)


def _grouped(grain, dim, names, parts, v, day0) -> Iterator[StatRow]:
    k, d, s = parts
    base = int(d.min())  # negative for a week that starts before the first day
    span = int(d.max()) - base + 1
    composite = (k * span + (d - base)) * 96 + s
    uniq, inverse = np.unique(composite, return_inverse=True)
    sums = np.stack([np.bincount(inverse, weights=row, minlength=len(uniq)) for row in v])
    for i, c in enumerate(uniq.tolist()):
        rest, slot_ = divmod(c, 96)
        key_code, doff = divmod(rest, span)
        counters = sums[:, i].tolist()
        yield (grain, dim, names[key_code], dt.date.fromordinal(day0 + base + doff), slot_,
               *(round(x, 3) if j in (6, 8, 9) else int(x) for j, x in enumerate(counters)))


def add(total: list[float], counters) -> list[float]:
    for i, x in enumerate(counters):
        total[i] += x
    return total


def figures(c) -> dict[str, float | None]:
    """The KPIs of a counter vector (one bin or a sum of bins), through allo.routing.kpi's functions."""
    (offered, answered, answered_t, abandoned, abandoned_short, abandoned_t, wait_s, handled, talk_s,
     wrap_s) = c
    out = kpi.counted_figures(arrived=int(offered), closed=0, answered=int(answered), answered_within=int(answered_t),
                              waited_total=wait_s, abandoned=int(abandoned), abandoned_short=int(abandoned_short))
    return {
        "offered": out["offered"],
        "answered": out["answered"],
        "abandoned": out["abandoned"],
        "abandoned_short": out["abandoned_short"],
        "abandon_rate": out["abandon_rate"],
        "asa_s": out["asa_s"],
        "service_level": out["service_level"],
        "aht_s": kpi.handle_time(talk_s, wrap_s, handled),
        "servicelevel_perf": kpi.servicelevel_perf(answered_t, answered),
        "servicelevel_perf2": kpi.servicelevel_perf2(answered_t, abandoned_t, answered, abandoned),
    }
