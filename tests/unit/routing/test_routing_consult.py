"""Warm transfer with a consult (issue 11, item 3): the N1 agent talks with the N2 expert the engine
reserves, then completes (the caller becomes the expert's) or cancels (back to the caller); every
party may end it at any time, and nothing stays reserved."""

from __future__ import annotations

import json

from routing_helpers import MONDAY_9, feed, make_config, of

from allo.routing import events as E
from allo.routing.engine import Engine, replay
from allo.routing.kpi import KpiCollector


def talking(tax=2, log=None) -> Engine:
    """a0 talks with c1 from MONDAY_9 + 10; tax experts t0, t1 ready (t0 longest idle)."""
    engine = Engine(make_config(n1=1, tax=tax))
    feed(engine, E.AgentLogin(MONDAY_9, "t0"), *(E.AgentLogin(MONDAY_9 + 1 + i, f"t{i}") for i in range(1, tax)),
         E.AgentLogin(MONDAY_9 + 5, "a0"), E.ContactArrived(MONDAY_9 + 10, "c1", "n1"), log=log)
    return engine


def test_a_consult_reserves_the_longest_idle_expert_with_the_context_and_the_completion_hands_the_caller_over():
    engine = talking()
    out = feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots", "revenus fonciers ?", "F1234", "urgent"))
    (started,) = of(out, E.ConsultStarted)
    assert (started.agent, started.expert, started.queue, started.domain) == ("a0", "t0", "tax", "impots")
    assert started.context["question"] == "revenus fonciers ?" and started.context["from_agent"] == "a0"
    assert engine.agents["t0"].state == "on_call" and engine.agents["a0"].state == "on_call"
    assert engine.contacts["c1"].agent.id == "a0"  # the caller is still the N1 agent's, on hold

    # meanwhile t0 is offered nothing: a blind transfer goes to t1
    feed(engine, E.ContactArrived(MONDAY_9 + 61, "c2", "n1"))  # waits: a0 is busy
    assert engine.queues["n1"].waiting == 1

    out = feed(engine, E.ConsultEnd(MONDAY_9 + 120, "c1", "a0", complete=True))
    assert [type(d).__name__ for d in out if not isinstance(d, E.TimerRequest)] == [
        "ConsultEnded", "AgentStateChanged", "Transferred", "Assign"]
    assert of(out, E.ConsultEnded)[0].outcome == "completed"
    (moved,) = of(out, E.AgentStateChanged)
    assert (moved.agent, moved.state, moved.contact) == ("a0", "wrap_up", "c1")
    (assign,) = of(out, E.Assign)
    assert (assign.agent, assign.queue, assign.level, assign.waited) == ("t0", "tax", 2, 0.0)
    assert assign.context["note"] == "urgent"
    assert engine.contacts["c1"].agent.id == "t0" and engine.contacts["c1"].level == 2

    # the expert ends the call: its talk counts from the consult's start
    out = feed(engine, E.CallEnded(MONDAY_9 + 300, "c1", agent="t0"))
    (ended,) = of(out, E.ContactEnded)
    assert ended.state == "completed"
    (t0_done,) = [d for d in of(out, E.AgentStateChanged) if d.agent == "t0"]
    assert (t0_done.prev, t0_done.since, t0_done.contact) == ("on_call", MONDAY_9 + 60, "c1")


def test_a_cancelled_consult_gives_the_caller_back_and_frees_the_expert_without_a_handled_call():
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"))
    out = feed(engine, E.ConsultEnd(MONDAY_9 + 90, "c1", "a0"))
    assert [(d.outcome, d.expert) for d in of(out, E.ConsultEnded)] == [("cancelled", "t0")]
    (freed,) = of(out, E.AgentStateChanged)
    assert (freed.agent, freed.prev, freed.state, freed.contact) == ("t0", "on_call", "available", None)
    c = engine.contacts["c1"]
    assert c.agent.id == "a0" and c.level == 1 and c.consult is None
    # a second consult picks the longest idle again: t1 (t0 was just freed)
    out = feed(engine, E.ConsultStart(MONDAY_9 + 100, "c1", "a0", "impots"))
    assert of(out, E.ConsultStarted)[0].expert == "t1"


def test_the_expert_may_decline_and_nobody_else_may_end_the_consult():
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"))
    assert feed(engine, E.ConsultEnd(MONDAY_9 + 61, "c1", "t1", complete=True)) == []  # not a party
    assert feed(engine, E.ConsultEnd(MONDAY_9 + 62, "c1", "t0", complete=True)) != []  # the expert declines
    assert engine.contacts["c1"].agent.id == "a0" and engine.agents["t0"].state == "available"


def test_no_expert_ready_or_closed_ends_the_consult_at_once_and_the_blind_transfer_stays_available():
    engine = talking(tax=1)
    feed(engine, E.AgentPause(MONDAY_9 + 20, "t0", "Repas"))
    out = feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots", "q"))
    assert [(d.outcome, d.expert) for d in of(out, E.ConsultEnded)] == [("unavailable", None)]
    assert engine.agents["t0"].state == "paused"
    out = feed(engine, E.CallEnded(MONDAY_9 + 70, "c1", transfer="impots", agent="a0"))
    assert of(out, E.Transferred)[0].domain == "impots"
    assert of(out, E.ProposeCallback)[0].reason == "saturated"  # nobody staffed: a callback, no dead end

    late = talking(tax=1)
    evening = 17.5 * 3600  # the tax centre closes at 17:00, the line at 19:00
    feed(late, E.ContactArrived(evening, "c9", "n1"))  # a0 is on c1: c9 waits
    out = feed(late, E.ConsultStart(evening + 1, "c1", "a0", "impots"))
    assert [d.outcome for d in of(out, E.ConsultEnded)] == ["closed"]


def test_the_caller_hanging_up_during_a_consult_frees_both_agents():
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"))
    out = feed(engine, E.CallerHungUp(MONDAY_9 + 80, "c1"))
    assert [d.outcome for d in of(out, E.ConsultEnded)] == ["hangup"]
    assert of(out, E.ContactEnded)[0].state == "completed"
    assert engine.agents["t0"].state == "available" and engine.agents["a0"].state == "wrap_up"


def test_the_n1_agent_ending_the_call_or_transferring_blind_cancels_the_consult():
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"))
    out = feed(engine, E.CallEnded(MONDAY_9 + 70, "c1", transfer="consommation", agent="a0"))
    assert [d.outcome for d in of(out, E.ConsultEnded)] == ["cancelled"]
    assert of(out, E.Transferred)[0].domain == "consommation"
    assert engine.agents["t0"].state == "available"


def test_the_experts_phone_not_answering_pauses_it_and_the_caller_stays_with_the_n1_agent():
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"))
    out = feed(engine, E.CallNotAnswered(MONDAY_9 + 75, "c1", "t0"))
    assert [d.outcome for d in of(out, E.ConsultEnded)] == ["no_answer"]
    assert engine.agents["t0"].state == "paused" and engine.agents["t0"].reason == E.NO_ANSWER_REASON
    assert engine.contacts["c1"].agent.id == "a0"


def test_a_supervisor_logging_the_expert_out_or_losing_the_call_releases_the_consult():
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"))
    out = feed(engine, E.AgentLogout(MONDAY_9 + 70, "t0", force=True))
    assert [d.outcome for d in of(out, E.ConsultEnded)] == ["cancelled"]
    assert engine.agents["t0"].state == "offline" and engine.contacts["c1"].agent.id == "a0"

    feed(engine, E.ConsultStart(MONDAY_9 + 80, "c1", "a0", "impots"))  # t1 now
    out = feed(engine, E.ContactLost(MONDAY_9 + 90, "c1"))
    assert [d.outcome for d in of(out, E.ConsultEnded)] == ["lost"]
    assert engine.agents["t1"].state == "available" and "c1" not in engine.contacts


def test_a_pause_asked_by_the_expert_during_the_consult_applies_after_it():
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"), E.AgentPause(MONDAY_9 + 61, "t0", "Repas"))
    feed(engine, E.ConsultEnd(MONDAY_9 + 90, "c1", "a0"))
    assert engine.agents["t0"].state == "paused" and engine.agents["t0"].reason == "Repas"


def test_a_consult_survives_a_snapshot_and_a_replay_identically():
    log: list = []
    engine = talking(log=log)
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots", "q"), log=log)
    snap = json.loads(json.dumps(engine.snapshot()))
    restored = Engine.restore(make_config(n1=1, tax=2), snap)
    restored.check()
    rest = [E.ConsultEnd(MONDAY_9 + 120, "c1", "a0", complete=True), E.CallEnded(MONDAY_9 + 200, "c1", agent="t0")]
    assert feed(restored, *rest) == feed(engine, *rest, log=log)
    replayed, _ = replay(make_config(n1=1, tax=2), [E.to_dict(e) for e in log])
    assert replayed.snapshot() == engine.snapshot()


def test_a_completed_consult_counts_as_a_transfer_answered_at_once_at_n2():
    engine = talking()
    collector = KpiCollector(900)
    decisions = feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"),
                     E.ConsultEnd(MONDAY_9 + 120, "c1", "a0", complete=True),
                     E.WrapUpEnded(MONDAY_9 + 130, "a0"), E.CallEnded(MONDAY_9 + 300, "c1", agent="t0"))
    collector.arrived(E.ContactArrived(MONDAY_9 + 10, "c1", "n1"))
    collector.feed_many(decisions)
    figures = collector.summary()
    assert figures["transfers_by_domain"] == {"impots": 1}
    assert figures["service_level_n2_by_queue"] == {"tax": 1.0}


def test_a_transfer_to_the_consulted_domain_completes_the_consult_whatever_the_desk_believed():
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots", "q", None, "note du début"))
    out = feed(engine, E.CallEnded(MONDAY_9 + 100, "c1", transfer="impots", agent="a0", note="note finale"))
    assert [d.outcome for d in of(out, E.ConsultEnded)] == ["completed"]
    assert [(d.agent, d.waited) for d in of(out, E.Assign)] == [("t0", 0.0)]  # the consulted expert
    assert of(out, E.Assign)[0].context["note"] == "note finale" and of(out, E.Assign)[0].context["question"] == "q"
    # without wrap-up the N1 agent is free at once
    engine = talking()
    feed(engine, E.ConsultStart(MONDAY_9 + 60, "c1", "a0", "impots"))
    feed(engine, E.CallEnded(MONDAY_9 + 100, "c1", transfer="impots", agent="a0", wrap_up=False))
    assert engine.agents["a0"].state == "available" and engine.contacts["c1"].agent.id == "t0"
