"""The voice edge's two inputs to the engine (issue 11): an agent's phone registered or not
(AgentPhone, with `phone_required`), and a phone that did not answer (CallNotAnswered)."""

from __future__ import annotations

import json

from routing_helpers import MONDAY_9, feed, make_config, of

from allo.routing import events as E
from allo.routing.engine import Engine, replay


def voice_engine(**kwargs) -> Engine:
    config = make_config(**kwargs)
    config.phone_required = True
    return Engine(config)


def test_an_agent_whose_phone_is_not_registered_is_never_offered_a_call():
    engine = voice_engine(n1=2)
    feed(engine, E.AgentPhone(MONDAY_9 - 60, "a1", True))  # a1's phone registered before its agent signs in
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.AgentLogin(MONDAY_9 + 1, "a1"))
    assert engine.agents["a0"].state == "available"  # ready on its desk...
    out = feed(engine, E.ContactArrived(MONDAY_9 + 10, "c1", "n1"))
    assert [d.agent for d in of(out, E.Assign)] == ["a1"]  # ...but a0, longest idle, has no phone
    out = feed(engine, E.ContactArrived(MONDAY_9 + 11, "c2", "n1"))
    assert not of(out, E.Assign) and of(out, E.Queued)[0].position == 1

    # a0's phone registers: it takes the waiting call at once
    out = feed(engine, E.AgentPhone(MONDAY_9 + 20, "a0", True))
    (assign,) = of(out, E.Assign)
    assert (assign.contact, assign.agent, assign.waited) == ("c2", "a0", 9)


def test_a_phone_that_unregisters_takes_its_agent_out_of_the_offers_until_it_registers_again():
    engine = voice_engine(n1=1)
    feed(engine, E.AgentPhone(MONDAY_9, "a0", True), E.AgentLogin(MONDAY_9, "a0"),
         E.AgentPhone(MONDAY_9 + 5, "a0", False))
    out = feed(engine, E.ContactArrived(MONDAY_9 + 10, "c1", "n1"))
    assert not of(out, E.Assign)
    assert engine.agents["a0"].state == "available"  # still ready: only its phone is missing
    feed(engine, E.AgentPause(MONDAY_9 + 12, "a0"), E.AgentResume(MONDAY_9 + 13, "a0"))  # no pool to leave
    assert engine.queues["n1"].waiting == 1
    out = feed(engine, E.AgentPhone(MONDAY_9 + 30, "a0", True))
    assert [d.agent for d in of(out, E.Assign)] == ["a0"]


def test_without_phone_required_the_phone_events_change_nothing():
    engine = Engine(make_config(n1=1))
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.AgentPhone(MONDAY_9 + 1, "a0", False))
    out = feed(engine, E.ContactArrived(MONDAY_9 + 2, "c1", "n1"))
    assert [d.agent for d in of(out, E.Assign)] == ["a0"]


def test_a_phone_that_does_not_answer_sends_the_call_back_to_the_head_of_its_queue():
    engine = voice_engine(n1=2)
    log: list = []
    feed(engine, E.AgentPhone(MONDAY_9, "a0", True), E.AgentPhone(MONDAY_9, "a1", True),
         E.AgentLogin(MONDAY_9, "a0"), log=log)
    feed(engine, E.ContactArrived(MONDAY_9 + 1, "first", "n1"), log=log)  # to a0
    feed(engine, E.ContactArrived(MONDAY_9 + 2, "second", "n1"), log=log)  # waits

    out = feed(engine, E.CallNotAnswered(MONDAY_9 + 21, "first", "a0"), log=log)

    (queued,) = of(out, E.Queued)
    assert (queued.contact, queued.position) == ("first", 1)  # before "second", which came later
    (change,) = of(out, E.AgentStateChanged)
    assert (change.agent, change.prev, change.state, change.reason, change.contact) == (
        "a0", "on_call", "paused", E.NO_ANSWER_REASON, None)  # no contact: no talk counted
    assert engine.contacts["first"].agent is None and engine.agents["a0"].contact is None
    # a0 is offered nothing until it says « Prêt »; the next ready agent takes « first », then « second »
    out = feed(engine, E.AgentLogin(MONDAY_9 + 25, "a1"), log=log)
    (assign,) = of(out, E.Assign)
    assert (assign.contact, assign.agent, assign.waited) == ("first", "a1", 24)  # its wait kept
    out = feed(engine, E.AgentResume(MONDAY_9 + 30, "a0"), log=log)
    assert [(d.contact, d.agent) for d in of(out, E.Assign)] == [("second", "a0")]

    # replayed from its log, through JSON, the same engine comes back (AgentPhone, CallNotAnswered included)
    records = [json.loads(json.dumps(E.to_dict(e))) for e in log]
    again, _ = replay(make_config(n1=2).to_dict() | {"phone_required": True}, records)
    assert again.snapshot() == engine.snapshot()


def test_a_late_no_answer_report_is_ignored():
    engine = voice_engine(n1=1)
    feed(engine, E.AgentPhone(MONDAY_9, "a0", True), E.AgentLogin(MONDAY_9, "a0"),
         E.ContactArrived(MONDAY_9 + 1, "c1", "n1"), E.CallerHungUp(MONDAY_9 + 5, "c1"))
    out = feed(engine, E.CallNotAnswered(MONDAY_9 + 6, "c1", "a0"))
    assert out == [] and engine.agents["a0"].state == "wrap_up"


def test_a_logout_asked_while_the_phone_rang_wins_over_the_no_answer_pause():
    engine = voice_engine(n1=1)
    feed(engine, E.AgentPhone(MONDAY_9, "a0", True), E.AgentLogin(MONDAY_9, "a0"),
         E.ContactArrived(MONDAY_9 + 1, "c1", "n1"), E.AgentLogout(MONDAY_9 + 2, "a0"))
    out = feed(engine, E.CallNotAnswered(MONDAY_9 + 6, "c1", "a0"))
    assert engine.agents["a0"].state == "offline"
    assert of(out, E.Queued)[0].contact == "c1"


def test_phones_and_the_no_answer_pause_survive_a_snapshot():
    engine = voice_engine(n1=1)
    feed(engine, E.AgentPhone(MONDAY_9, "a0", True), E.AgentLogin(MONDAY_9, "a0"),
         E.ContactArrived(MONDAY_9 + 1, "c1", "n1"), E.CallNotAnswered(MONDAY_9 + 21, "c1", "a0"))
    config = make_config(n1=1)
    config.phone_required = True
    restored = Engine.restore(config, json.loads(json.dumps(engine.snapshot())))
    restored.check()
    assert restored.phones == {"a0": True} and restored.agents["a0"].reason == E.NO_ANSWER_REASON
    out = feed(restored, E.AgentResume(MONDAY_9 + 30, "a0"))
    assert [(d.contact, d.agent) for d in of(out, E.Assign)] == [("c1", "a0")]
