"""Topical surges (pure: no Django, no clock, no I/O): is a fiche or a theme asked far more than usual?

For one signal (calls from wrap-ups, portal searches, portal views) and one key (a fiche id or a theme
slug), `observed` is the count over the last hour and `past` the hourly counts around the same hour
of the week in the previous weeks (that hour and the one either side, `SPAN_HOURS`, averaged). The
expected count is their mean, the highest week left out when three or more are known, never below a
floor:

- the same hours of the week carry the week's and the day's shape (Monday morning is not Friday
  evening) without fitting a model per key: there are thousands of fiches, most seen a few times a
  week, and a seasonal model on such sparse counts is mostly noise (the queue-level forecast,
  allo/forecast, has the volume for one);
- three hours a week, not one: a fiche asked 4 times an hour is asked 2 or 6 times in many hours, and
  a baseline of single hours made the simulator's month (allo simulate --surges) find dozens of
  surges that were only chance; with three hours over three weeks they are gone;
- the highest week left out: one past week that was itself a surge (a deadline, a news item) does not
  raise what is expected of the next weeks;
- the floor: a fiche never asked before is expected 0 times, and any count would be an infinite
  ratio; with the floor the ratio stays a figure a person can read.

A surge starts when observed >= `ratio` x expected, observed >= `min_count` (3 calls instead of 1
is a ratio of 3, not a surge) and the difference is unlikely to be chance (<= `p_max`: thousands of
keys are read every quarter hour, so a 1-in-1,000 chance would come up several times a day). Chance
is that of the exact test comparing two Poisson rates (the last hour's count given the baseline
hours' counts is binomial): it counts the baseline's own noise, which with one week of history made
the simulator's month find a few surges a plain Poisson tail at the baseline's mean did not rule
out; without any past week, the Poisson tail at the floor. It lasts while observed >= `end_ratio` x expected and observed >= half of
`min_count`: the lower bar keeps a surge hovering around the threshold from starting and ending at
every scan.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from scipy.stats import binom, poisson

from allo.forecast import staffing as stf

SPAN_HOURS = 3  # the baseline per past week: the same hour and the one either side


@dataclass(frozen=True)
class Rule:
    ratio: float = 3.0
    end_ratio: float = 1.5
    min_count: int = 10
    floor: float = 1.0  # the least expected count over the window
    p_max: float = 1e-5  # the most a start may owe to chance at the expected rate


# ASSUMPTIONS, per signal (docs/surges.md): a fiche cited in 10 calls in an hour is worth a
# supervisor's look on a line of ~100,000 calls a month (~400 an hour at the peak); the portal's
# counts are larger and noisier (one reader opens a fiche twice), so their bar is higher.
CALLS = Rule(ratio=3.0, end_ratio=1.5, min_count=10, floor=1.0)
SEARCHES = Rule(ratio=3.0, end_ratio=1.5, min_count=20, floor=2.0)
VIEWS = Rule(ratio=3.0, end_ratio=1.5, min_count=30, floor=3.0)


@dataclass(frozen=True)
class Reading:
    key: str
    observed: int
    expected: float
    ratio: float  # observed / expected
    surging: bool  # after this reading
    started: bool = False  # was not surging before
    ended: bool = False  # was surging before, no longer


def _used(past: Sequence[float]) -> list[float]:
    """The past weeks the baseline uses: the highest left out from three weeks on."""
    return sorted(past)[:-1] if len(past) >= 3 else list(past)


def expected(past: Sequence[float], rule: Rule) -> float:
    """What the window should hold: the mean of the previous weeks known (hourly counts), the highest
    left out from three weeks on, at least the floor (the floor alone without any past week)."""
    used = _used(past)
    return max(rule.floor, statistics.fmean(used)) if used else rule.floor


def chance(observed: int, past: Sequence[float], rule: Rule) -> float:
    """How likely a count of `observed` or more is when the rate has not changed: given the baseline
    hours' total b over n hours, the last hour's share of observed + b is binomial(1 / (n + 1));
    without a past week, the Poisson tail at the floor."""
    used = _used(past)
    if not used:
        return float(poisson.sf(observed - 1, rule.floor))
    hours = len(used) * SPAN_HOURS
    baseline = round(sum(used) * SPAN_HOURS)
    return float(binom.sf(observed - 1, observed + baseline, 1.0 / (hours + 1)))


def assess(key: str, observed: int, past: Sequence[float], active: bool, rule: Rule) -> Reading:
    exp = expected(past, rule)
    ratio = observed / exp
    if active:
        surging = ratio >= rule.end_ratio and observed >= rule.min_count / 2
    else:
        surging = ratio >= rule.ratio and observed >= rule.min_count and chance(observed, past, rule) <= rule.p_max
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
