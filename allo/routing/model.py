"""The routing engine's static configuration and live state.

Configuration (centres, queues, agents, destinations) is plain data that round-trips through dicts
so the live server can store it and a replay can rebuild the same engine. Live state objects use
__slots__: the simulator creates one Contact per call and touches agents on every event.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from allo.routing.hours import OpeningHours


class AgentState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class ContactState(StrEnum):
    QUEUED = "queued"
    CONNECTED = "connected"  # talking with an agent
    CALLBACK_OFFERED = "callback_offered"  # waiting for the caller's yes/no
    SCHEDULED = "scheduled"  # a callback due later
    # terminal states: a contact reaches exactly one of them
    COMPLETED = "completed"  # served; the last agent ended the call
    ABANDONED = "abandoned"  # the caller hung up before an agent answered
    CLOSED = "closed"  # nobody could take it and no callback was possible
    DECLINED = "declined"  # the caller refused the callback proposal
    UNREACHED = "unreached"  # the outbound callback did not reach the citizen
    LOST = "lost"  # no sign of life for lost_after_s, or ended by a supervisor (« perdu »)


_QUEUED = ContactState.QUEUED  # enum attribute access is slow on 3.11; Queue.head is hot

TERMINAL = frozenset(
    {ContactState.COMPLETED, ContactState.ABANDONED, ContactState.CLOSED, ContactState.DECLINED,
     ContactState.UNREACHED, ContactState.LOST}
)


class Channel(StrEnum):
    CALL = "call"
    CALLBACK = "callback"  # web callback request, or a callback accepted after a closed transfer


@dataclass
class CentreConfig:
    id: str
    name: str = ""
    # None means always open (e.g. the M/M/c test model); otherwise weekly ranges as in from_dict
    hours: dict[str, list[list[str]]] | None = None
    public_holidays: bool = True
    subdivision: str | None = None
    closures: list[list[str]] = field(default_factory=list)  # [["2026-12-24", "2026-12-26"], ...]

    def opening_hours(self) -> OpeningHours | None:
        if self.hours is None:
            return None
        closures = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in self.closures]
        return OpeningHours.from_dict(
            self.hours, closures=closures, public_holidays=self.public_holidays, subdivision=self.subdivision
        )


@dataclass
class QueueConfig:
    id: str
    centre: str
    level: int = 1
    aht_s: float = 180.0  # initial handle-time estimate for the expected wait; learnt from calls
    overflow_to: str | None = None  # move contacts still waiting after overflow_after_s to this queue
    overflow_after_s: float | None = None
    # a transfer destination is saturated when more than max_waiting contacts wait or the expected
    # wait exceeds max_wait_s: the caller then gets a callback proposal instead of a long wait
    max_waiting: int | None = None
    max_wait_s: float | None = None
    callback_delay_s: float = 3600.0  # a saturated destination proposes a callback this much later


@dataclass
class AgentConfig:
    id: str
    centre: str
    level: int = 1
    skills: dict[str, int] = field(default_factory=dict)  # queue id -> priority (1 = primary)


@dataclass
class EngineConfig:
    centres: list[CentreConfig]
    queues: list[QueueConfig]
    agents: list[AgentConfig]
    # transfer domain -> candidate N2 queues; "*" is the fallback (the informant-centre network),
    # load-balanced across the open ones
    destinations: dict[str, list[str]] = field(default_factory=dict)
    epoch: str = "2026-01-01T00:00:00"  # event times are seconds since this naive local moment
    callback_priority: int = 1  # contact priority of callbacks (0 = live calls first)
    aht_smoothing: float = 0.05  # weight of the last handle time in the queue's estimate
    # a live contact (waiting, talking, asked about a callback) with no sign of life for this long
    # is ended `lost` and its agent freed: a hang-up that never came leaves no ghost. None: never
    # (the simulator, whose callers always end). Signs of life: arrival, answer, transfer, callback
    # answer, callback due.
    lost_after_s: float | None = None
    # a contact whose connector announced keep-alives (ContactArrived.alive_every_s) is lost sooner: after
    # this many periods without one (its voice node died), if that is shorter than lost_after_s
    missed_alives: int = 5
    # the voice edge carries the calls: an agent is offered one only while its phone is registered
    # (AgentPhone events); False for the simulator and the call generator, whose agents have no phone
    phone_required: bool = False

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        return cls(
            centres=[CentreConfig(**c) for c in data["centres"]],
            queues=[QueueConfig(**q) for q in data["queues"]],
            agents=[AgentConfig(**a) for a in data["agents"]],
            **{k: v for k, v in data.items() if k not in {"centres", "queues", "agents"}},
        )


class Centre:
    __slots__ = ("id", "hours", "open", "valid_until", "close_timer_at", "open_timer_at", "queues")

    def __init__(self, cfg: CentreConfig):
        self.id = cfg.id
        self.hours = cfg.opening_hours()
        self.open = True
        self.valid_until = -1.0 if self.hours is not None else float("inf")
        self.close_timer_at: float | None = None
        self.open_timer_at: float | None = None
        self.queues: list[Queue] = []


class Queue:
    __slots__ = (
        "id", "centre", "level", "lanes", "prios", "counts", "waiting", "idle", "staffed", "aht", "overflow_to",
        "overflow_after", "max_waiting", "max_wait", "callback_delay",
    )

    def __init__(self, cfg: QueueConfig, centre: Centre):
        self.id = cfg.id
        self.centre = centre
        self.level = cfg.level
        # contact priority -> FIFO of contacts; stale entries (answered, abandoned, moved) are
        # skipped lazily so removal is O(1)
        self.lanes: dict[int, deque[Contact]] = {}
        self.prios: list[int] = []  # lane keys, sorted
        self.counts: dict[int, int] = {}  # live contacts per priority (for positions)
        self.waiting = 0
        # agent skill priority -> idle agents in idle-since order (a dict is an ordered set)
        self.idle: list[tuple[int, dict[Agent, None]]] = []
        self.staffed = 0  # logged-in agents with this skill (for the expected wait)
        self.aht = cfg.aht_s
        self.overflow_to = cfg.overflow_to
        self.overflow_after = cfg.overflow_after_s
        self.max_waiting = cfg.max_waiting
        self.max_wait = cfg.max_wait_s
        self.callback_delay = cfg.callback_delay_s

    def head(self) -> Contact | None:
        """The contact to serve next: best priority lane, oldest entry."""
        for prio in self.prios:
            lane = self.lanes[prio]
            while lane:
                c = lane[0]
                if c.queue is self and c.state is _QUEUED:
                    return c
                lane.popleft()
        return None


class Agent:
    __slots__ = ("id", "centre", "level", "skills", "state", "since", "contact", "pending", "pools", "order",
                 "work", "reason", "consulting")

    def __init__(self, cfg: AgentConfig, order: int):
        self.id = cfg.id
        self.centre: Centre | None = None
        self.level = cfg.level
        self.skills: list[list[Queue]] = []  # queues grouped by skill priority, best first
        self.pools: list[dict[Agent, None]] = []  # the idle pools this agent joins when available
        self.state = AgentState.OFFLINE
        self.since = 0.0
        self.contact: Contact | None = None
        self.pending: AgentState | None = None  # logout/pause asked during a call, applied after it
        self.order = order
        self.work: tuple[Queue, float] | None = None  # (queue, talk seconds) of the call being wrapped up
        self.reason = ""  # of the pause asked last
        self.consulting: Contact | None = None  # an N2 expert talking with the N1 agent who holds this call

    def __repr__(self) -> str:
        return f"Agent({self.id!r}, {self.state})"


class Contact:
    __slots__ = ("id", "channel", "state", "queue", "priority", "entered", "arrived", "level", "agent",
                 "domain", "context", "topic", "destination", "qtime", "due", "seen", "lost_at", "consult",
                 "consult_queue", "alive_every")

    def __init__(self, id, channel, arrived, topic, domain, context, priority):
        self.id = id
        self.channel = channel
        self.state = ContactState.QUEUED
        self.queue: Queue | None = None
        self.priority = priority
        self.entered = arrived  # when it started waiting at its current level (overflow keeps it)
        self.qtime = arrived  # when it entered its current queue
        self.due = 0.0  # proposed or scheduled callback time
        self.arrived = arrived
        self.level = 1
        self.agent: Agent | None = None
        self.topic = topic
        self.domain = domain
        self.context = context  # question, fiche, operator's note: travels with warm transfers
        self.destination: Queue | None = None  # queue of a proposed or scheduled callback
        self.seen = arrived  # last sign of life
        self.lost_at: float | None = None  # when its pending `lost` timer fires
        self.alive_every: float | None = None  # its connector's keep-alive period (ContactArrived.alive_every_s)
        # a consult under way (warm transfer): the expert reserved for it and the N2 queue it was picked for
        self.consult: Agent | None = None
        self.consult_queue: Queue | None = None
