"""The routing engine: events in, decisions out.

Deterministic and pure: no wall clock, no I/O, no randomness. Time comes from the events; when the
engine needs to act later (overflow, callback due, centre closing) it returns a TimerRequest and
the caller feeds the matching TimerFired back. The live desks and the simulator drive this same
class, so routing is written once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, deque
from collections.abc import Iterable

from allo.routing import events as ev
from allo.routing.model import (
    TERMINAL,
    Agent,
    AgentState,
    Centre,
    Channel,
    Contact,
    ContactState,
    EngineConfig,
    Queue,
)

_INF = float("inf")
AVAILABLE = AgentState.AVAILABLE
ON_CALL = AgentState.ON_CALL
WRAP_UP = AgentState.WRAP_UP
OFFLINE = AgentState.OFFLINE
PAUSED = AgentState.PAUSED
QUEUED = ContactState.QUEUED
# a caller the edge holds without an agent (in a queue, or hearing a callback proposal)
_PARKED = frozenset({ContactState.QUEUED, ContactState.CALLBACK_OFFERED})
CONNECTED = ContactState.CONNECTED
SCHEDULED = ContactState.SCHEDULED
CALLBACK_OFFERED = ContactState.CALLBACK_OFFERED
COMPLETED = ContactState.COMPLETED
ABANDONED = ContactState.ABANDONED
LOST = ContactState.LOST
CALLBACK = Channel.CALLBACK
CALL = Channel.CALL
# enum class attribute access is slow on 3.11 (EnumType.__getattr__): the hot path uses these names
_CHANNELS = {ch.value: ch for ch in Channel}


class EngineError(ValueError):
    pass


class Engine:
    def __init__(self, config: EngineConfig):
        self.config = config
        self.epoch = dt.datetime.fromisoformat(config.epoch)
        self.centres: dict[str, Centre] = {c.id: Centre(c) for c in config.centres}
        self.queues: dict[str, Queue] = {}
        for qc in config.queues:
            if qc.centre not in self.centres:
                raise EngineError(f"queue {qc.id!r}: unknown centre {qc.centre!r}")
            q = Queue(qc, self.centres[qc.centre])
            self.queues[q.id] = q
            q.centre.queues.append(q)
        for q in self.queues.values():
            if q.overflow_to is not None and q.overflow_to not in self.queues:
                raise EngineError(f"queue {q.id!r}: unknown overflow queue {q.overflow_to!r}")
            if q.overflow_to is not None and not q.overflow_after:
                raise EngineError(f"queue {q.id!r}: overflow_to needs overflow_after_s")
        self.agents: dict[str, Agent] = {}
        for order, ac in enumerate(config.agents):
            agent = Agent(ac, order)
            if ac.centre not in self.centres:
                raise EngineError(f"agent {ac.id!r}: unknown centre {ac.centre!r}")
            agent.centre = self.centres[ac.centre]
            for qid in ac.skills:
                if qid not in self.queues:
                    raise EngineError(f"agent {ac.id!r}: unknown skill queue {qid!r}")
            prios = sorted(set(ac.skills.values()))
            agent.skills = [[self.queues[q] for q, p in ac.skills.items() if p == prio] for prio in prios]
            for qid, prio in ac.skills.items():
                agent.pools.append(self._pool(self.queues[qid], prio))
            self.agents[agent.id] = agent
        self.destinations: dict[str, list[Queue]] = {}
        for domain, qids in config.destinations.items():
            for qid in qids:
                if qid not in self.queues:
                    raise EngineError(f"destination {domain!r}: unknown queue {qid!r}")
            self.destinations[domain] = [self.queues[q] for q in qids]
        self.contacts: dict[object, Contact] = {}  # live (non-terminal) contacts only
        self.now = -_INF
        self.arrived = 0
        self.ended: Counter[str] = Counter()
        self._out: list = []
        self._smooth = config.aht_smoothing
        self.lost_after = config.lost_after_s
        self.phone_required = config.phone_required
        self.phones: dict[str, bool] = {}  # agent id -> phone registered (AgentPhone), any agent id
        self._handlers = {
            ev.ContactArrived: self._arrived,
            ev.CallerHungUp: self._hung_up,
            ev.CallEnded: self._call_ended,
            ev.WrapUpEnded: self._wrap_ended,
            ev.AgentLogin: self._login,
            ev.AgentLogout: self._logout,
            ev.AgentPause: self._pause,
            ev.AgentResume: self._resume,
            ev.CallbackAnswer: self._callback_answer,
            ev.ContactLost: self._contact_lost,
            ev.ContactAlive: self._contact_alive,
            ev.AgentPhone: self._phone,
            ev.CallNotAnswered: self._not_answered,
            ev.ConsultStart: self._consult_start,
            ev.ConsultEnd: self._consult_end,
            ev.TimerFired: self._timer,
        }

    @staticmethod
    def _pool(queue: Queue, prio: int) -> dict:
        for p, pool in queue.idle:
            if p == prio:
                return pool
        pool: dict = {}
        queue.idle.append((prio, pool))
        queue.idle.sort(key=lambda item: item[0])
        return pool

    # ------------------------------------------------------------------ public API

    def handle(self, event) -> list:
        """Apply one event; return the decisions it causes, in order."""
        t = event.t
        if t < self.now:
            raise EngineError(f"event at t={t} is older than the engine's time {self.now}")
        self.now = t
        out = self._out = []
        self._handlers[event.__class__](event)
        return out

    def run(self, events: Iterable) -> list:
        decisions = []
        for event in events:
            decisions.extend(self.handle(event))
        return decisions

    def at(self, t: float) -> dt.datetime:
        """The local datetime of engine time t."""
        return self.epoch + dt.timedelta(seconds=t)

    def seconds(self, when: dt.datetime) -> float:
        return (when - self.epoch).total_seconds()

    def is_open(self, centre_id: str, t: float | None = None) -> bool:
        centre = self.centres[centre_id]
        return centre.hours is None or centre.hours.is_open(self.at(self.now if t is None else t))

    def expected_wait(self, queue_id: str, position: int | None = None) -> float:
        """Expected wait in seconds for a contact at `position` (default: a newcomer)."""
        q = self.queues[queue_id]
        return self._ewt(q, q.waiting + 1 if position is None else position)

    def queue_length(self, queue_id: str) -> int:
        return self.queues[queue_id].waiting

    def watch_all(self) -> list:
        """Arm the `lost` timer of every live contact without one (after a configuration that enables
        it, or a snapshot from before it existed); returns the TimerRequests."""
        out = self._out = []
        for c in self.contacts.values():
            if c.state is not SCHEDULED:
                self._watch(c)
        return out

    def state_counts(self) -> Counter:
        return Counter(a.state for a in self.agents.values())

    # ------------------------------------------------------------------ helpers

    def _open(self, centre: Centre) -> bool:
        if centre.hours is None:  # no hours: always open (a timer may still ask after a reconfiguration)
            return True
        if self.now < centre.valid_until:
            return centre.open
        # slow path once per opening boundary: ask the opening hours, cache until the next change
        when = self.at(self.now)
        hours = centre.hours
        if hours.is_open(when):
            centre.open = True
            closing = hours.closing_time(when)
            centre.valid_until = self.seconds(closing)
            if centre.close_timer_at != centre.valid_until:
                centre.close_timer_at = centre.valid_until
                self._out.append(ev.TimerRequest(self.now, centre.valid_until, ev.CENTRE_CLOSING, centre.id))
        else:
            centre.open = False
            nxt = hours.next_opening(when)
            centre.valid_until = _INF if nxt is None else self.seconds(nxt)
            if nxt is not None and centre.open_timer_at != centre.valid_until:
                # agents may have logged in early: at opening they take whatever already waits
                centre.open_timer_at = centre.valid_until
                self._out.append(ev.TimerRequest(self.now, centre.valid_until, ev.CENTRE_OPENING, centre.id))
        return centre.open

    def _next_opening(self, centre: Centre, t: float) -> float | None:
        if centre.hours is None:
            return t
        nxt = centre.hours.next_opening(self.at(t))
        return None if nxt is None else self.seconds(nxt)

    def _ewt(self, q: Queue, position: int) -> float:
        return position * q.aht / (q.staffed or 1)

    def _set_state(self, agent: Agent, state: AgentState, contact=None) -> None:
        self._out.append(
            ev.AgentStateChanged(self.now, agent.id, agent.level, agent.state, state, agent.since, contact,
                                 agent.reason if state is PAUSED else None)
        )
        agent.state = state
        agent.since = self.now

    def _find_agent(self, q: Queue) -> Agent | None:
        """Longest-idle available agent for q, primary-skill agents first, in an open centre."""
        now = self.now
        for _, pool in q.idle:
            for agent in pool:
                centre = agent.centre
                if (centre.open if now < centre.valid_until else self._open(centre)):
                    return agent
        return None

    def _reachable(self, agent: Agent) -> bool:
        """Whether calls may be offered to the agent's phone (always, unless the voice edge needs it registered)."""
        return not self.phone_required or self.phones.get(agent.id, False)

    def _connect(self, agent: Agent, c: Contact, q: Queue, waited: float, ended_contact=None) -> None:
        if agent.state is AVAILABLE:
            for pool in agent.pools:
                pool.pop(agent, None)  # absent when it was waiting for its phone (AgentPhone)
        self._set_state(agent, ON_CALL, ended_contact)
        agent.contact = c
        c.state = CONNECTED
        c.agent = agent
        c.seen = self.now  # the answer is a sign of life: a long wait does not shorten the talk's
        c.queue = None
        c.destination = q
        self._out.append(
            ev.Assign(self.now, c.id, agent.id, q.id, q.level, waited, c.channel is CALLBACK, c.context)
        )

    def _enqueue(self, c: Contact, q: Queue, front: bool = False) -> None:
        """Answer now if an agent is free, else wait in q (at the head of its lane when `front`: a call
        whose agent did not answer keeps its place and its time in the queue)."""
        agent = self._find_agent(q)
        if agent is not None:
            self._connect(agent, c, q, self.now - c.entered)
            return
        c.state = QUEUED
        c.queue = q
        if not front:
            c.qtime = self.now
        lane = q.lanes.get(c.priority)
        if lane is None:
            lane = q.lanes[c.priority] = deque()
            q.prios.append(c.priority)
            q.prios.sort()
        q.waiting += 1
        counts = q.counts
        counts[c.priority] = counts.get(c.priority, 0) + 1
        if front:
            lane.appendleft(c)
            position = sum(n for p, n in counts.items() if p < c.priority) + 1
        else:
            lane.append(c)
            # position among those served before it: same or better priority, including itself
            position = q.waiting if len(counts) == 1 else sum(n for p, n in counts.items() if p <= c.priority)
        self._out.append(ev.Queued(self.now, c.id, q.id, q.level, position, self._ewt(q, position)))
        if q.overflow_to is not None:
            self._out.append(ev.TimerRequest(self.now, max(self.now, c.qtime + q.overflow_after), ev.OVERFLOW,
                                             [c.id, q.id]))

    def _watch(self, c: Contact) -> None:
        """Arm the contact's `lost` timer (one at a time: when it fires early it is set again). A contact
        kept alive by its connector is looked at every `_alive_window`: lost then if it waits in a queue."""
        if self.lost_after is not None and c.lost_at is None and c.id in self.contacts:
            if c.alive_every is None:
                c.lost_at = c.seen + self.lost_after
            else:
                window = self._alive_window(c)
                c.lost_at = c.seen + window if c.seen + window > self.now else self.now + window
            self._out.append(ev.TimerRequest(self.now, c.lost_at, ev.LOST, c.id))

    def _alive_window(self, c: Contact) -> float:
        return min(self.lost_after, self.config.missed_alives * c.alive_every)

    def _lost_after(self, c: Contact) -> float:
        """How long a contact may go without a sign of life: lost_after_s; for a caller waiting in a queue
        (or for its answer to a callback proposal) whose connector sends keep-alives, `missed_alives` of
        their periods (its voice node died: nobody else would end it; a caller in conversation is ended
        by its agent's desk, or after lost_after_s)."""
        if c.alive_every is not None and c.state in _PARKED:
            return self._alive_window(c)
        return self.lost_after

    def _lose(self, c: Contact) -> None:
        """No sign of life (or a supervisor says so): the contact ends `lost`, its agent is freed."""
        state = c.state
        if state is QUEUED:
            q = self._unqueue(c)
            self._end(c, LOST, self.now - c.entered, q.id)
        elif state is CONNECTED:
            if c.consult is not None:
                self._consult_release(c, "lost")
            agent = c.agent
            c.agent = None
            agent.contact = None
            self._end(c, LOST, None, c.destination.id if c.destination else None)
            # no contact on the state change: a ghost's "talk" (its end unknown) stays out of AHT
            self._agent_free(agent)
        else:
            self._end(c, LOST)

    def _unqueue(self, c: Contact) -> Queue:
        q = c.queue
        q.waiting -= 1
        q.counts[c.priority] -= 1
        c.queue = None  # its lane entry is now stale and skipped by Queue.head
        return q

    def _end(self, c: Contact, state: ContactState, waited: float | None = None, queue: str | None = None):
        del self.contacts[c.id]
        c.state = state
        self.ended[state] += 1
        self._out.append(ev.ContactEnded(self.now, c.id, state, c.level, waited, queue))

    def _no_room(self, c: Contact, q: Queue, reason: str) -> None:
        """Closed or saturated destination: propose a callback rather than a dead end."""
        if reason == "closed":
            at = self._next_opening(q.centre, self.now)
        else:
            at = self._next_opening(q.centre, self.now + q.callback_delay)
        if at is None:
            self._end(c, ContactState.CLOSED)
            return
        c.state = CALLBACK_OFFERED
        c.destination = q
        c.due = at
        self._out.append(ev.ProposeCallback(self.now, c.id, q.id, at, reason))

    def _schedule(self, c: Contact, at: float) -> None:
        c.state = SCHEDULED
        c.due = at
        self._out.append(ev.CallbackScheduled(self.now, c.id, c.destination.id, at))
        self._out.append(ev.TimerRequest(self.now, at, ev.CALLBACK_DUE, c.id))

    def _agent_free(self, agent: Agent, ended_contact=None) -> None:
        """The agent can take work: next waiting contact from its skills, else available."""
        if agent.pending is not None:
            state, agent.pending = agent.pending, None
            self._set_state(agent, state, ended_contact)
            if state is OFFLINE or state is PAUSED:
                self._unstaff(agent)
            return
        if self.phone_required and not self.phones.get(agent.id, False):
            # ready, but its phone is not registered: nothing is offered until it is (AgentPhone)
            self._set_state(agent, AVAILABLE, ended_contact)
            return
        if not self._take_next(agent, ended_contact):
            self._set_state(agent, AVAILABLE, ended_contact)
            for pool in agent.pools:
                pool[agent] = None

    def _take_next(self, agent: Agent, ended_contact=None) -> bool:
        """Connect the agent to the next waiting contact of its skills, if any; returns whether it did."""
        if self._open(agent.centre):
            for group in agent.skills:
                best = None
                for q in group:
                    if q.waiting:
                        h = q.head()
                        if h is not None and (
                            best is None or (h.priority, h.qtime) < (best.priority, best.qtime)
                        ):
                            best = h
                if best is not None:
                    q = best.queue
                    q.lanes[best.priority].popleft()
                    self._unqueue(best)
                    self._connect(agent, best, q, self.now - best.entered, ended_contact)
                    return True
        return False

    def _staff(self, agent: Agent) -> None:
        for group in agent.skills:
            for q in group:
                q.staffed += 1

    def _unstaff(self, agent: Agent) -> None:
        for group in agent.skills:
            for q in group:
                q.staffed -= 1

    def _withdraw(self, agent: Agent, state: AgentState) -> None:
        """An available agent stops taking calls (logout or pause)."""
        for pool in agent.pools:
            pool.pop(agent, None)  # absent when its phone is not registered
        self._unstaff(agent)
        self._set_state(agent, state)

    def _agent(self, agent_id) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise EngineError(f"unknown agent {agent_id!r}") from None

    def _learn(self, q: Queue, handle: float) -> None:
        q.aht += self._smooth * (handle - q.aht)

    # ------------------------------------------------------------------ event handlers

    def _arrived(self, e: ev.ContactArrived) -> None:
        if e.contact in self.contacts:
            raise EngineError(f"contact {e.contact!r} already in progress")
        try:
            q = self.queues[e.queue]
        except KeyError:
            raise EngineError(f"contact {e.contact!r}: unknown queue {e.queue!r}") from None
        c = Contact(e.contact, _CHANNELS[e.channel], e.t, e.topic, e.domain, e.context, e.priority)
        c.level = q.level
        c.alive_every = e.alive_every_s if e.alive_every_s and e.alive_every_s > 0 else None
        self.contacts[c.id] = c
        self.arrived += 1
        if c.channel is CALLBACK:
            c.destination = q
            c.priority = max(c.priority, self.config.callback_priority)
            self._schedule(c, e.t if e.due is None else e.due)
            return
        if q.centre.hours is not None and not self._open(q.centre):
            self._end(c, ContactState.CLOSED)
            return
        self._enqueue(c, q)
        self._watch(c)

    def _hung_up(self, e: ev.CallerHungUp) -> None:
        c = self.contacts.get(e.contact)
        if c is None:
            return  # already ended: the hang-up races with the answer
        state = c.state
        if state is QUEUED:
            q = self._unqueue(c)
            self._end(c, ABANDONED, e.t - c.entered, q.id)
        elif state is CONNECTED:
            if c.consult is not None:
                self._consult_release(c, "hangup")
            self._call_ended(ev.CallEnded(e.t, e.contact))
        else:  # a proposal left unanswered or a callback cancelled
            self._end(c, ABANDONED)

    def _call_ended(self, e: ev.CallEnded) -> None:
        c = self.contacts.get(e.contact)
        if c is None or c.state is not CONNECTED or (e.agent is not None and e.agent != c.agent.id):
            return  # duplicate or late report from a desk
        if c.consult is not None:
            if e.transfer and e.transfer == (c.context or {}).get("domain"):
                # a transfer to the domain being consulted is the consult's completion: the caller goes
                # to the expert the N1 agent has been talking with (whichever way the desk said it)
                self._consult_complete(c, e.wrap_up, {"question": e.question, "fiche": e.fiche, "note": e.note})
                return
            self._consult_release(c, "cancelled")  # the N1 agent ends the call, or transfers elsewhere
        agent = c.agent
        c.agent = None
        agent.contact = None
        q = c.destination
        talk = e.t - agent.since
        if e.wrap_up:
            agent.work = (q, talk)
            self._set_state(agent, WRAP_UP, c.id)
        else:
            self._learn(q, talk)
        if c.channel is CALLBACK and not e.reached:
            self._end(c, ContactState.UNREACHED)
        elif e.transfer:
            context = dict(c.context or {})
            context.update(
                {"question": e.question, "fiche": e.fiche, "note": e.note, "from_agent": agent.id,
                 "topic": c.topic, "domain": e.transfer}
            )
            c.context = context
            c.domain = e.transfer
            c.seen = e.t
            self._transfer(c, e.transfer)
        else:
            self._end(c, COMPLETED)
        if not e.wrap_up:
            self._agent_free(agent, c.id)

    def _transfer(self, c: Contact, domain: str) -> None:
        candidates = self.destinations.get(domain) or self.destinations.get("*")
        if not candidates:
            raise EngineError(f"no transfer destination for domain {domain!r} and no '*' fallback")
        c.level = candidates[0].level
        c.entered = self.now
        c.channel = CALL
        open_queues = [q for q in candidates if self._open(q.centre)]
        if not open_queues:
            # the destination that reopens first gets the callback
            soonest = min(candidates, key=lambda q: self._next_opening(q.centre, self.now) or _INF)
            self._out.append(ev.Transferred(self.now, c.id, domain, None))
            self._no_room(c, soonest, "closed")
            return
        # load balancing: the longest-idle agent across the open centres, else the shortest expected wait
        best_agent, best_q = self._longest_idle(open_queues)
        if best_agent is not None:
            self._out.append(ev.Transferred(self.now, c.id, domain, best_q.id))
            self._connect(best_agent, c, best_q, 0.0)
            return
        best_q, best_wait = None, _INF
        for q in open_queues:
            wait = self._ewt(q, q.waiting + 1) if q.staffed else _INF
            saturated = (q.max_waiting is not None and q.waiting >= q.max_waiting) or (
                q.max_wait is not None and wait > q.max_wait
            )
            if not saturated and wait < best_wait:
                best_q, best_wait = q, wait
        if best_q is None:
            shortest = min(open_queues, key=lambda q: (q.waiting + 1) / (q.staffed or 0.5))
            self._out.append(ev.Transferred(self.now, c.id, domain, None))
            self._no_room(c, shortest, "saturated")
            return
        self._out.append(ev.Transferred(self.now, c.id, domain, best_q.id))
        self._enqueue(c, best_q)

    def _longest_idle(self, queues: list[Queue]) -> tuple[Agent | None, Queue | None]:
        best_agent, best_q = None, None
        for q in queues:
            agent = self._find_agent(q)
            if agent is not None and (best_agent is None or agent.since < best_agent.since):
                best_agent, best_q = agent, q
        return best_agent, best_q

    # ------------------------------------------------------------------ consult (warm transfer)

    def _consult_start(self, e: ev.ConsultStart) -> None:
        c = self.contacts.get(e.contact)
        if c is None or c.state is not CONNECTED or c.agent.id != e.agent or c.consult is not None:
            return  # ended, not this agent's, or a consult already under way
        candidates = self.destinations.get(e.domain) or self.destinations.get("*")
        if not candidates:
            raise EngineError(f"no transfer destination for domain {e.domain!r} and no '*' fallback")
        context = dict(c.context or {})
        context.update({"question": e.question, "fiche": e.fiche, "note": e.note, "from_agent": e.agent,
                        "topic": c.topic, "domain": e.domain})
        c.context = context
        c.seen = e.t
        open_queues = [q for q in candidates if self._open(q.centre)]
        expert, q = self._longest_idle(open_queues)
        if expert is None:
            outcome = "unavailable" if open_queues else "closed"
            self._out.append(ev.ConsultEnded(self.now, c.id, e.agent, None, e.domain, outcome))
            return
        for pool in expert.pools:
            pool.pop(expert, None)
        self._set_state(expert, ON_CALL)  # no contact yet: the caller is still the N1 agent's
        expert.consulting = c
        c.consult, c.consult_queue = expert, q
        self._out.append(ev.ConsultStarted(self.now, c.id, e.agent, expert.id, e.domain, q.id, context))

    def _consult_end(self, e: ev.ConsultEnd) -> None:
        c = self.contacts.get(e.contact)
        if c is None or c.consult is None:
            return
        if e.agent == c.consult.id:
            self._consult_release(c, "declined")
        elif e.agent == c.agent.id:
            if e.complete:
                self._consult_complete(c)
            else:
                self._consult_release(c, "cancelled")

    def _consult_release(self, c: Contact, outcome: str, free: bool = True) -> Agent:
        """The consult ends without the caller moving: the expert is free again (`free`), the caller stays
        with the N1 agent (or ends, on a hang-up). A consult is no handled call: the expert's state
        change carries no contact."""
        expert = c.consult
        c.consult = c.consult_queue = None
        expert.consulting = None
        self._out.append(ev.ConsultEnded(self.now, c.id, c.agent.id if c.agent else None, expert.id,
                                         (c.context or {}).get("domain"), outcome))
        if free:
            self._agent_free(expert)
        return expert

    def _consult_complete(self, c: Contact, wrap_up: bool = True, update: dict | None = None) -> None:
        """The N1 agent hands the caller over: its wrap-up starts, and the caller is the expert's, a
        transfer answered at once (its N2 wait is 0: the consult held the caller, not a queue). `update`:
        the question, fiche or note the N1 agent wrote last (None keeps the consult's)."""
        expert, q = c.consult, c.consult_queue
        context = dict(c.context or {})
        context.update({k: v for k, v in (update or {}).items() if v is not None})
        c.context = context
        domain = context.get("domain") or ""
        c.consult = c.consult_queue = None
        expert.consulting = None
        operator = c.agent
        self._out.append(ev.ConsultEnded(self.now, c.id, operator.id, expert.id, domain, "completed"))
        operator.contact = None
        talk = self.now - operator.since
        if wrap_up:
            operator.work = (c.destination, talk)
            self._set_state(operator, WRAP_UP, c.id)
        else:
            self._learn(c.destination, talk)
        c.domain = domain
        c.level = q.level
        c.entered = c.seen = self.now
        c.channel = CALL
        self._out.append(ev.Transferred(self.now, c.id, domain, q.id))
        expert.contact = c
        c.agent = expert
        c.queue = None
        c.destination = q
        self._out.append(ev.Assign(self.now, c.id, expert.id, q.id, q.level, 0.0, False, c.context))
        if not wrap_up:
            self._agent_free(operator, c.id)

    def _wrap_ended(self, e: ev.WrapUpEnded) -> None:
        agent = self._agent(e.agent)
        if agent.state is not WRAP_UP:
            return
        if agent.work is not None:
            q, talk = agent.work
            agent.work = None
            self._learn(q, talk + e.t - agent.since)
        self._agent_free(agent)

    def _login(self, e: ev.AgentLogin) -> None:
        agent = self._agent(e.agent)
        if agent.state is not OFFLINE:
            if agent.pending is OFFLINE:
                agent.pending = None  # logged back in before the call ended
            return
        agent.since = e.t
        self._staff(agent)
        self._agent_free(agent)

    def _logout(self, e: ev.AgentLogout) -> None:
        agent = self._agent(e.agent)
        state = agent.state
        if e.force and (state is ON_CALL or state is WRAP_UP):
            # a supervisor logs out a stuck agent: its call (a ghost) ends lost, its wrap-up ends
            agent.pending = OFFLINE
            if agent.consulting is not None:  # an expert in a consult: the N1 agent takes the caller back
                self._consult_release(agent.consulting, "cancelled")
            elif state is ON_CALL:
                self._lose(agent.contact)  # frees the agent, which applies the logout
            else:
                agent.work = None
                self._agent_free(agent)
        elif state is AVAILABLE:
            self._withdraw(agent, OFFLINE)
        elif state is PAUSED:
            self._set_state(agent, OFFLINE)
        elif state is ON_CALL or state is WRAP_UP:
            agent.pending = OFFLINE

    def _pause(self, e: ev.AgentPause) -> None:
        agent = self._agent(e.agent)
        state = agent.state
        if state is AVAILABLE:
            agent.reason = e.reason
            self._withdraw(agent, PAUSED)
        elif (state is ON_CALL or state is WRAP_UP) and agent.pending is not OFFLINE:
            agent.pending = PAUSED  # a pending logout wins over a pause
            agent.reason = e.reason
            if e.force and state is WRAP_UP:  # a supervisor cuts the wrap-up short, never a conversation
                agent.work = None
                self._agent_free(agent)

    def _resume(self, e: ev.AgentResume) -> None:
        agent = self._agent(e.agent)
        if agent.state is PAUSED:
            self._staff(agent)
            self._agent_free(agent)
        elif agent.pending is PAUSED:
            agent.pending = None

    def _callback_answer(self, e: ev.CallbackAnswer) -> None:
        c = self.contacts.get(e.contact)
        if c is None or c.state is not CALLBACK_OFFERED:
            return
        if not e.accepted:
            self._end(c, ContactState.DECLINED)
            return
        c.priority = max(c.priority, self.config.callback_priority)
        c.seen = e.t
        self._schedule(c, c.due if e.at is None else max(e.at, e.t))

    def _contact_lost(self, e: ev.ContactLost) -> None:
        c = self.contacts.get(e.contact)
        if c is not None:
            self._lose(c)

    def _contact_alive(self, e: ev.ContactAlive) -> None:
        c = self.contacts.get(e.contact)
        if c is not None and c.state is not SCHEDULED:  # a callback due later is not a live call
            c.seen = e.t  # its `lost` timer, when it fires, is set again from here

    def _phone(self, e: ev.AgentPhone) -> None:
        self.phones[e.agent] = bool(e.registered)
        agent = self.agents.get(e.agent)
        if agent is None or not self.phone_required or agent.state is not AVAILABLE:
            return  # its state applies at its next « Prêt »
        pooled = any(agent in pool for pool in agent.pools)
        if e.registered and not pooled:
            if not self._take_next(agent):
                for pool in agent.pools:
                    pool[agent] = None
        elif not e.registered and pooled:
            for pool in agent.pools:
                del pool[agent]

    def _not_answered(self, e: ev.CallNotAnswered) -> None:
        c = self.contacts.get(e.contact)
        if c is not None and c.consult is not None and c.consult.id == e.agent:
            # the expert's phone did not answer the consult: the N1 agent keeps the caller
            self._no_answer_pause(self._consult_release(c, "no_answer", free=False))
            return
        if c is None or c.state is not CONNECTED or c.agent.id != e.agent:
            return  # ended or given to another agent meanwhile
        agent = c.agent
        c.agent = None
        agent.contact = None
        self._no_answer_pause(agent)
        c.seen = e.t
        self._enqueue(c, c.destination, front=True)

    def _no_answer_pause(self, agent: Agent) -> None:
        # no contact on the state change: a call never answered is no talk (AHT, calls handled)
        if agent.pending is OFFLINE:  # a logout asked meanwhile wins
            agent.pending = None
            self._set_state(agent, OFFLINE)
        else:
            agent.pending = None
            agent.reason = ev.NO_ANSWER_REASON
            self._set_state(agent, PAUSED)
        self._unstaff(agent)

    def _timer(self, e: ev.TimerFired) -> None:
        kind = e.kind
        if kind == ev.OVERFLOW:
            cid, qid = e.ref
            c = self.contacts.get(cid)
            if c is None or c.state is not QUEUED or c.queue.id != qid:
                return
            q = c.queue
            if e.t < c.qtime + q.overflow_after - 1e-6:
                return  # stale timer from an earlier stay in this queue
            target = self.queues[q.overflow_to]
            if target.centre.hours is not None and not self._open(target.centre):
                return
            self._unqueue(c)
            self._out.append(ev.Overflowed(e.t, cid, q.id, target.id))
            self._enqueue(c, target)
        elif kind == ev.CALLBACK_DUE:
            c = self.contacts.get(e.ref)
            if c is None or c.state is not SCHEDULED or e.t < c.due - 1e-6:
                return
            q = c.destination
            if q.centre.hours is not None and not self._open(q.centre):
                at = self._next_opening(q.centre, e.t)
                if at is None:
                    self._end(c, ContactState.CLOSED)
                else:
                    self._schedule(c, at)
                return
            c.channel = CALLBACK
            c.entered = e.t
            c.seen = e.t
            c.level = q.level
            self._enqueue(c, q)
            self._watch(c)
        elif kind == ev.CENTRE_CLOSING:
            centre = self.centres[e.ref]
            if centre.close_timer_at is not None and e.t >= centre.close_timer_at:
                centre.close_timer_at = None
            if self._open(centre):
                return
            # nobody answers in a closed centre: whoever still waits gets a callback proposal
            for q in centre.queues:
                for prio in q.prios:
                    lane = q.lanes[prio]
                    while lane:
                        c = lane.popleft()
                        if c.queue is q and c.state is QUEUED:
                            self._unqueue(c)
                            self._no_room(c, q, "closed")
        elif kind == ev.CENTRE_OPENING:
            centre = self.centres[e.ref]
            if self._open(centre):
                self._drain()
        elif kind == ev.LOST:
            c = self.contacts.get(e.ref)
            if c is None or c.lost_at is None or e.t < c.lost_at - 1e-6:
                return  # ended meanwhile, or a stale timer
            c.lost_at = None
            if c.state is SCHEDULED or self.lost_after is None:
                return  # a callback due later is not a live call: watched again when it is due
            if c.seen + self._lost_after(c) > e.t + 1e-6:
                self._watch(c)  # a sign of life since: wait again from it
            else:
                self._lose(c)
        else:
            raise EngineError(f"unknown timer kind {kind!r}")

    def _drain(self) -> None:
        """Give waiting contacts to available agents (after a centre opens)."""
        for q in self.queues.values():
            while q.waiting:
                agent = self._find_agent(q)
                if agent is None:
                    break
                c = q.head()
                q.lanes[c.priority].popleft()
                self._unqueue(c)
                self._connect(agent, c, q, self.now - c.entered)

    # ------------------------------------------------------------------ snapshot / restore

    def snapshot(self) -> dict:
        """The live state as JSON-ready data; `Engine.restore(config, snapshot)` continues from it
        exactly (same decisions for the same next events), without replaying the whole log."""

        def num(x):
            return None if x is None or x == _INF else x

        return {
            "now": num(self.now) if self.now != -_INF else None,
            "arrived": self.arrived,
            "ended": {str(k): v for k, v in self.ended.items()},
            "phones": dict(self.phones),
            "centres": {
                c.id: [c.open, num(c.valid_until), c.close_timer_at, c.open_timer_at] for c in self.centres.values()
            },
            "queues": {
                q.id: {
                    "aht": q.aht,
                    "lanes": [[p, [c.id for c in q.lanes[p] if c.queue is q and c.state is QUEUED]] for p in q.prios],
                    "idle": [[p, [a.id for a in pool]] for p, pool in q.idle],
                }
                for q in self.queues.values()
            },
            "agents": [
                [a.id, str(a.state), a.since, a.contact.id if a.contact else None,
                 str(a.pending) if a.pending else None, [a.work[0].id, a.work[1]] if a.work else None, a.reason]
                for a in self.agents.values()
            ],
            "contacts": [
                {"id": c.id, "channel": str(c.channel), "state": str(c.state), "queue": c.queue.id if c.queue else None,
                 "priority": c.priority, "entered": c.entered, "qtime": c.qtime, "arrived": c.arrived,
                 "level": c.level, "agent": c.agent.id if c.agent else None, "topic": c.topic, "domain": c.domain,
                 "context": c.context, "destination": c.destination.id if c.destination else None, "due": c.due,
                 "seen": c.seen, "lost_at": c.lost_at, "alive_every": c.alive_every,
                 "consult": [c.consult.id, c.consult_queue.id] if c.consult else None}
                for c in self.contacts.values()
            ],
        }

    @classmethod
    def restore(cls, config: EngineConfig | dict, snap: dict) -> Engine:
        if isinstance(config, dict):
            config = EngineConfig.from_dict(config)
        engine = cls(config)
        engine.now = -_INF if snap["now"] is None else snap["now"]
        engine.arrived = snap["arrived"]
        engine.ended = Counter({ContactState(k): v for k, v in snap["ended"].items()})
        engine.phones = dict(snap.get("phones") or {})
        for cid, (is_open, valid_until, close_at, open_at) in snap["centres"].items():
            c = engine.centres[cid]
            c.open, c.close_timer_at, c.open_timer_at = is_open, close_at, open_at
            c.valid_until = _INF if valid_until is None else valid_until
        queues = engine.queues
        for data in snap["contacts"]:
            c = Contact(data["id"], _CHANNELS[data["channel"]], data["arrived"], data["topic"], data["domain"],
                        data["context"], data["priority"])
            c.state = ContactState(data["state"])
            c.entered, c.qtime, c.level, c.due = data["entered"], data["qtime"], data["level"], data["due"]
            c.seen, c.lost_at = data.get("seen", c.arrived), data.get("lost_at")
            c.alive_every = data.get("alive_every")
            c.queue = queues[data["queue"]] if data["queue"] else None
            c.destination = queues[data["destination"]] if data["destination"] else None
            engine.contacts[c.id] = c
            if data.get("consult"):
                expert_id, queue_id = data["consult"]
                c.consult, c.consult_queue = engine.agents[expert_id], queues[queue_id]
                c.consult.consulting = c
        for aid, state, since, contact, pending, work, *reason in snap["agents"]:
            a = engine.agents[aid]
            a.reason = reason[0] if reason else ""
            a.state = AgentState(state)
            a.since = since
            a.pending = AgentState(pending) if pending else None
            a.work = (queues[work[0]], work[1]) if work else None
            if contact is not None:
                a.contact = engine.contacts[contact]
                a.contact.agent = a
            if a.state is not OFFLINE and a.state is not PAUSED:
                engine._staff(a)
        for qid, data in snap["queues"].items():
            q = queues[qid]
            q.aht = data["aht"]
            for prio, ids in data["lanes"]:
                q.lanes[prio] = deque(engine.contacts[i] for i in ids)
                q.prios.append(prio)
                q.waiting += len(ids)
                q.counts[prio] = len(ids)
            q.prios.sort()
            for prio, ids in data["idle"]:
                pool = engine._pool(q, prio)
                for i in ids:
                    pool[engine.agents[i]] = None
        return engine

    # ------------------------------------------------------------------ invariants (tests, debugging)

    def check(self) -> None:
        """Raise AssertionError if the live state is inconsistent."""
        holders: dict[object, str] = {}
        for agent in self.agents.values():
            if agent.state is ON_CALL and agent.consulting is not None:
                assert agent.contact is None and agent.consulting.consult is agent, f"{agent.id}'s consult"
                assert agent.consulting.agent is not agent, f"{agent.id} consults itself"
            elif agent.state is ON_CALL:
                assert agent.contact is not None, f"{agent.id} on call without contact"
                assert agent.contact.id not in holders, f"contact {agent.contact.id} held twice"
                holders[agent.contact.id] = agent.id
                assert agent.contact.agent is agent
            else:
                assert agent.contact is None, f"{agent.id} holds a contact while {agent.state}"
            in_pools = sum(agent in pool for pool in agent.pools)
            pooled = agent.state is AVAILABLE and self._reachable(agent)
            assert in_pools == (len(agent.pools) if pooled else 0), agent
        for q in self.queues.values():
            live = sum(1 for lane in q.lanes.values() for c in lane if c.queue is q and c.state is QUEUED)
            assert live == q.waiting == sum(q.counts.values()), f"{q.id}: {live} queued, counter {q.waiting}"
        for c in self.contacts.values():
            assert c.state not in TERMINAL
            if c.consult is not None:
                assert c.state is CONNECTED and c.consult.consulting is c and c.consult.state is ON_CALL, c.id
        assert self.arrived == sum(self.ended.values()) + len(self.contacts)


def replay(config: EngineConfig | dict, records: Iterable) -> tuple[Engine, list]:
    """Rebuild an engine from its configuration and an event log (objects or dicts).

    Decision records in the log are skipped: they are recomputed, which is how a replay checks them.
    """
    if isinstance(config, dict):
        config = EngineConfig.from_dict(config)
    engine = Engine(config)
    decisions = []
    for record in records:
        if isinstance(record, dict):
            if record.get("type") not in {cls.__name__ for cls in ev.EVENT_TYPES}:
                continue
            record = ev.from_dict(record)
        elif not isinstance(record, ev.EVENT_TYPES):
            continue
        decisions.extend(engine.handle(record))
    return engine, decisions
