"""Contact-centre KPIs computed from the engine's log (events fed and decisions returned).

The collector is streaming: it keeps per-interval counters, not the log, so a simulated year fits
in memory. `from_log` rebuilds the same figures from a stored log (objects or dicts). Definitions
are in docs/routing.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from allo.routing import events as ev

SERVICE_LEVEL_S = 20.0  # the service level's threshold T: N1 calls answered within it
SERVICE_LEVEL_N2_S = 60.0  # the N2 service level's threshold: contacts answered at N2 within it
SHORT_ABANDON_S = 5.0  # abandons this quick are left out of the service level's denominator
N1_FAST_S = 180.0  # the seed's "precise answer in under 3 minutes" (the desks' chronometer target too)
# These are the only places the thresholds are written: the simulator, the live wallboard, the desks'
# chronometer, the history's bins and the CLI defaults all read them from here.


def service_level_threshold(level: int) -> float:
    """The service level's threshold of a level's contacts, as the collector applies it: level 1 (N1)
    SERVICE_LEVEL_S, any other (the N2 expert centres) SERVICE_LEVEL_N2_S."""
    return SERVICE_LEVEL_S if level == 1 else SERVICE_LEVEL_N2_S

# per-bin counter slots
(OFFERED1, CLOSED1, ANSWERED1, ANSWERED1_T, NOWAIT1, WAIT1, ABANDONED1, SHORT1, TALK1, WRAP1, HANDLED1,
 FAST1, RESOLVED1, TRANSFERRED, OFFERED2, ANSWERED2, ANSWERED2_T, WAIT2, ABANDONED2, SHORT2, TALK2, WRAP2,
 HANDLED2, CB_PROPOSED, CB_SCHEDULED, CB_CALLS, CB_REACHED, BUSY1, LOGGED1, BUSY2, LOGGED2, QUEUE1,
 QUEUE1_N, LOST, ABANDONED1_T) = range(35)
NSLOTS = 35



def service_level(answered_within: float, offered: float, abandoned_short: float) -> float | None:
    """Answered within T / (offered − abandoned within SHORT_ABANDON_S); None when nothing counts."""
    counted = offered - abandoned_short
    return answered_within / counted if counted else None


def servicelevel_perf(answered_within: float, answered: float) -> float | None:
    """Asterisk app_queue's ServicelevelPerf: answered within T / answered (reports show it beside ours,
    so a centre compares with its previous system)."""
    return answered_within / answered if answered else None


def servicelevel_perf2(answered_within: float, abandoned_within: float, answered: float,
                       abandoned: float) -> float | None:
    """Asterisk app_queue's ServicelevelPerf2: (answered within T + abandoned within T) / (answered +
    abandoned)."""
    counted = answered + abandoned
    return (answered_within + abandoned_within) / counted if counted else None


def handle_time(talk_s: float, wrap_s: float, handled: float) -> float | None:
    """AHT: (talk + wrap-up time) / calls handled (a level's, or one agent's on the live floor)."""
    return (talk_s + wrap_s) / handled if handled else None


def counted_figures(*, arrived: int, closed: int, answered: int, answered_within: int, waited_total: float,
                    abandoned: int, abandoned_short: int, lost: int = 0) -> dict[str, float | None]:
    """The N1 figures of counts made elsewhere (the live wallboard counts them on its projection of
    today's contacts) through the same formulas as the collector: one definition of each KPI.

    arrived: calls offered to N1, closed: those the line closed before queueing them (subtracted, as
    the collector does), answered_within: N1 answers within the collector's default T."""
    b = [0.0] * NSLOTS
    b[OFFERED1], b[CLOSED1], b[ANSWERED1], b[ANSWERED1_T] = arrived, closed, answered, answered_within
    b[WAIT1], b[ABANDONED1], b[SHORT1], b[LOST] = waited_total, abandoned, abandoned_short, lost
    figures = KpiCollector().figures(b)
    return {k: figures[k] for k in ("offered", "answered", "abandoned", "abandoned_short", "abandon_rate",
                                    "service_level", "asa_s", "lost")}


class KpiCollector:
    """Feed it every event and decision in order (`feed` / `feed_many`), then `summary()`."""

    def __init__(self, interval_s: float = 900.0, target_s: float = SERVICE_LEVEL_S,
                 target2_s: float = SERVICE_LEVEL_N2_S):
        self.width = float(interval_s)
        self.target = target_s
        self.target2 = target2_s
        self.bins: dict[int, list[float]] = {}
        self._last_key = None
        self._last_bin: list[float] = []
        self.transfers: Counter[str] = Counter()  # by domain
        self.transfers_queue: Counter[str] = Counter()  # by chosen N2 queue ("" = none open)
        # per N2 queue: [offered, answered, answered within target2, abandoned, abandoned short]; a
        # transfer offers the call to its queue, an overflow from an N2 queue to the next one too
        self.queues2: dict[str, list[int]] = {}
        self.ended: Counter[str] = Counter()
        self.records = 0
        self._dispatch = {
            ev.ContactArrived: self.arrived,
            ev.Assign: self._assign,
            ev.ContactEnded: self._contact_ended,
            ev.Transferred: self._transferred,
            ev.Overflowed: self._overflowed,
            ev.ProposeCallback: self._proposed,
            ev.CallbackScheduled: self._scheduled,
            ev.AgentStateChanged: self._agent_state,
        }

    def _bin(self, t: float) -> list[float]:
        key = int(t // self.width)
        if key == self._last_key:
            return self._last_bin  # most records fall in the current interval
        b = self.bins.get(key)
        if b is None:
            b = self.bins[key] = [0.0] * NSLOTS
        self._last_key, self._last_bin = key, b
        return b

    def handlers(self) -> dict:
        """Record class -> the method that counts it, for a driver that dispatches the log itself
        (the simulator's event loop: one lookup per decision for the collector and the world).
        `records` counts only what `feed` and `feed_many` were given."""
        return dict(self._dispatch)

    def feed(self, record) -> None:
        self.records += 1
        handler = self._dispatch.get(record.__class__)
        if handler is not None:
            handler(record)

    def feed_many(self, records: Iterable) -> None:
        dispatch = self._dispatch
        n = 0
        for record in records:
            n += 1
            handler = dispatch.get(record.__class__)
            if handler is not None:
                handler(record)
        self.records += n

    @classmethod
    def from_log(cls, records: Iterable, **kwargs) -> KpiCollector:
        kpi = cls(**kwargs)
        for record in records:
            kpi.feed(ev.from_dict(record) if isinstance(record, dict) else record)
        return kpi

    def sample_queue(self, t: float, waiting: int) -> None:
        """Optional queue-length sample (the runner samples N1 waiting at each interval)."""
        b = self._bin(t)
        b[QUEUE1] += waiting
        b[QUEUE1_N] += 1

    # ------------------------------------------------------------------ handlers

    def arrived(self, e: ev.ContactArrived) -> None:
        """Count an arrival: the only event the figures need, so a driver that feeds the engine
        itself (the simulator) gives the collector the arrivals and `feed_many` the decisions."""
        if e.channel == "call":
            self._bin(e.t)[OFFERED1] += 1

    def _assign(self, d: ev.Assign) -> None:
        waited = d.waited
        b = self._bin(d.t - waited)  # by the interval the contact started waiting in
        if d.outbound:
            b[CB_CALLS] += 1
        elif d.level == 1:
            b[ANSWERED1] += 1
            b[WAIT1] += waited
            if waited <= self.target:
                b[ANSWERED1_T] += 1
            if waited <= 0.0:
                b[NOWAIT1] += 1
        else:
            b[ANSWERED2] += 1
            b[WAIT2] += waited
            within = waited <= self.target2
            if within:
                b[ANSWERED2_T] += 1
            q = self.queues2.get(d.queue)
            if q is not None:
                q[1] += 1
                q[2] += within

    def _contact_ended(self, d: ev.ContactEnded) -> None:
        state = d.state
        self.ended[state] += 1
        if state == "abandoned" and d.waited is not None:
            b = self._bin(d.t - d.waited)
            short = d.waited < SHORT_ABANDON_S
            if d.level == 1:
                b[ABANDONED1] += 1
                b[SHORT1] += short
                if d.waited <= self.target:
                    b[ABANDONED1_T] += 1  # Asterisk's ServicelevelPerf2 counts them as within T
            else:
                b[ABANDONED2] += 1
                b[SHORT2] += short
                q = self.queues2.get(d.queue)
                if q is not None:
                    q[3] += 1
                    q[4] += short
        elif state == "closed" and d.level == 1 and d.waited is None:
            self._bin(d.t)[CLOSED1] += 1
        elif state == "lost":  # no sign of life, or ended by a supervisor: counted when it ends
            self._bin(d.t)[LOST] += 1

    def _transferred(self, d: ev.Transferred) -> None:
        b = self._bin(d.t)
        b[TRANSFERRED] += 1
        self.transfers[d.domain] += 1
        self.transfers_queue[d.queue or ""] += 1
        if d.queue is not None:
            b[OFFERED2] += 1
            self.queues2.setdefault(d.queue, [0, 0, 0, 0, 0])[0] += 1

    def _overflowed(self, d: ev.Overflowed) -> None:
        if d.from_queue in self.queues2:  # an N2 queue's call goes on to the next one
            self.queues2.setdefault(d.to_queue, [0, 0, 0, 0, 0])[0] += 1

    def _proposed(self, d: ev.ProposeCallback) -> None:
        self._bin(d.t)[CB_PROPOSED] += 1

    def _scheduled(self, d: ev.CallbackScheduled) -> None:
        self._bin(d.t)[CB_SCHEDULED] += 1

    def _agent_state(self, d: ev.AgentStateChanged) -> None:
        # plain == comparisons: they work for enum members and for strings read back from a stored
        # log, and avoid the Python-level Enum.__hash__ of set lookups on this hot path
        prev = d.prev
        t = d.t
        if prev == "on_call":
            busy = True
            if d.contact is not None:
                talk = t - d.since
                b = self._bin(t)
                if d.level == 1:
                    b[TALK1] += talk
                    b[HANDLED1] += 1
                    if talk < N1_FAST_S:
                        b[FAST1] += 1
                else:
                    b[TALK2] += talk
                    b[HANDLED2] += 1
        elif prev == "wrap_up":
            busy = True
            self._bin(t)[WRAP1 if d.level == 1 else WRAP2] += t - d.since
        elif prev == "available":
            busy = False
        else:
            return  # offline or paused time is not logged-in time
        # split the state's duration over the intervals it spans (occupancy per interval)
        slot_busy, slot_logged = (BUSY1, LOGGED1) if d.level == 1 else (BUSY2, LOGGED2)
        start, width = d.since, self.width
        if start >= t:
            return
        key = int(start // width)
        if t <= (key + 1) * width:  # within one interval, as most states are: the loop's first turn alone
            b = self._last_bin if key == self._last_key else (self.bins.get(key) or self._bin(start))
            b[slot_logged] += t - start
            if busy:
                b[slot_busy] += t - start
            return
        while start < t:
            key = int(start // width)
            stop = (key + 1) * width
            if stop > t:
                stop = t
            b = self.bins.get(key) or self._bin(start)
            b[slot_logged] += stop - start
            if busy:
                b[slot_busy] += stop - start
            start = stop

    # ------------------------------------------------------------------ results

    def totals(self, keys: Iterable[int] | None = None) -> list[float]:
        total = [0.0] * NSLOTS
        for key in self.bins if keys is None else keys:
            b = self.bins.get(key)
            if b is not None:
                for i, v in enumerate(b):
                    total[i] += v
        return total

    def figures(self, b: list[float], width: float | None = None) -> dict[str, float | None]:
        """KPIs of a counter vector (an interval, a day, the whole run) spanning `width` seconds."""
        width = width or self.width

        def ratio(a, c):
            return a / c if c else None

        offered = b[OFFERED1] - b[CLOSED1]
        handled1 = b[HANDLED1]
        return {
            "offered": int(offered),
            "answered": int(b[ANSWERED1]),
            "abandoned": int(b[ABANDONED1]),
            "abandoned_short": int(b[SHORT1]),
            "abandon_rate": ratio(b[ABANDONED1], offered),
            "service_level": service_level(b[ANSWERED1_T], offered, b[SHORT1]),
            "servicelevel_perf": servicelevel_perf(b[ANSWERED1_T], b[ANSWERED1]),
            "servicelevel_perf2": servicelevel_perf2(b[ANSWERED1_T], b[ABANDONED1_T], b[ANSWERED1], b[ABANDONED1]),
            "p_wait": ratio(offered - b[NOWAIT1], offered),
            "asa_s": ratio(b[WAIT1], b[ANSWERED1]),
            "aht_n1_s": handle_time(b[TALK1], b[WRAP1], handled1),
            "talk_n1_s": ratio(b[TALK1], handled1),
            "n1_under_3min": ratio(b[FAST1], handled1),
            "n1_resolution_rate": ratio(handled1 - b[TRANSFERRED], handled1),
            "transfer_rate": ratio(b[TRANSFERRED], handled1),
            "offered_n2": int(b[OFFERED2]),
            "answered_n2": int(b[ANSWERED2]),
            "abandoned_n2": int(b[ABANDONED2]),
            "service_level_n2": service_level(b[ANSWERED2_T], b[OFFERED2], b[SHORT2]),
            "asa_n2_s": ratio(b[WAIT2], b[ANSWERED2]),
            "aht_n2_s": handle_time(b[TALK2], b[WRAP2], b[HANDLED2]),
            "callbacks_proposed": int(b[CB_PROPOSED]),
            "callbacks_scheduled": int(b[CB_SCHEDULED]),
            "callbacks_called": int(b[CB_CALLS]),
            "occupancy_n1": ratio(b[BUSY1], b[LOGGED1]),
            "occupancy_n2": ratio(b[BUSY2], b[LOGGED2]),
            "agents_busy_n1": b[BUSY1] / width,
            "agents_logged_n1": b[LOGGED1] / width,
            "queue_n1": ratio(b[QUEUE1], b[QUEUE1_N]),
            "lost": int(b[LOST]),
        }

    def keys_from(self, start_t: float) -> list[int]:
        """The bins whose interval starts at or after `start_t` (e.g. today's, from local midnight)."""
        first = int(start_t // self.width)
        return sorted(k for k in self.bins if k >= first)

    def summary(self, keys: Iterable[int] | None = None) -> dict:
        """The KPIs of the whole run, or of the bins `keys` (transfers by domain and queue, the N2
        queues' service levels and ended contacts are the collector's whole counts: a live collector
        starts afresh every day)."""
        totals = self.totals(keys)
        out = self.figures(totals)
        del out["agents_busy_n1"], out["agents_logged_n1"]  # averages per interval only
        out["transfers_by_domain"] = dict(sorted(self.transfers.items()))
        handled1 = totals[HANDLED1]
        out["transfer_rate_by_domain"] = {
            k: (v / handled1 if handled1 else None) for k, v in sorted(self.transfers.items())
        }
        out["transfers_by_queue"] = dict(sorted(self.transfers_queue.items()))
        # each N2 queue's service level (answered within target2 / offered less short abandons), like
        # service_level_n2 but per queue: a supervisor's threshold on one centre reads its own figure
        out["service_level_n2_by_queue"] = {
            queue: service_level(answered_t, offered, short)
            for queue, (offered, _answered, answered_t, _abandoned, short) in sorted(self.queues2.items())}
        out["ended"] = dict(sorted(self.ended.items()))
        return out

    def series(self, interval_s: float | None = None) -> list[tuple[float, dict]]:
        """Figures per interval (a multiple of the collector's width: 15/30/60 min, a day...)."""
        width = interval_s or self.width
        factor = max(1, round(width / self.width))
        groups: dict[int, list[int]] = {}
        for key in sorted(self.bins):
            groups.setdefault(key // factor, []).append(key)
        span = factor * self.width
        return [(g * span, self.figures(self.totals(keys), span)) for g, keys in groups.items()]
