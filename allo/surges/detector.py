"""Topical surges (pure: no Django, no clock, no I/O): is a fiche or a theme asked far more than usual?

For one signal (calls from wrap-ups, portal searches, portal views) and one key (a fiche id or a theme
slug), `observed` is the count over the last hour and `past` the counts over the same hour of the week
in the previous weeks. The expected count is their median, never below a floor:

- the same hour of the week carries the week's and the day's shape (Monday morning is not Friday
  evening) without fitting a model per key: there are thousands of fiches, most seen a few times a
  week, and a seasonal model on such sparse counts is mostly noise (the queue-level forecast,
  allo/forecast, has the volume for one);
- the median, not the mean: one past week that was itself a surge (a deadline, a news item) does not
  raise what is expected of the next weeks;
- the floor: a fiche never asked before has a median of 0, and any count over 0 would be an infinite
  ratio; with the floor the ratio stays a figure a person can read.

A surge starts when observed >= `ratio` x expected and observed >= `min_count` (3 calls instead of 1
is a ratio of 3, not a surge). It lasts while observed >= `end_ratio` x expected and observed >=
half of `min_count`: the lower bar keeps a surge hovering around the threshold from starting and
ending at every scan.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from allo.forecast import staffing as stf


@dataclass(frozen=True)
class Rule:
    ratio: float = 3.0
    end_ratio: float = 1.5
    min_count: int = 10
    floor: float = 1.0  # the least expected count over the window


@dataclass(frozen=True)
class Reading:
    key: str
    observed: int
    expected: float
    ratio: float  # observed / expected
    surging: bool  # after this reading
    started: bool = False  # was not surging before
    ended: bool = False  # was surging before, no longer


def expected(past: Sequence[float], rule: Rule) -> float:
    """What the window should hold: the median of the same window in the previous weeks known, at
    least the floor (the floor alone without any past week)."""
    return max(rule.floor, statistics.median(past)) if past else rule.floor


def assess(key: str, observed: int, past: Sequence[float], active: bool, rule: Rule) -> Reading:
    exp = expected(past, rule)
    ratio = observed / exp
    if active:
        surging = ratio >= rule.end_ratio and observed >= rule.min_count / 2
    else:
        surging = ratio >= rule.ratio and observed >= rule.min_count
    return Reading(key, observed, exp, ratio, surging, started=surging and not active, ended=active and not surging)


def scan(observed: Mapping[str, int], past: Mapping[str, Sequence[float]], active: Iterable[str],
         rule: Rule) -> list[Reading]:
    """A reading for every key seen in the window or surging before (which may end with no count at
    all), by key."""
    active = set(active)
    return [assess(key, observed.get(key, 0), past.get(key, ()), key in active, rule)
            for key in sorted(set(observed) | active)]


def extra_agents(base_per_hour: float, excess_per_hour: float, inputs: stf.Inputs) -> int:
    """Agents on the phones the excess needs: Erlang A's need with the line's current arrivals
    against its need without the excess (allo/forecast/staffing.py, the staffing plan's own
    computation)."""
    if excess_per_hour <= 0:
        return 0
    base = max(base_per_hour, excess_per_hour)  # the calls counted now include the surge's
    with_surge = stf.need(base, 60, inputs).agents
    without = stf.need(base - excess_per_hour, 60, inputs).agents
    return max(0, with_surge - without)


def window_ratio(observed: int, exp: float) -> float:
    """The ratio rounded for people: one decimal below 10, whole numbers above."""
    ratio = observed / exp if exp else math.inf
    return round(ratio, 1) if ratio < 10 else float(round(ratio))
