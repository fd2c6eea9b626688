"""Events (inputs) and decisions (outputs) of the routing engine.

Small slotted dataclasses: the simulator creates millions of them. Every one serialises to a flat
dict with a "type" key and back, so the live server can store the log and replay it.
Times `t` are seconds since the engine's epoch (naive Europe/Paris local time).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# ---------------------------------------------------------------- events fed to the engine


@dataclass(slots=True)
class ContactArrived:
    """A call reaches a queue (or a web callback request, channel="callback", due at `due`)."""

    t: float
    contact: Any
    queue: str
    topic: str | None = None
    domain: str | None = None  # N2 domain if known upfront (impots, consommation, ...)
    channel: str = "call"
    priority: int = 0
    due: float | None = None
    context: dict | None = None
    # the connector will send a sign of life (ContactAlive) this often: waiting, the contact is lost after
    # EngineConfig.missed_alives of them go missing (a voice node that died), not after lost_after_s
    alive_every_s: float | None = None


@dataclass(slots=True)
class CallerHungUp:
    """The caller hung up. Counted as an abandon when no agent had answered yet."""

    t: float
    contact: Any


@dataclass(slots=True)
class CallEnded:
    """The agent ends the conversation: resolved, or warm transfer to `transfer` (an N2 domain; during a
    consult of that domain, the consult's completion: the caller goes to the consulted expert).

    For an outbound callback, reached=False means the citizen did not answer.
    `wrap_up` False returns the agent straight to available (no after-call work).
    """

    t: float
    contact: Any
    transfer: str | None = None
    agent: str | None = None  # when given, a report from another agent than the holder is ignored
    question: str | None = None
    fiche: str | None = None
    note: str | None = None
    reached: bool = True
    wrap_up: bool = True


@dataclass(slots=True)
class WrapUpEnded:
    t: float
    agent: str


@dataclass(slots=True)
class AgentLogin:
    t: float
    agent: str


@dataclass(slots=True)
class AgentLogout:
    """Asked during a call or a wrap-up, the logout waits for its end; `force` (a supervisor) ends
    the agent's call as lost, or its wrap-up, and logs out now."""

    t: float
    agent: str
    force: bool = False


@dataclass(slots=True)
class AgentPause:
    """A pause asked during a call waits for its end; `force` (a supervisor) also cuts a wrap-up
    short, never a conversation."""

    t: float
    agent: str
    reason: str = ""
    force: bool = False


@dataclass(slots=True)
class AgentResume:
    t: float
    agent: str


@dataclass(slots=True)
class CallbackAnswer:
    """The caller's answer to a callback proposal; `at` overrides the proposed time."""

    t: float
    contact: Any
    accepted: bool
    at: float | None = None


@dataclass(slots=True)
class ContactLost:
    """The contact shows no sign of life (its hang-up never came): a supervisor ends it. It ends
    `lost` and its agent is freed; the engine does the same by itself after `lost_after_s`."""

    t: float
    contact: Any
    reason: str = ""


@dataclass(slots=True)
class ContactAlive:
    """The connector says the call is still up (a long conversation): a sign of life, so the `lost`
    timer waits again from now. Nothing else changes; an ended or unknown contact is ignored."""

    t: float
    contact: Any


@dataclass(slots=True)
class AgentPhone:
    """The agent's phone registered (`registered`) or unregistered / expired at the voice edge. With
    `EngineConfig.phone_required`, an agent is offered calls only while its phone is registered; the
    state is kept for any agent id, logged in or not (a phone often registers before its agent signs in)."""

    t: float
    agent: str
    registered: bool


@dataclass(slots=True)
class CallNotAnswered:
    """The agent's phone rang without an answer, refused or could not be reached: the call goes back to
    the head of its queue, and the agent to a « pas de réponse » pause (offered nothing until it resumes).
    A report for a call the agent no longer holds is ignored."""

    t: float
    contact: Any
    agent: str


@dataclass(slots=True)
class ConsultStart:
    """Warm transfer, first step: the N1 agent holding the call asks to talk with an N2 expert of
    `domain` before handing the caller over. The caller is on hold; the longest-idle ready expert of
    the domain's open queues is reserved for the consult and gets the call's context (question, fiche,
    note). With no expert ready the consult ends at once (ConsultEnded "unavailable" or "closed"): the
    N1 agent may still transfer blind, into the queue."""

    t: float
    contact: Any
    agent: str
    domain: str
    question: str | None = None
    fiche: str | None = None
    note: str | None = None


@dataclass(slots=True)
class ConsultEnd:
    """The consult ends. `complete` from the N1 agent hands the caller to the expert (a transfer answered
    at once; the N1 agent goes to wrap-up); otherwise the N1 agent takes the caller back (cancelled), or
    the expert, sending it, declines. A report from anyone else, or about no consult, is ignored."""

    t: float
    contact: Any
    agent: str
    complete: bool = False


@dataclass(slots=True)
class TimerFired:
    """A timer the engine asked for (TimerRequest) has expired; the caller feeds it back."""

    t: float
    kind: str
    ref: Any


# ---------------------------------------------------------------- decisions returned


@dataclass(slots=True)
class Queued:
    """The contact waits in `queue`; `position` (1 = next) and expected wait for announcements."""

    t: float
    contact: Any
    queue: str
    level: int
    position: int
    expected_wait_s: float


@dataclass(slots=True)
class Assign:
    """Connect `contact` to `agent` (outbound when it is a callback)."""

    t: float
    contact: Any
    agent: str
    queue: str
    level: int
    waited: float  # seconds in this queue before the answer
    outbound: bool = False
    context: dict | None = None


@dataclass(slots=True)
class Transferred:
    """Warm transfer: the caller stays on the line and moves to N2 with its context."""

    t: float
    contact: Any
    domain: str
    queue: str | None  # chosen N2 queue; None when every candidate is closed or saturated


@dataclass(slots=True)
class ConsultStarted:
    """The expert `expert` (of N2 queue `queue`) is reserved to talk with `agent`, who holds the caller on
    hold; the context goes to the expert's desk."""

    t: float
    contact: Any
    agent: str
    expert: str
    domain: str
    queue: str
    context: dict | None = None


@dataclass(slots=True)
class ConsultEnded:
    """A consult's end, or a consult that could not start. `outcome`: completed (the caller is the
    expert's: Transferred and Assign follow), cancelled (by the N1 agent, or its end of the call),
    declined (by the expert), no_answer (the expert's phone), hangup (the caller), lost, or at the
    start unavailable (no expert ready) / closed (every destination closed); `expert` None then."""

    t: float
    contact: Any
    agent: str | None
    expert: str | None
    domain: str | None
    outcome: str


@dataclass(slots=True)
class Overflowed:
    t: float
    contact: Any
    from_queue: str
    to_queue: str


@dataclass(slots=True)
class ProposeCallback:
    """No dead end: offer a callback at `at` because the destination is closed or saturated."""

    t: float
    contact: Any
    queue: str
    at: float
    reason: str  # "closed" | "saturated"


@dataclass(slots=True)
class CallbackScheduled:
    t: float
    contact: Any
    queue: str
    at: float


@dataclass(slots=True)
class TimerRequest:
    """Ask the caller to feed TimerFired(kind, ref) back at time `at`."""

    t: float
    at: float
    kind: str
    ref: Any


@dataclass(slots=True)
class AgentStateChanged:
    """`agent` went from `prev` (held since `since`) to `state`; `contact` is the call it was on."""

    t: float
    agent: str
    level: int
    prev: str
    state: str
    since: float
    contact: Any = None
    reason: str | None = None  # why, when the new state is paused


@dataclass(slots=True)
class ContactEnded:
    """The contact's single terminal state. `waited` is the time in its last queue, if any."""

    t: float
    contact: Any
    state: str
    level: int
    waited: float | None = None
    queue: str | None = None


# timer kinds
OVERFLOW = "overflow"
CALLBACK_DUE = "callback_due"
CENTRE_CLOSING = "centre_closing"
CENTRE_OPENING = "centre_opening"
LOST = "lost"  # a live contact's last sign of life is lost_after_s old

NO_ANSWER_REASON = "Pas de réponse"  # the pause reason after CallNotAnswered (the desks and the floor show it)

EVENT_TYPES = (ContactArrived, CallerHungUp, CallEnded, WrapUpEnded, AgentLogin, AgentLogout, AgentPause,
               AgentResume, CallbackAnswer, ContactLost, ContactAlive, AgentPhone, CallNotAnswered, ConsultStart,
               ConsultEnd, TimerFired)
DECISION_TYPES = (Queued, Assign, Transferred, ConsultStarted, ConsultEnded, Overflowed, ProposeCallback,
                  CallbackScheduled, TimerRequest, AgentStateChanged, ContactEnded)
_BY_NAME = {cls.__name__: cls for cls in EVENT_TYPES + DECISION_TYPES}
_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in EVENT_TYPES + DECISION_TYPES}


# fields added after journals were written: left out of to_dict while None, so a record without them
# is written as before (the simulator's reference logs, tests/unit/simulation, keep their digests)
_SPARSE = frozenset({"alive_every_s"})


def to_dict(record) -> dict[str, Any]:
    """A flat JSON-ready dict; enum values are plain strings already (StrEnum)."""
    out = {"type": type(record).__name__}
    for name in _FIELDS[type(record)]:
        value = getattr(record, name)
        if value is None and name in _SPARSE:
            continue
        out[name] = str(value) if hasattr(value, "value") else value
    return out


def from_dict(data: dict[str, Any]):
    """Rebuild an event or decision from to_dict's output."""
    data = dict(data)
    try:
        cls = _BY_NAME[data.pop("type")]
    except KeyError as exc:
        raise ValueError(f"unknown record type {exc.args[0]!r}") from None
    return cls(**data)
