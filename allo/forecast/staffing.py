"""Agents needed per interval for a forecast (pure: no Django).

Erlang A (M/M/c+M: callers abandon after an exponential patience, allo/simulation/erlang.py) gives the
fewest agents on the phones reaching the service-level target within T seconds; shrinkage (breaks,
training, absence: the share of paid time off the phones) turns them into agents to schedule:
scheduled = ceil(on the phones / (1 - shrinkage)). Without a measured patience (no abandon in the
history), Erlang C: callers never leave, the cautious side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from allo.simulation import erlang as erl


@dataclass(frozen=True)
class Inputs:
    aht_s: float  # mean handle time (talk + wrap-up)
    patience_s: float | None  # mean caller patience; None: Erlang C
    target: float  # service level to reach, 0-1
    target_s: float  # answered within this many seconds
    shrinkage: float  # 0-1


@dataclass
class Need:
    calls: float  # expected in the interval
    rate_per_hour: float
    load_erlangs: float
    agents: int  # on the phones
    scheduled: int  # with shrinkage
    service_level: float
    asa_s: float
    abandon_rate: float
    occupancy: float


@lru_cache(maxsize=4096)
def _agents(rate: float, aht_s: float, target_s: float, target: float, patience_s: float | None) -> tuple:
    n = erl.agents_needed(rate, aht_s, target_s, target, patience_s)
    f = erl.figures(rate, aht_s, n, target_s, patience_s)
    return n, f.service_level, f.asa_s, f.abandon_rate, f.occupancy


def need(calls: float, interval_min: int, inputs: Inputs) -> Need:
    rate = calls * 60.0 / interval_min
    if rate <= 0:
        return Need(0.0, 0.0, 0.0, 0, 0, 1.0, 0.0, 0.0, 0.0)
    # rates rounded to a tenth of a call an hour: the same figures, and a month of intervals computes
    # each distinct rate once (a call of agents_needed costs ~5 ms)
    n, sl, asa, abandon, occupancy = _agents(round(rate, 1), inputs.aht_s, inputs.target_s, inputs.target,
                                             inputs.patience_s)
    scheduled = math.ceil(n / (1.0 - inputs.shrinkage) - 1e-9)
    return Need(calls, rate, rate * inputs.aht_s / 3600.0, n, scheduled, sl, asa, abandon, occupancy)
