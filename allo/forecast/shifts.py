"""A week's shift plan covering the agents needed per interval, from shift templates, with OR-Tools' CP-SAT;
and its check by simulation through the routing engine (pure: no Django).

The plan: how many agents start each template on each day. Variables x[d, t] >= 0 (template t exists on
day d's weekday); for every interval s of day d, the agents on shift (sum of the templates covering s)
plus a shortfall cover the agents to schedule; minimise paid minutes plus a penalty per agent-interval
short (ten times the longest shift's pay: coverage first, then cost). Days are independent, so this is
one model of seven small blocks. Shortfalls are reported (an interval no template covers, say).

The check: the forecast's calls (Poisson per interval), exponential handle times and patience, fed to
`allo.routing.engine.Engine` through the simulators' `EventLoop`; the agents on the phones follow the
plan (agents on shift x (1 - shrinkage), rounded down), logging in and out at interval boundaries (a
logout asked during a call waits for its end, as the engine does); the KPI collector gives the service
level per day and for the week, with the one definition of allo/routing/kpi.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Template:
    name: str
    start_slot: int  # first interval of the day it covers
    end_slot: int  # first interval it no longer covers
    days: frozenset[int]  # weekdays (0 = Monday)
    paid_minutes: int


@dataclass
class Plan:
    status: str  # optimal, feasible, infeasible
    starts: list[dict[str, int]]  # per day: template name -> agents
    on_shift: list[np.ndarray]  # per day: agents on shift per interval
    short: list[np.ndarray]  # per day: agents missing per interval
    paid_hours: float
    wall_s: float = 0.0
    objective: float = 0.0
    notes: list[str] = field(default_factory=list)


def plan_week(need: list[np.ndarray], weekdays: list[int], templates: list[Template],
              time_limit_s: float = 10.0, workers: int = 2) -> Plan:
    """`need[d][s]`: agents to schedule in interval s of day d (weekday `weekdays[d]`)."""
    import time

    from ortools.sat.python import cp_model

    started = time.perf_counter()
    m = cp_model.CpModel()
    penalty = 10 * max([t.paid_minutes for t in templates] + [60])
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    shorts: dict[tuple[int, int], cp_model.IntVar] = {}
    cost = []
    for d, row in enumerate(need):
        top = int(max(row.max(initial=0), 0))
        for k, t in enumerate(templates):
            if weekdays[d] in t.days and top > 0 and row[t.start_slot:t.end_slot].max(initial=0) > 0:
                x[d, k] = m.new_int_var(0, top, f"x_{d}_{k}")
                cost.append(t.paid_minutes * x[d, k])
        for s, n in enumerate(row.tolist()):
            n = int(n)
            if n <= 0:
                continue
            covering = [x[d, k] for k, t in enumerate(templates) if (d, k) in x and t.start_slot <= s < t.end_slot]
            shorts[d, s] = m.new_int_var(0, n, f"short_{d}_{s}")
            m.add(sum(covering) + shorts[d, s] >= n)
            cost.append(penalty * shorts[d, s])
    m.minimize(sum(cost))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 1
    code = solver.solve(m)
    status = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible"}.get(code, "infeasible")
    starts, on_shift, short = [], [], []
    paid = 0.0
    for d, row in enumerate(need):
        day_starts: dict[str, int] = {}
        cover = np.zeros(len(row), dtype=int)
        for k, t in enumerate(templates):
            if (d, k) in x and status != "infeasible":
                n = int(solver.value(x[d, k]))
                if n:
                    day_starts[t.name] = n
                    cover[t.start_slot:t.end_slot] += n
                    paid += n * t.paid_minutes / 60
        starts.append(day_starts)
        on_shift.append(cover)
        short.append(np.maximum(np.asarray(row, dtype=int) - cover, 0))
    objective = solver.objective_value if status != "infeasible" else math.nan
    return Plan(status, starts, on_shift, short, paid, time.perf_counter() - started, objective)


# ---------------------------------------------------------------------------------------------- check

@dataclass
class Check:
    service_level: float | None
    abandon_rate: float | None
    asa_s: float | None
    offered: int
    per_day: list[dict]


def simulate_plan(expected: list[np.ndarray], on_phones: list[np.ndarray], interval_min: int, aht_s: float,
                  patience_s: float | None, seed: int = 1) -> Check:
    """The week through the engine: `expected[d][s]` calls and `on_phones[d][s]` agents per interval."""
    from allo.routing.engine import Engine
    from allo.routing.events import (
        AgentLogin,
        AgentLogout,
        Assign,
        CallEnded,
        CallerHungUp,
        ContactArrived,
        Queued,
    )
    from allo.routing.kpi import SERVICE_LEVEL_S, KpiCollector
    from allo.simulation.runner import EventLoop, mmc_config

    width = interval_min * 60.0
    rng = np.random.default_rng(seed)
    most = max([int(a.max(initial=0)) for a in on_phones] + [1])
    engine = Engine(mmc_config(most))
    kpi = KpiCollector(interval_s=86400.0, target_s=SERVICE_LEVEL_S)
    times: list[float] = []
    for d, row in enumerate(expected):
        counts = rng.poisson(np.maximum(row, 0))
        for s, n in enumerate(counts.tolist()):
            t0 = d * 86400.0 + s * width
            times.extend((t0 + rng.random(n) * width).tolist())
    times.sort()
    n_calls = len(times)
    service = rng.exponential(aht_s, n_calls).tolist()
    patience = rng.exponential(patience_s, n_calls).tolist() if patience_s else None
    answered = bytearray(n_calls)
    loop: EventLoop

    def hang_up(t: float, cid: int):
        return None if answered[cid] else CallerHungUp(t, cid)

    def on_assign(d: Assign) -> None:
        answered[d.contact] = 1
        te = d.t + service[d.contact]
        loop.at(te, CallEnded(te, d.contact, None, d.agent, wrap_up=False))

    def on_queued(d: Queued) -> None:
        loop.check_at(d.t + patience[d.contact], hang_up, d.contact)

    handlers = {Assign: on_assign}
    if patience is not None:
        handlers[Queued] = on_queued
    loop = EventLoop(engine, kpi, handlers)
    agents = list(engine.agents)
    logged = 0
    for d, row in enumerate(on_phones):
        for s, n in enumerate(np.asarray(row, dtype=int).tolist() + [0]):
            t = d * 86400.0 + s * width
            while logged < n:
                loop.at(t, AgentLogin(t, agents[logged]))
                logged += 1
            while logged > n:
                logged -= 1
                loop.at(t, AgentLogout(t, agents[logged]))
            if s == len(row):
                break
    loop.run(times, lambda i, t: ContactArrived(t, i, "mmc"))
    per_day = []
    for d in range(len(expected)):
        b = kpi.bins.get(d)
        f = kpi.figures(b) if b else {}
        per_day.append({"offered": int(f.get("offered") or 0), "service_level": f.get("service_level"),
                        "abandon_rate": f.get("abandon_rate"), "asa_s": f.get("asa_s")})
    s = kpi.summary()
    return Check(s.get("service_level"), s.get("abandon_rate"), s.get("asa_s"), int(s.get("offered") or 0), per_day)
