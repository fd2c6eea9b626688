"""Discrete-event runner: generated traffic drives the routing engine, KPIs come from its log.

The runner plays the world around the engine (callers, agents' conversations, timers) and owns
the only clock: a heapq of (time, seq, kind, payload). The engine is the very one the live desks
use; the runner only turns its decisions into future events (a call's end, a hang-up, a timer).
"""

from __future__ import annotations

import datetime as dt
import heapq
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from allo.routing.engine import Engine
from allo.routing.events import (
    AgentLogin,
    AgentLogout,
    AgentStateChanged,
    Assign,
    CallbackAnswer,
    CallbackScheduled,
    CallEnded,
    CallerHungUp,
    ContactArrived,
    ContactEnded,
    ProposeCallback,
    Queued,
    TimerFired,
    TimerRequest,
    WrapUpEnded,
)
from allo.routing.kpi import KpiCollector
from allo.routing.model import AgentConfig, AgentState, CentreConfig, EngineConfig, QueueConfig
from allo.simulation.erlang import agents_needed
from allo.simulation.scenario import Scenario
from allo.simulation.traffic import TrafficModel, lognormal_mean

DAY = 86400.0
TICK_S = 900.0  # staffing changes and queue samples every 15 min (opening hours are on quarters)
_EV, _HANG, _TICK = 0, 1, 2
# per-contact attribute slots in the runner's `live` table
TALK1, TALK2, PAT1, PAT2, DOMAIN, TOPIC, ACCEPT, REACHED, TOKEN, HANG_LEVEL, IS_CB = range(11)
WRAP_UP = AgentState.WRAP_UP


@dataclass
class SimResult:
    summary: dict
    kpi: KpiCollector
    events: int
    calls: int
    wall_s: float
    days: int
    start: dt.date | None = None
    in_progress: int = 0
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        s = self.summary
        out = {
            "calls": self.calls,
            "service_level": s["service_level"],
            "asa_s": s["asa_s"],
            "abandon_rate": s["abandon_rate"],
            "aht_n1_s": s["aht_n1_s"],
            "n1_under_3min": s["n1_under_3min"],
            "transfer_rate": s["transfer_rate"],
            "p_wait": s["p_wait"],
            "events": self.events,
            "wall_s": round(self.wall_s, 3),
            "events_per_s": round(self.events / self.wall_s) if self.wall_s > 0 else None,
        }
        out.update({k: v for k, v in s.items() if k not in out})
        out["in_progress"] = self.in_progress
        out.update(self.extra)
        return out

    def monthly(self) -> list[dict]:
        """KPIs per calendar month (a year's run)."""
        epoch = dt.datetime.combine(self.start or dt.date(2026, 1, 1), dt.time())
        months: dict[str, list[int]] = {}
        width = self.kpi.width
        for key in self.kpi.bins:
            month = (epoch + dt.timedelta(seconds=key * width)).strftime("%Y-%m")
            months.setdefault(month, []).append(key)
        return [{"month": m, **self.kpi.figures(self.kpi.totals(keys), width * len(keys))}
                for m, keys in sorted(months.items())]

    def series(self, interval_s: float) -> list[dict]:
        """KPIs per interval (900/1800/3600 s) or per day (86400), with local start times."""
        epoch = dt.datetime.combine(self.start or dt.date(2026, 1, 1), dt.time())
        fmt = "%Y-%m-%d" if interval_s >= DAY else "%Y-%m-%dT%H:%M"
        rows = []
        for t, f in self.kpi.series(interval_s):
            if not f["offered"] and not f["agents_logged_n1"]:
                continue  # closed hours
            rows.append({"start": (epoch + dt.timedelta(seconds=t)).strftime(fmt), **f})
        return rows


def build_config(scn: Scenario) -> EngineConfig:
    aht1 = lognormal_mean(scn.talk1_median, scn.talk1_p90) + scn.wrap1
    aht2 = lognormal_mean(scn.talk2_median, scn.talk2_p90) + scn.wrap2
    centres = [CentreConfig("line", "Plateau N1", hours=scn.n1_hours)]
    queues = [QueueConfig("n1", "line", 1, aht_s=aht1)]
    n1_skills = {"n1": 1}
    agents = []
    if scn.overflow_after_s is not None and scn.partner_agents > 0:
        centres.append(CentreConfig("partner", "Plateau partenaire", hours=scn.n1_hours))
        queues[0].overflow_to = "n1-partner"
        queues[0].overflow_after_s = scn.overflow_after_s
        queues.append(QueueConfig("n1-partner", "partner", 1, aht_s=aht1))
        n1_skills["n1-partner"] = 2  # the main team also takes overflowed calls, after its own
    agents += [AgentConfig(f"n1-{i:03d}", "line", 1, dict(n1_skills)) for i in range(scn.n1_agents)]
    agents += [AgentConfig(f"partner-{i:03d}", "partner", 1, {"n1-partner": 1}) for i in range(scn.partner_agents)
               if scn.overflow_after_s is not None]
    destinations: dict[str, list[str]] = {}
    for c in scn.n2_centres:
        centres.append(CentreConfig(c.id, c.name, hours=c.hours, subdivision=c.subdivision))
        queues.append(QueueConfig(c.id, c.id, 2, aht_s=aht2, max_wait_s=scn.max_wait2))
        agents += [AgentConfig(f"{c.id}-{i:02d}", c.id, 2, {c.id: 1}) for i in range(c.agents)]
        destinations.setdefault(c.domain, []).append(c.id)
    if "cira" in destinations:
        destinations["*"] = destinations["cira"]
    else:
        destinations["*"] = [c.id for c in scn.n2_centres]
    return EngineConfig(centres, queues, agents, destinations, epoch=f"{scn.start.isoformat()}T00:00:00")


class _Staffing:
    """Agents on the phones per 15 min: N1 by Erlang C on the forecast (capped), N2 all day."""

    def __init__(self, scn: Scenario, traffic: TrafficModel):
        self.scn = scn
        self.traffic = traffic
        self.cap = int(scn.n1_agents * scn.on_phone_share)
        self.aht1 = lognormal_mean(scn.talk1_median, scn.talk1_p90) + scn.wrap1
        self._cache: dict[int, int] = {}

    def n1(self, day: dt.date, second: float) -> int:
        if self.scn.staffing == "fixed":
            return self.cap
        # the forecast ignores topical peaks: planners do not see them coming
        rate = self.traffic.rate_per_hour(day, second + TICK_S / 2)
        key = round(rate)
        need = self._cache.get(key)
        if need is None:
            need = self._cache[key] = agents_needed(key, self.aht1, self.scn.sl_seconds, self.scn.sl_target)
        return min(self.cap, need)


def simulate(
    scn: Scenario,
    seed: int | None = None,
    days: int | None = None,
    calls: int | None = None,
    progress: bool = False,
    sink: Callable | None = None,
) -> SimResult:
    """Simulate the scenario; `sink`, if given, receives every event and decision (the engine log)."""
    wall0 = time.perf_counter()
    traffic = TrafficModel(scn, days, calls)
    n_days = traffic.days
    config = build_config(scn)
    engine = Engine(config)
    kpi = KpiCollector(interval_s=scn.interval_minutes * 60.0, target_s=scn.sl_seconds)
    staffing = _Staffing(scn, traffic)
    rng = np.random.default_rng(seed)
    hours_by_centre = {c.id: c.opening_hours() for c in config.centres}
    groups: dict[str, list[str]] = {}
    for a in config.agents:
        groups.setdefault(a.centre, []).append(a.id)
    logged = dict.fromkeys(groups, 0)
    n2_size = {c.id: c.agents for c in scn.n2_centres}
    topic_ids = [t.id for t in scn.topics]
    domains = traffic.domains
    wrap = {1: scn.wrap1, 2: scn.wrap2}
    n1_queue = engine.queues["n1"]

    heap: list = []
    push, pop = heapq.heappush, heapq.heappop
    handle = engine.handle
    feed_many = kpi.feed_many
    kpi_arrived = kpi._arrived  # the only event the KPIs need; decisions go through feed_many
    live: dict[int, list] = {}
    seq = 0
    next_id = 0
    n_events = 0
    n_decisions = 0
    n_calls = 0
    n_web = 0

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_days, unit="day", file=sys.stderr, desc="simulate", leave=False)

    for di in range(n_days):
        day = traffic.day(di)
        base = di * DAY
        end = base + DAY
        today = {cid: h.ranges_on(day) if h is not None else None for cid, h in hours_by_centre.items()}
        for k in range(int(DAY // TICK_S)):
            push(heap, (base + k * TICK_S, seq, _TICK, k))
            seq += 1
        dtr = traffic.generate_day(day, rng)
        times, d_topic, d_transfer, d_web = dtr.times, dtr.topic, dtr.transfer, dtr.web
        n = len(times)
        n_calls += n
        i = 0
        while True:
            if i < n and (not heap or base + times[i] < heap[0][0]):
                t = base + times[i]
                topic = d_topic[i]
                cid = next_id
                next_id += 1
                web = d_web is not None and d_web[i]
                live[cid] = [dtr.talk1[i], dtr.talk2[i], dtr.patience1[i], dtr.patience2[i],
                             domains[topic] if d_transfer[i] else None, topic, dtr.accept[i], dtr.reached[i],
                             0, 0, web]
                if web:  # a web callback request: an N1 operator calls back at the requested time
                    n_web += 1
                    event = ContactArrived(t, cid, "n1", topic_ids[topic], channel="callback",
                                           due=t + dtr.delay[i])
                else:
                    event = ContactArrived(t, cid, "n1", topic_ids[topic])
                kpi_arrived(event)
                i += 1
            elif heap and heap[0][0] < end:
                t, _, kind, payload = pop(heap)
                if kind == _EV:
                    event = payload
                elif kind == _HANG:
                    cid, token = payload
                    a = live.get(cid)
                    if a is None or a[TOKEN] != token:
                        continue  # answered (or gone) before the caller's patience ran out
                    event = CallerHungUp(t, cid)
                else:
                    # staffing tick: log agents in or out to match the plan for this quarter
                    second = payload * TICK_S
                    for centre, ids in groups.items():
                        ranges = today[centre]
                        moment = (dt.datetime.min + dt.timedelta(seconds=second)).time()
                        is_open = ranges is None or any(s <= moment < e for s, e in ranges)
                        if not is_open:
                            target = 0
                        elif centre == "line":
                            target = staffing.n1(day, second)
                        elif centre == "partner":
                            target = len(ids)
                        else:
                            target = n2_size[centre]
                        cur = logged[centre]
                        for j in range(cur, target):
                            push(heap, (t, seq, _EV, AgentLogin(t, ids[j])))
                            seq += 1
                        for j in range(target, cur):
                            push(heap, (t, seq, _EV, AgentLogout(t, ids[j])))
                            seq += 1
                        logged[centre] = target
                    kpi.sample_queue(t, n1_queue.waiting)
                    continue
            else:
                break
            out = handle(event)
            n_events += 1
            n_decisions += len(out)
            if sink is not None:
                sink(event)
                for d in out:
                    sink(d)
            feed_many(out)
            for d in out:
                cls = d.__class__
                if cls is AgentStateChanged:
                    if d.state is WRAP_UP:
                        te = d.t + wrap[d.level]
                        push(heap, (te, seq, _EV, WrapUpEnded(te, d.agent)))
                        seq += 1
                elif cls is Assign:
                    cid = d.contact
                    a = live[cid]
                    a[TOKEN] += 1
                    if d.outbound and d.level != 1:
                        te = d.t + a[TALK2]
                        e = CallEnded(te, cid, None, d.agent, reached=a[REACHED])
                    elif d.outbound:  # web callback at N1: it may end in a warm transfer too
                        te = d.t + a[TALK1]
                        e = CallEnded(te, cid, a[DOMAIN], d.agent, reached=a[REACHED])
                    elif d.level == 1:
                        te = d.t + a[TALK1]
                        dom = a[DOMAIN]
                        if dom is None:
                            e = CallEnded(te, cid, None, d.agent)
                        else:
                            tid = topic_ids[a[TOPIC]]
                            e = CallEnded(te, cid, dom, d.agent, tid, tid, "simulated transfer")
                    else:
                        te = d.t + a[TALK2]
                        e = CallEnded(te, cid, None, d.agent)
                    push(heap, (te, seq, _EV, e))
                    seq += 1
                elif cls is Queued:
                    a = live[d.contact]
                    level = d.level
                    if not a[IS_CB] and a[HANG_LEVEL] != level:
                        a[HANG_LEVEL] = level  # patience runs from the first wait at this level
                        push(heap, (d.t + (a[PAT1] if level == 1 else a[PAT2]), seq, _HANG, (d.contact, a[TOKEN])))
                        seq += 1
                elif cls is ContactEnded:
                    live.pop(d.contact, None)
                elif cls is TimerRequest:
                    push(heap, (d.at, seq, _EV, TimerFired(d.at, d.kind, d.ref)))
                    seq += 1
                elif cls is ProposeCallback:
                    a = live[d.contact]
                    a[TOKEN] += 1  # the caller is no longer waiting on the line
                    push(heap, (d.t, seq, _EV, CallbackAnswer(d.t, d.contact, a[ACCEPT])))
                    seq += 1
                elif cls is CallbackScheduled:
                    live[d.contact][IS_CB] = True
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - wall0
    return SimResult(kpi.summary(), kpi, n_events, n_calls, wall, n_days, scn.start, len(engine.contacts),
                     {"decisions": n_decisions, "web_callback_requests": n_web, "seed": seed, "days": n_days,
                      "start": scn.start.isoformat()})


def mmc_config(agents: int) -> EngineConfig:
    return EngineConfig(
        [CentreConfig("mmc", "M/M/c", hours=None)],
        [QueueConfig("mmc", "mmc", 1)],
        [AgentConfig(f"a{i}", "mmc", 1, {"mmc": 1}) for i in range(agents)],
    )


def simulate_mmc(
    rate_per_hour: float,
    aht_s: float,
    agents: int,
    calls: int,
    patience_s: float | None = None,
    seed: int | None = None,
    target_s: float = 20.0,
    progress: bool = False,
) -> SimResult:
    """Pure M/M/c(+M): Poisson arrivals, exponential service, no wrap-up, one queue, one group,
    through the same engine, for validation against Erlang C / Erlang A."""
    wall0 = time.perf_counter()
    engine = Engine(mmc_config(agents))
    kpi = KpiCollector(interval_s=3600.0, target_s=target_s)
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(3600.0 / rate_per_hour, calls)).tolist()
    service = rng.exponential(aht_s, calls).tolist()
    patience = rng.exponential(patience_s, calls).tolist() if patience_s else None
    handle = engine.handle
    feed_many = kpi.feed_many
    kpi_arrived = kpi._arrived  # the only event the KPIs need; decisions go through feed_many
    heap: list = []
    push, pop = heapq.heappush, heapq.heappop
    answered = bytearray(calls)
    seq = 0
    n_events = 0
    n_decisions = 0
    for a in engine.agents:
        n_decisions += len(handle(AgentLogin(0.0, a)))
        n_events += 1
    i = 0
    step = max(1, calls // 100)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=calls, unit="call", file=sys.stderr, desc="simulate", leave=False)
    while True:
        if i < calls and (not heap or arrivals[i] < heap[0][0]):
            event = ContactArrived(arrivals[i], i, "mmc")
            kpi_arrived(event)
            i += 1
            if bar is not None and i % step == 0:
                bar.update(step)
        elif heap:
            t, _, kind, payload = pop(heap)
            if kind == _HANG:
                if answered[payload]:
                    continue
                event = CallerHungUp(t, payload)
            else:
                event = payload
        else:
            break
        out = handle(event)
        n_events += 1
        n_decisions += len(out)
        feed_many(out)
        for d in out:
            cls = d.__class__
            if cls is Assign:
                cid = d.contact
                answered[cid] = 1
                te = d.t + service[cid]
                push(heap, (te, seq, _EV, CallEnded(te, cid, None, d.agent, wrap_up=False)))
                seq += 1
            elif cls is Queued and patience is not None:
                push(heap, (d.t + patience[d.contact], seq, _HANG, d.contact))
                seq += 1
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - wall0
    return SimResult(kpi.summary(), kpi, n_events, calls, wall, 0, None, len(engine.contacts),
                     {"decisions": n_decisions, "seed": seed, "mode": "mmc", "rate_per_hour": rate_per_hour, "aht_s": aht_s,
                      "agents": agents, "patience_s": patience_s, "target_seconds": target_s})
