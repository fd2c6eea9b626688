"""Erlang C (M/M/c) and Erlang A (M/M/c+M, exponential patience) staffing formulas.

No maintained pure-Python library covers both with the figures we need (P(wait), ASA, service
level, abandonment), so these are a few well-tested functions. Numerically stable for hundreds of
agents: Erlang B by its recursion, queue tails by ratios from the Erlang B state (no factorials).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/c/c with `load` Erlangs (iterative, stable)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must be non-negative")
    b = 1.0
    for k in range(1, int(agents) + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (1 when the load reaches the agents)."""
    if load <= 0:
        return 0.0
    if load >= agents:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1 - b))


@dataclass
class QueueFigures:
    p_wait: float
    asa_s: float  # mean wait of answered calls
    service_level: float  # P(answered within target) among offered calls
    occupancy: float
    abandon_rate: float = 0.0
    mean_wait_s: float = 0.0  # mean wait over all calls, abandoned included

    def to_dict(self) -> dict:
        return asdict(self)


def erlang_c_figures(rate_per_hour: float, aht_s: float, agents: int, target_s: float) -> QueueFigures:
    lam = rate_per_hour / 3600.0
    load = lam * aht_s
    if load >= agents:
        return QueueFigures(1.0, math.inf, 0.0, 1.0, 0.0, math.inf)
    pw = erlang_c(agents, load)
    asa = pw * aht_s / (agents - load)
    sl = 1.0 - pw * math.exp(-(agents - load) * target_s / aht_s)
    return QueueFigures(pw, asa, sl, load / agents, 0.0, asa)


def _hypoexp_cdf_all(rates: list[float], t: float) -> list[float]:
    """P(S_k <= t) for every k, S_k = sum of independent Exp(rates[i]) for i = k..0.

    Uniformisation at the largest rate: only positive terms are summed, so it stays stable where
    the closed form with many distinct rates cancels catastrophically.
    """
    n = len(rates)
    if n == 0:
        return []
    big = max(rates)
    lt = big * t
    p = np.asarray(rates, dtype=float) / big  # chance that a uniformised jump completes the stage
    v = np.zeros(n)  # v[k]: P(all stages k..0 done within j jumps)
    cdf = np.zeros(n)
    shifted = np.empty(n)
    mass = 0.0
    j = 0
    limit = lt + 12 * math.sqrt(lt + 1) + 50
    while j <= limit:
        w = math.exp(-lt + j * math.log(lt) - math.lgamma(j + 1)) if lt > 0 else float(j == 0)
        cdf += w * v
        mass += w
        if j > lt and 1.0 - mass < 1e-13:
            break
        shifted[0] = 1.0
        shifted[1:] = v[:-1]
        v = p * shifted + (1.0 - p) * v
        j += 1
    return np.minimum(cdf, 1.0).tolist()


def erlang_a_figures(
    rate_per_hour: float, aht_s: float, agents: int, target_s: float, patience_s: float
) -> QueueFigures:
    """M/M/c+M (Palm / Erlang A). Service level counts calls answered within target among offered.

    Works in log space relative to the state "all agents busy, nobody waiting", so overloads with
    patient callers (queue tails peaking far out) neither overflow nor lose precision.
    """
    if patience_s <= 0 or math.isinf(patience_s):
        return erlang_c_figures(rate_per_hour, aht_s, agents, target_s)
    lam = rate_per_hour / 3600.0
    mu = 1.0 / aht_s
    theta = 1.0 / patience_s
    load = lam / mu
    c = int(agents)
    if c == 0:
        return QueueFigures(1.0, math.inf, 0.0, 0.0, 1.0, patience_s)
    b = erlang_b(c, load)
    if b == 0.0:  # so many agents that nobody ever waits (Erlang B underflows)
        return QueueFigures(0.0, 0.0, 1.0, load / c, 0.0, 0.0)
    cmu = c * mu
    # log of the relative probability of k callers waiting (k = 0: all busy, none waiting):
    # sum_{i=1..k} log(lam / (c mu + i theta)); grown until it has peaked and fallen by e^-40
    n = 1024
    while True:
        j = np.arange(1, n + 1, dtype=float)
        logs = np.concatenate(([0.0], np.cumsum(np.log(lam / (cmu + j * theta)))))
        top = logs.max()
        if logs[-1] < top - 40.0 and lam < cmu + n * theta:
            break
        if n >= 1 << 20:
            # practically unbounded queue (overload, near-infinite patience): fluid limit
            return QueueFigures(1.0, math.inf, 0.0, 1.0, max(0.0, 1.0 - cmu / lam), math.inf)
        n *= 2
    log_low = -math.log(b)  # sum over states with an idle agent or just full, relative to "full"
    m = max(top, log_low)
    w = np.exp(logs - m)  # scaled probabilities of finding k waiting (k = 0..n)
    idle = math.exp(math.log1p(-b) - math.log(b) - m) if b < 1.0 else 0.0  # arrivals served at once
    total = idle + w.sum()
    w = w / total
    idle /= total
    p_wait = min(1.0, float(w.sum()))
    k = np.arange(len(w), dtype=float)
    mean_queue = float((k * w).sum())  # E[number waiting] (PASTA: time average = arrival view)
    p_abandon = theta * mean_queue / lam
    mean_wait = mean_queue / lam
    # an arrival finding k waiting is answered if each of its k+1 stages (those ahead leave at
    # c mu + i theta, i = k..0) ends before its own patience; stages last Exp(c mu + i theta + theta)
    rates = cmu + k * theta + theta
    served_given_k = np.cumprod((cmu + k * theta) / rates)
    mean_wait_given_k = np.cumsum(1.0 / rates)
    answered_waiting = float((w * served_given_k).sum())
    p_answered = idle + answered_waiting
    asa = float((w * served_given_k * mean_wait_given_k).sum()) / p_answered if p_answered > 0 else math.inf
    # the waiting-time law matters only where probability is: cut the negligible tail
    mass = w * served_given_k
    keep = int(np.nonzero(mass > 1e-15)[0].max()) + 1 if (mass > 1e-15).any() else 0
    within = 0.0
    if keep and target_s > 0:
        cdf = np.asarray(_hypoexp_cdf_all(rates[:keep].tolist(), target_s))
        within = float((mass[:keep] * cdf).sum())
    sl = min(1.0, idle + within)
    occupancy = min(1.0, lam * (1 - p_abandon) / cmu)
    return QueueFigures(p_wait, float(asa), sl, occupancy, p_abandon, mean_wait)


def figures(rate_per_hour: float, aht_s: float, agents: int, target_s: float,
            patience_s: float | None = None) -> QueueFigures:
    if patience_s:
        return erlang_a_figures(rate_per_hour, aht_s, agents, target_s, patience_s)
    return erlang_c_figures(rate_per_hour, aht_s, agents, target_s)


def agents_needed(rate_per_hour: float, aht_s: float, target_s: float, service_level: float,
                  patience_s: float | None = None, max_occupancy: float = 1.0, limit: int = 10000) -> int:
    """Fewest agents reaching the service level (and below max occupancy)."""
    if rate_per_hour <= 0:
        return 0
    load = rate_per_hour * aht_s / 3600.0
    n = max(1, math.floor(load) + (0 if patience_s else 1))
    while n <= limit:
        f = figures(rate_per_hour, aht_s, n, target_s, patience_s)
        if f.service_level >= service_level and load / n <= max_occupancy:
            return n
        n += 1
    raise ValueError("no staffing within the limit reaches the target")
