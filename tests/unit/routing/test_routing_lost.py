"""Nothing stays stuck: the `lost` timer, a supervisor's ContactLost, forced pause and logout."""

from __future__ import annotations

import json

from routing_helpers import MONDAY_9, feed, make_config, of

from allo.routing import events as E
from allo.routing.engine import Engine, replay
from allo.routing.kpi import KpiCollector

LOST_AFTER = 600.0




def lost_timer(decisions):
    (req,) = [d for d in of(decisions, E.TimerRequest) if d.kind == E.LOST]
    return req


def engine_with_lost(**kwargs):
    config = make_config(**kwargs)
    config.lost_after_s = LOST_AFTER
    return Engine(config)


def test_a_call_whose_hang_up_never_comes_ends_lost_and_frees_its_agent():
    engine = engine_with_lost()
    log: list = []
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), log=log)
    out = feed(engine, E.ContactArrived(MONDAY_9 + 1, "ghost", "n1"), log=log)
    assert of(out, E.Assign)[0].agent == "a0"
    timer = lost_timer(out)
    assert timer.at == MONDAY_9 + 1 + LOST_AFTER and timer.ref == "ghost"
    feed(engine, E.AgentLogout(MONDAY_9 + 5, "a0"), log=log)  # waits for the end of a call that never ends
    assert engine.agents["a0"].state == "on_call"

    out = feed(engine, E.TimerFired(timer.at, timer.kind, timer.ref), log=log)

    (ended,) = of(out, E.ContactEnded)
    assert (ended.contact, ended.state, ended.queue) == ("ghost", "lost", "n1")
    assert engine.agents["a0"].state == "offline" and engine.agents["a0"].contact is None
    assert "ghost" not in engine.contacts and engine.ended["lost"] == 1
    # counted by the KPIs, and its unknown "talk" stays out of the handle time
    kpi = KpiCollector.from_log(log)
    summary = kpi.summary()
    assert summary["lost"] == 1 and summary["ended"] == {"lost": 1} and summary["aht_n1_s"] is None
    # deterministic: a replay of the events gives the same decisions
    _, decisions = replay(json.loads(json.dumps(engine.config.to_dict())), [E.to_dict(r) for r in log])
    assert decisions == [r for r in log if not isinstance(r, E.EVENT_TYPES)]


def test_a_sign_of_life_postpones_the_timer():
    engine = engine_with_lost(n1=1)
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.AgentLogin(MONDAY_9, "t0"))
    out = feed(engine, E.ContactArrived(MONDAY_9, "c1", "n1"))
    first = lost_timer(out)
    # the N1 agent transfers it warm 500 s later: the caller is alive, the wait starts again
    feed(engine, E.CallEnded(MONDAY_9 + 500, "c1", transfer="impots", wrap_up=False))
    assert engine.contacts["c1"].agent.id == "t0"
    out = feed(engine, E.TimerFired(first.at, first.kind, first.ref))
    assert not of(out, E.ContactEnded)
    again = lost_timer(out)
    assert again.at == MONDAY_9 + 500 + LOST_AFTER
    out = feed(engine, E.CallEnded(MONDAY_9 + 700, "c1"))
    assert of(out, E.ContactEnded)[0].state == "completed"
    assert feed(engine, E.TimerFired(again.at, again.kind, again.ref)) == []  # ended meanwhile: stale


def test_the_connectors_keep_alive_lets_a_long_conversation_outlive_the_timer():
    engine = engine_with_lost()
    log: list = []
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), log=log)
    timer = lost_timer(feed(engine, E.ContactArrived(MONDAY_9, "long", "n1"), log=log))
    # still talking: the connector says so before the delay runs out (nothing is decided by it)
    assert feed(engine, E.ContactAlive(MONDAY_9 + 500, "long"), log=log) == []
    out = feed(engine, E.TimerFired(timer.at, timer.kind, timer.ref), log=log)
    assert not of(out, E.ContactEnded) and engine.contacts["long"].state == "connected"
    again = lost_timer(out)
    assert again.at == MONDAY_9 + 500 + LOST_AFTER
    # no sign of life since: lost after all
    out = feed(engine, E.TimerFired(again.at, again.kind, again.ref), log=log)
    assert of(out, E.ContactEnded)[0].state == "lost"
    assert feed(engine, E.ContactAlive(again.at + 1, "long"), log=log) == []  # ended: ignored
    _, decisions = replay(json.loads(json.dumps(engine.config.to_dict())), [E.to_dict(r) for r in log])
    assert decisions == [r for r in log if not isinstance(r, E.EVENT_TYPES)]


def test_a_waiting_caller_never_heard_of_again_is_lost_from_the_queue():
    engine = engine_with_lost()
    out = feed(engine, E.ContactArrived(MONDAY_9, "q1", "n1"))
    assert of(out, E.Queued)
    timer = lost_timer(out)
    out = feed(engine, E.TimerFired(timer.at, timer.kind, timer.ref))
    (ended,) = of(out, E.ContactEnded)
    assert (ended.state, ended.waited, ended.queue) == ("lost", LOST_AFTER, "n1")
    assert engine.queue_length("n1") == 0


def test_a_waiting_caller_whose_keep_alives_stop_is_lost_after_five_of_them():
    """ContactArrived.alive_every_s: the voice edge sends a sign of life every 60 s. A waiting caller
    whose node died is lost after 5 missed (300 s), not after lost_after_s; one kept alive stays; one in
    conversation is watched as before (its agent's desk ends it), and so is a caller without keep-alives."""
    engine = Engine(make_config(n1=1))
    engine.config.lost_after_s = engine.lost_after = 7200.0
    log: list = []
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), log=log)
    talking = lost_timer(feed(engine, E.ContactArrived(MONDAY_9, "talking", "n1", alive_every_s=60.0), log=log))
    assert engine.contacts["talking"].state == "connected" and talking.at == MONDAY_9 + 300
    waiting = lost_timer(feed(engine, E.ContactArrived(MONDAY_9 + 10, "waiting", "n1", alive_every_s=60.0), log=log))
    plain = lost_timer(feed(engine, E.ContactArrived(MONDAY_9 + 20, "plain", "n1"), log=log))
    kept = lost_timer(feed(engine, E.ContactArrived(MONDAY_9 + 30, "kept", "n1", alive_every_s=60.0), log=log))
    assert (waiting.at, plain.at, kept.at) == (MONDAY_9 + 310, MONDAY_9 + 7220, MONDAY_9 + 330)
    for minute in range(1, 5):
        feed(engine, E.ContactAlive(MONDAY_9 + 30 + 60 * minute, "kept"), log=log)

    out = feed(engine, E.TimerFired(talking.at, talking.kind, talking.ref), log=log)
    assert not of(out, E.ContactEnded)  # in conversation: watched again in 300 s, lost after 2 h only
    assert lost_timer(out).at == talking.at + 300
    out = feed(engine, E.TimerFired(waiting.at, waiting.kind, waiting.ref), log=log)
    (ended,) = of(out, E.ContactEnded)
    assert (ended.contact, ended.state, ended.waited) == ("waiting", "lost", 300.0)
    feed(engine, E.ContactAlive(MONDAY_9 + 320, "kept"), log=log)
    out = feed(engine, E.TimerFired(kept.at, kept.kind, kept.ref), log=log)
    assert not of(out, E.ContactEnded) and lost_timer(out).at == MONDAY_9 + 320 + 300
    assert engine.queue_length("n1") == 2  # « plain » and « kept » still wait
    # a restart keeps each contact's period (snapshot), and a replay decides the same
    restored = Engine.restore(engine.config, json.loads(json.dumps(engine.snapshot())))
    assert restored.contacts["kept"].alive_every == 60.0 and restored.contacts["plain"].alive_every is None
    _, decisions = replay(json.loads(json.dumps(engine.config.to_dict())), [E.to_dict(r) for r in log])
    assert decisions == [r for r in log if not isinstance(r, E.EVENT_TYPES)]


def test_a_scheduled_callback_is_not_a_live_call_until_it_is_due():
    engine = engine_with_lost()
    out = feed(engine, E.ContactArrived(MONDAY_9, "cb", "n1", channel="callback", due=MONDAY_9 + 3600))
    assert not [d for d in of(out, E.TimerRequest) if d.kind == E.LOST]
    due = of(out, E.TimerRequest)[0]
    out = feed(engine, E.TimerFired(due.at, due.kind, due.ref))
    assert of(out, E.Queued)
    assert lost_timer(out).at == MONDAY_9 + 3600 + LOST_AFTER


def test_without_lost_after_nothing_is_watched(engine):
    out = feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.ContactArrived(MONDAY_9, 1, "n1"))
    assert not of(out, E.TimerRequest) or all(d.kind != E.LOST for d in of(out, E.TimerRequest))


def test_a_supervisor_ends_a_ghost_call():
    engine = engine_with_lost()
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.ContactArrived(MONDAY_9 + 1, "ghost", "n1"),
         E.ContactArrived(MONDAY_9 + 2, "next", "n1"))
    out = feed(engine, E.ContactLost(MONDAY_9 + 30, "ghost", "supervisor"))
    assert [(d.contact, d.state) for d in of(out, E.ContactEnded)] == [("ghost", "lost")]
    # the freed agent takes the caller who was waiting
    assert of(out, E.Assign)[0].contact == "next"
    assert feed(engine, E.ContactLost(MONDAY_9 + 31, "ghost")) == []  # already ended: nothing


def test_forced_logout_of_a_stuck_agent():
    engine = engine_with_lost()
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.AgentLogin(MONDAY_9, "a1"),
         E.ContactArrived(MONDAY_9 + 1, "c0", "n1"), E.ContactArrived(MONDAY_9 + 2, "c1", "n1"))
    # a plain logout waits for the end of the call; a forced one ends it as lost
    feed(engine, E.AgentLogout(MONDAY_9 + 3, "a0"))
    assert engine.agents["a0"].state == "on_call"
    out = feed(engine, E.AgentLogout(MONDAY_9 + 4, "a0", force=True))
    assert [(d.contact, d.state) for d in of(out, E.ContactEnded)] == [("c0", "lost")]
    assert engine.agents["a0"].state == "offline"
    # stuck in wrap-up (the desk was closed): logged out at once
    feed(engine, E.CallEnded(MONDAY_9 + 10, "c1"))
    assert engine.agents["a1"].state == "wrap_up"
    out = feed(engine, E.AgentLogout(MONDAY_9 + 11, "a1", force=True))
    assert [(d.prev, d.state) for d in of(out, E.AgentStateChanged)] == [("wrap_up", "offline")]
    assert engine.queues["n1"].staffed == 0


def test_forced_pause_cuts_a_wrap_up_never_a_conversation_and_keeps_its_reason():
    engine = engine_with_lost()
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.AgentLogin(MONDAY_9, "a1"),
         E.ContactArrived(MONDAY_9 + 1, "c0", "n1"), E.ContactArrived(MONDAY_9 + 2, "c1", "n1"))
    feed(engine, E.CallEnded(MONDAY_9 + 10, "c1"))
    out = feed(engine, E.AgentPause(MONDAY_9 + 11, "a1", "Supervision", force=True))
    (change,) = of(out, E.AgentStateChanged)
    assert (change.prev, change.state, change.reason) == ("wrap_up", "paused", "Supervision")
    out = feed(engine, E.AgentPause(MONDAY_9 + 12, "a0", "Repas", force=True))
    assert out == [] and engine.agents["a0"].state == "on_call"  # the caller is still talking
    out = feed(engine, E.CallEnded(MONDAY_9 + 20, "c0", wrap_up=False))
    assert [(d.state, d.reason) for d in of(out, E.AgentStateChanged)] == [("paused", "Repas")]


def test_snapshot_keeps_the_timers_state_and_the_pause_reason():
    engine = engine_with_lost()
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.AgentLogin(MONDAY_9, "a1"),
         E.AgentPause(MONDAY_9 + 1, "a1", "Formation"))
    out = feed(engine, E.ContactArrived(MONDAY_9 + 2, "c0", "n1"))
    timer = lost_timer(out)
    snap = json.loads(json.dumps(engine.snapshot()))
    restored = Engine.restore(json.loads(json.dumps(engine.config.to_dict())), snap)
    assert restored.agents["a1"].reason == "Formation"
    assert restored.handle(E.TimerFired(timer.at, timer.kind, timer.ref)) == \
        engine.handle(E.TimerFired(timer.at, timer.kind, timer.ref))


def test_watch_all_arms_contacts_of_an_engine_that_had_no_timer():
    engine = Engine(make_config())
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.ContactArrived(MONDAY_9 + 1, "old", "n1"))
    config = engine.config.to_dict() | {"lost_after_s": LOST_AFTER}
    restored = Engine.restore(config, json.loads(json.dumps(engine.snapshot())))
    (req,) = restored.watch_all()
    assert (req.kind, req.ref, req.at) == (E.LOST, "old", MONDAY_9 + 1 + LOST_AFTER)
    assert restored.watch_all() == []  # one timer at a time
