"""Calls a partner administration sends (allo/partners) reach the engine as a plain `priority` of
ContactArrived: -1 (prioritaire) before the line's own calls (0), which come before callbacks (1)."""

from __future__ import annotations

import json

from routing_helpers import MONDAY_9, make_config

from allo.routing import events as E
from allo.routing.engine import Engine, replay


def feed(engine, *events):
    out = []
    for e in events:
        out.extend(engine.handle(e))
        engine.check()
    return out


def of(decisions, cls):
    return [d for d in decisions if isinstance(d, cls)]


def _events():
    t = MONDAY_9
    return [E.AgentLogin(t, "a0"),
            E.ContactArrived(t + 1, "busy", "n1"),
            E.ContactArrived(t + 2, "direct-1", "n1"),
            E.ContactArrived(t + 3, "direct-2", "n1"),
            E.ContactArrived(t + 4, "mairie", "n1", priority=-1),
            E.ContactArrived(t + 5, "caf-basse", "n1", priority=1),
            E.CallEnded(t + 60, "busy", wrap_up=False),
            E.CallEnded(t + 120, "mairie", wrap_up=False),
            E.CallEnded(t + 180, "direct-1", wrap_up=False),
            E.CallEnded(t + 240, "direct-2", wrap_up=False)]


def test_a_prioritised_partner_call_is_answered_before_earlier_direct_calls():
    engine = Engine(make_config(n1=1))
    out = feed(engine, *_events()[:6])
    positions = {q.contact: q.position for q in of(out, E.Queued)}
    # the partner's call is announced first in line, the low-priority one behind everybody
    assert positions == {"direct-1": 1, "direct-2": 2, "mairie": 1, "caf-basse": 4}
    answered = [a.contact for e in _events()[6:] for a in of(feed(engine, e), E.Assign)]
    assert answered == ["mairie", "direct-1", "direct-2", "caf-basse"]
    assert engine.queue_length("n1") == 0


def test_partner_priority_survives_a_snapshot_and_a_replay():
    config = make_config(n1=1)
    engine = Engine(config)
    events = _events()
    log = []
    for e in events[:6]:
        log.append(e)
        log.extend(engine.handle(e))
    # restart from a snapshot stored as JSON: the partner's call keeps its place
    snap = json.loads(json.dumps(engine.snapshot()))
    restored = Engine.restore(json.loads(json.dumps(config.to_dict())), snap)
    rest = events[6:]
    assert [r for e in rest for r in restored.handle(e)] == [r for e in rest for r in engine.handle(e)]
    # and the journal (events with their priority, as JSON) replays to the same decisions
    stored = json.loads(json.dumps([E.to_dict(r) for r in log]))
    _, decisions = replay(config.to_dict(), stored)
    assert decisions == [r for r in log if not isinstance(r, E.EVENT_TYPES)]
