"""Discrete-event runner: generated traffic drives the routing engine, KPIs come from its log.

The runner plays the world around the engine (callers, agents' conversations, timers) and owns
the only clock, `EventLoop`: a heapq of (time, seq, check, payload). The engine is the very one the
live desks use; a world (`_ScenarioWorld` for `simulate`, `_MmcWorld` for `simulate_mmc`) only
turns its decisions into future events (a call's end, a hang-up, a timer), one handler per decision
type in a table, as the engine has one per event type.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import heappush

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
from allo.routing.kpi import SERVICE_LEVEL_S, KpiCollector
from allo.routing.model import AgentConfig, AgentState, CentreConfig, EngineConfig, QueueConfig
from allo.simulation.erlang import agents_needed
from allo.simulation.scenario import Scenario
from allo.simulation.traffic import TrafficModel, lognormal_mean

DAY = 86400.0
TICK_S = 900.0  # staffing changes and queue samples every 15 min (opening hours are on quarters)
_INF = float("inf")
WRAP_UP = AgentState.WRAP_UP


@dataclass(slots=True)
class Caller:
    """A simulated caller's draws, and where its call stands for the runner."""

    talk1: float  # talk time at N1 (and of an outbound callback at N1)
    talk2: float  # talk time at N2
    patience1: float  # how long it waits at N1 before hanging up, from its first wait there
    patience2: float  # the same at N2
    domain: str | None  # the N2 domain it is transferred to, None when N1 answers it
    topic: int  # index in the scenario's topics
    accept: bool  # accepts a callback proposal
    reached: bool  # answers the outbound callback
    callback: bool = False  # a web callback request or a scheduled callback: nobody waits on the line
    token: int = 0  # bumped when answered or offered a callback: a pending hang-up with an older token is void
    hang_level: int = 0  # the level its pending hang-up belongs to (0: none yet)


class EventLoop:
    """The simulators' one clock: arrivals merged with a heapq of (t, seq, check, payload).

    An entry with `check` None is an event fed to the engine as is; otherwise `check(t, payload)`
    returns the event to feed, or None (e.g. a hang-up after the caller was answered, a staffing
    tick that only schedules logins). Each arrival goes to the KPI collector (`arrived`); each
    decision to the collector's handler for its type, then to the world's (`handlers`: decision
    class -> callable), if any: one pass over the decisions for both (feeding the collector
    through `feed_many` first, then the world, cost 2.6 % more instructions on two days of the
    default scenario, counted by callgrind).
    """

    __slots__ = ("engine", "kpi", "heap", "seq", "handlers", "kpi_handlers", "sink", "events", "decisions")

    def __init__(self, engine: Engine, kpi: KpiCollector, handlers: dict, sink: Callable | None = None):
        self.engine = engine
        self.kpi = kpi
        self.heap: list = []
        self.seq = itertools.count()  # ties in time keep the order of scheduling
        self.handlers = handlers
        self.kpi_handlers = kpi.handlers()
        self.sink = sink
        self.events = 0
        self.decisions = 0

    def at(self, t: float, event) -> None:
        """Feed `event` to the engine at `t`."""
        heapq.heappush(self.heap, (t, next(self.seq), None, event))

    def check_at(self, t: float, check: Callable, payload) -> None:
        """At `t`, feed the engine what `check(t, payload)` returns (nothing when None)."""
        heapq.heappush(self.heap, (t, next(self.seq), check, payload))

    def feed(self, event) -> list:
        """Feed one event outside the clock (e.g. logins at time 0); returns its decisions."""
        out = self.engine.handle(event)
        self._after(event, out)
        return out

    def _after(self, event, out: list) -> None:
        self.events += 1
        self.decisions += len(out)
        sink = self.sink
        if sink is not None:
            sink(event)
            for d in out:
                sink(d)
        kget, get = self.kpi_handlers.get, self.handlers.get
        for d in out:
            cls = d.__class__
            handler = kget(cls)
            if handler is not None:
                handler(d)
            handler = get(cls)
            if handler is not None:
                handler(d)

    def run(self, times: list[float], arrive: Callable, until: float = _INF) -> None:
        """Merge the arrivals at `times` (sorted; `arrive(i, t)` makes the i-th arrival's event)
        with the heap, feeding the engine in time order, until the arrivals are done and the heap
        holds nothing before `until` (what is left stays for the next run)."""
        heap = self.heap
        pop = heapq.heappop
        handle = self.engine.handle
        arrived = self.kpi.arrived  # the only event the KPIs need
        kget = self.kpi_handlers.get
        get = self.handlers.get
        sink = self.sink
        n = len(times)
        i = 0
        n_events = 0
        n_decisions = 0
        while True:
            if i < n and (not heap or times[i] < heap[0][0]):
                event = arrive(i, times[i])
                arrived(event)
                i += 1
            elif heap and heap[0][0] < until:
                t, _, check, payload = pop(heap)
                if check is None:
                    event = payload
                else:
                    event = check(t, payload)
                    if event is None:
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
            for d in out:
                cls = d.__class__
                handler = kget(cls)
                if handler is not None:
                    handler(d)
                handler = get(cls)
                if handler is not None:
                    handler(d)
        self.events += n_events
        self.decisions += n_decisions


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


class _ScenarioWorld:
    """The world of a scenario around the engine: callers' draws, talk and wrap-up times, patience,
    answers to callback proposals, and the staffing plan's logins and logouts every 15 minutes."""

    def __init__(self, scn: Scenario, traffic: TrafficModel, config: EngineConfig, engine: Engine,
                 kpi: KpiCollector, sink: Callable | None):
        self.scn = scn
        self.staffing = _Staffing(scn, traffic)
        self.hours_by_centre = {c.id: c.opening_hours() for c in config.centres}
        self.groups: dict[str, list[str]] = {}
        for a in config.agents:
            self.groups.setdefault(a.centre, []).append(a.id)
        self.logged = dict.fromkeys(self.groups, 0)
        self.n2_size = {c.id: c.agents for c in scn.n2_centres}
        self.topic_ids = [t.id for t in scn.topics]
        self.domains = traffic.domains
        self.wrap = {1: scn.wrap1, 2: scn.wrap2}
        self.n1_queue = engine.queues["n1"]
        self.kpi = kpi
        self.live: dict[int, Caller] = {}
        self.next_id = 0
        self.web_requests = 0
        self.day: dt.date | None = None
        self.today: dict = {}
        self.traffic = None
        self.callers: list[tuple] = []
        self.loop = EventLoop(engine, kpi, {
            AgentStateChanged: self._state_changed,
            Assign: self._assign,
            Queued: self._queued,
            ContactEnded: self._ended,
            TimerRequest: self._timer,
            ProposeCallback: self._proposed,
            CallbackScheduled: self._scheduled,
        }, sink)
        # handlers push on the loop's heap directly: a method call per scheduled event (~4 per call)
        # cost 2-4 % of a month's CPU time
        self.heap = self.loop.heap
        self.next_seq = self.loop.seq.__next__

    def run_day(self, di: int, day: dt.date, rng: np.random.Generator, traffic: TrafficModel) -> int:
        """Simulate day `di`; returns its calls. Events after its midnight wait for the next day."""
        base = di * DAY
        self.day = day
        self.today = {cid: h.ranges_on(day) if h is not None else None for cid, h in self.hours_by_centre.items()}
        loop = self.loop
        for k in range(int(DAY // TICK_S)):
            loop.check_at(base + k * TICK_S, self._tick, k)
        self.traffic = dtr = traffic.generate_day(day, rng)
        domains = self.domains
        # each caller's Caller fields, in their order (built in one pass: cheaper than per arrival)
        self.callers = list(zip(dtr.talk1, dtr.talk2, dtr.patience1, dtr.patience2,
                                [domains[topic] if tr else None for topic, tr in zip(dtr.topic, dtr.transfer,
                                                                                     strict=True)],
                                dtr.topic, dtr.accept, dtr.reached, dtr.web or [False] * len(dtr.times), strict=True))
        loop.run([base + x for x in dtr.times], self._arrive, base + DAY)
        return len(dtr.times)

    # ------------------------------------------------------------------ the world's events

    def _arrive(self, i: int, t: float) -> ContactArrived:
        row = self.callers[i]
        cid = self.next_id
        self.next_id = cid + 1
        self.live[cid] = Caller(*row)
        if row[8]:  # a web callback request: an N1 operator calls back at the requested time
            self.web_requests += 1
            return ContactArrived(t, cid, "n1", self.topic_ids[row[5]], channel="callback",
                                  due=t + self.traffic.delay[i])
        return ContactArrived(t, cid, "n1", self.topic_ids[row[5]])

    def _hang_up(self, t: float, payload: tuple) -> CallerHungUp | None:
        cid, token = payload
        caller = self.live.get(cid)
        if caller is None or caller.token != token:
            return None  # answered (or gone) before the caller's patience ran out
        return CallerHungUp(t, cid)

    def _tick(self, t: float, k: int) -> None:
        """Staffing tick: log agents in or out to match the plan for this quarter, sample the queue."""
        second = k * TICK_S
        moment = (dt.datetime.min + dt.timedelta(seconds=second)).time()
        at = self.loop.at
        for centre, ids in self.groups.items():
            ranges = self.today[centre]
            is_open = ranges is None or any(s <= moment < e for s, e in ranges)
            if not is_open:
                target = 0
            elif centre == "line":
                target = self.staffing.n1(self.day, second)
            elif centre == "partner":
                target = len(ids)
            else:
                target = self.n2_size[centre]
            cur = self.logged[centre]
            for j in range(cur, target):
                at(t, AgentLogin(t, ids[j]))
            for j in range(target, cur):
                at(t, AgentLogout(t, ids[j]))
            self.logged[centre] = target
        self.kpi.sample_queue(t, self.n1_queue.waiting)
        return None

    # ------------------------------------------------------------------ decisions

    def _state_changed(self, d: AgentStateChanged) -> None:
        if d.state is WRAP_UP:
            te = d.t + self.wrap[d.level]
            heappush(self.heap, (te, self.next_seq(), None, WrapUpEnded(te, d.agent)))

    def _assign(self, d: Assign) -> None:
        cid = d.contact
        caller = self.live[cid]
        caller.token += 1
        if d.outbound and d.level != 1:
            te = d.t + caller.talk2
            e = CallEnded(te, cid, None, d.agent, reached=caller.reached)
        elif d.outbound:  # web callback at N1: it may end in a warm transfer too
            te = d.t + caller.talk1
            e = CallEnded(te, cid, caller.domain, d.agent, reached=caller.reached)
        elif d.level == 1:
            te = d.t + caller.talk1
            dom = caller.domain
            if dom is None:
                e = CallEnded(te, cid, None, d.agent)
            else:
                tid = self.topic_ids[caller.topic]
                e = CallEnded(te, cid, dom, d.agent, tid, tid, "simulated transfer")
        else:
            te = d.t + caller.talk2
            e = CallEnded(te, cid, None, d.agent)
        heappush(self.heap, (te, self.next_seq(), None, e))

    def _queued(self, d: Queued) -> None:
        caller = self.live[d.contact]
        level = d.level
        if not caller.callback and caller.hang_level != level:
            caller.hang_level = level  # patience runs from the first wait at this level
            patience = caller.patience1 if level == 1 else caller.patience2
            heappush(self.heap, (d.t + patience, self.next_seq(), self._hang_up, (d.contact, caller.token)))

    def _ended(self, d: ContactEnded) -> None:
        self.live.pop(d.contact, None)

    def _timer(self, d: TimerRequest) -> None:
        heappush(self.heap, (d.at, self.next_seq(), None, TimerFired(d.at, d.kind, d.ref)))

    def _proposed(self, d: ProposeCallback) -> None:
        caller = self.live[d.contact]
        caller.token += 1  # the caller is no longer waiting on the line
        heappush(self.heap, (d.t, self.next_seq(), None, CallbackAnswer(d.t, d.contact, caller.accept)))

    def _scheduled(self, d: CallbackScheduled) -> None:
        self.live[d.contact].callback = True


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
    world = _ScenarioWorld(scn, traffic, config, engine, kpi, sink)
    rng = np.random.default_rng(seed)
    n_calls = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_days, unit="day", file=sys.stderr, desc="simulate", leave=False)
    for di in range(n_days):
        n_calls += world.run_day(di, traffic.day(di), rng, traffic)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - wall0
    loop = world.loop
    return SimResult(kpi.summary(), kpi, loop.events, n_calls, wall, n_days, scn.start, len(engine.contacts),
                     {"decisions": loop.decisions, "web_callback_requests": world.web_requests, "seed": seed,
                      "days": n_days, "start": scn.start.isoformat()})


def mmc_config(agents: int) -> EngineConfig:
    return EngineConfig(
        [CentreConfig("mmc", "M/M/c", hours=None)],
        [QueueConfig("mmc", "mmc", 1)],
        [AgentConfig(f"a{i}", "mmc", 1, {"mmc": 1}) for i in range(agents)],
    )


class _MmcWorld:
    """M/M/c(+M) around the engine: exponential service without wrap-up, exponential patience."""

    def __init__(self, engine: Engine, kpi: KpiCollector, service: list[float], patience: list[float] | None,
                 sink: Callable | None = None):
        self.service = service
        self.patience = patience
        self.answered = bytearray(len(service))
        handlers = {Assign: self._assign}
        if patience is not None:
            handlers[Queued] = self._queued
        self.loop = EventLoop(engine, kpi, handlers, sink)
        self.heap = self.loop.heap
        self.next_seq = self.loop.seq.__next__

    def _hang_up(self, t: float, cid: int) -> CallerHungUp | None:
        return None if self.answered[cid] else CallerHungUp(t, cid)

    def _assign(self, d: Assign) -> None:
        cid = d.contact
        self.answered[cid] = 1
        te = d.t + self.service[cid]
        heappush(self.heap, (te, self.next_seq(), None, CallEnded(te, cid, None, d.agent, wrap_up=False)))

    def _queued(self, d: Queued) -> None:
        heappush(self.heap, (d.t + self.patience[d.contact], self.next_seq(), self._hang_up, d.contact))


def simulate_mmc(
    rate_per_hour: float,
    aht_s: float,
    agents: int,
    calls: int,
    patience_s: float | None = None,
    seed: int | None = None,
    target_s: float = SERVICE_LEVEL_S,
    progress: bool = False,
    sink: Callable | None = None,
) -> SimResult:
    """Pure M/M/c(+M): Poisson arrivals, exponential service, no wrap-up, one queue, one group,
    through the same engine and event loop, for validation against Erlang C / Erlang A."""
    wall0 = time.perf_counter()
    engine = Engine(mmc_config(agents))
    kpi = KpiCollector(interval_s=3600.0, target_s=target_s)
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(3600.0 / rate_per_hour, calls)).tolist()
    service = rng.exponential(aht_s, calls).tolist()
    patience = rng.exponential(patience_s, calls).tolist() if patience_s else None
    world = _MmcWorld(engine, kpi, service, patience, sink)
    loop = world.loop
    for a in engine.agents:
        loop.feed(AgentLogin(0.0, a))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=calls, unit="call", file=sys.stderr, desc="simulate", leave=False)
        step = max(1, calls // 100)

        def arrive(i: int, t: float) -> ContactArrived:
            if (i + 1) % step == 0:
                bar.update(step)
            return ContactArrived(t, i, "mmc")
    else:
        def arrive(i: int, t: float) -> ContactArrived:
            return ContactArrived(t, i, "mmc")
    loop.run(arrivals, arrive)
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - wall0
    return SimResult(kpi.summary(), kpi, loop.events, calls, wall, 0, None, len(engine.contacts),
                     {"decisions": loop.decisions, "seed": seed, "mode": "mmc", "rate_per_hour": rate_per_hour,
                      "aht_s": aht_s, "agents": agents, "patience_s": patience_s, "target_seconds": target_s})
