from __future__ import annotations

import json

import pytest
from routing_helpers import MONDAY_9, H, make_config

from allo.routing import events as E
from allo.routing.engine import Engine, EngineError, replay
from allo.routing.model import AgentConfig, CentreConfig, EngineConfig, QueueConfig


def feed(engine, *events):
    out = []
    for e in events:
        out.extend(engine.handle(e))
        engine.check()
    return out


def of(decisions, cls):
    return [d for d in decisions if isinstance(d, cls)]


def login_all(engine, t=MONDAY_9):
    return feed(engine, *[E.AgentLogin(t, a) for a in engine.agents])


def test_longest_idle_agent_gets_the_call(engine):
    feed(engine, E.AgentLogin(MONDAY_9, "a1"), E.AgentLogin(MONDAY_9 + 5, "a0"))
    out = feed(engine, E.ContactArrived(MONDAY_9 + 10, 1, "n1"))
    assert of(out, E.Assign)[0].agent == "a1"  # idle since 09:00:00, a0 only since 09:00:05
    out = feed(engine, E.ContactArrived(MONDAY_9 + 11, 2, "n1"))
    assert of(out, E.Assign)[0].agent == "a0"
    # a0 ends first, so becomes the longest idle
    feed(engine, E.CallEnded(MONDAY_9 + 50, 2, wrap_up=False), E.CallEnded(MONDAY_9 + 60, 1, wrap_up=False))
    out = feed(engine, E.ContactArrived(MONDAY_9 + 70, 3, "n1"))
    assert of(out, E.Assign)[0].agent == "a0"


def test_fifo_queue_expected_wait_and_abandon(engine):
    feed(engine, E.AgentLogin(MONDAY_9, "a0"))
    feed(engine, E.ContactArrived(MONDAY_9 + 1, 1, "n1"))
    q2 = of(feed(engine, E.ContactArrived(MONDAY_9 + 2, 2, "n1")), E.Queued)[0]
    q3 = of(feed(engine, E.ContactArrived(MONDAY_9 + 3, 3, "n1")), E.Queued)[0]
    assert (q2.position, q3.position) == (1, 2)
    assert q3.expected_wait_s == pytest.approx(2 * q2.expected_wait_s)
    assert engine.expected_wait("n1") == pytest.approx(3 * q2.expected_wait_s)
    ended = of(feed(engine, E.CallerHungUp(MONDAY_9 + 4, 2)), E.ContactEnded)[0]
    assert (ended.state, ended.waited, ended.level) == ("abandoned", 2, 1)
    out = feed(engine, E.CallEnded(MONDAY_9 + 100, 1, wrap_up=False))
    assign = of(out, E.Assign)[0]
    assert (assign.contact, assign.waited) == (3, 97)
    assert engine.queue_length("n1") == 0


def test_skill_priorities_primary_agents_first_and_primary_queue_first():
    cfg = EngineConfig(
        [CentreConfig("c")],
        [QueueConfig("vip", "c"), QueueConfig("std", "c")],
        [AgentConfig("generalist", "c", 1, {"std": 1, "vip": 2}), AgentConfig("expert", "c", 1, {"vip": 1})],
    )
    engine = Engine(cfg)
    feed(engine, E.AgentLogin(0, "generalist"), E.AgentLogin(10, "expert"))
    # the generalist has been idle longer, but vip prefers its primary agents
    assert of(feed(engine, E.ContactArrived(20, 1, "vip")), E.Assign)[0].agent == "expert"
    assert of(feed(engine, E.ContactArrived(21, 2, "vip")), E.Assign)[0].agent == "generalist"
    feed(engine, E.ContactArrived(22, 3, "vip"), E.ContactArrived(23, 4, "std"))
    # freed, the generalist serves its primary skill (std) although the vip contact waited longer
    out = feed(engine, E.CallEnded(30, 2, wrap_up=False))
    assert of(out, E.Assign)[0].contact == 4
    out = feed(engine, E.CallEnded(40, 4, wrap_up=False))
    assert of(out, E.Assign)[0].contact == 3


def test_contact_priority_within_a_queue():
    cfg = EngineConfig([CentreConfig("c")], [QueueConfig("q", "c")], [AgentConfig("a", "c", 1, {"q": 1})])
    engine = Engine(cfg)
    feed(engine, E.AgentLogin(0, "a"), E.ContactArrived(1, "busy", "q"))
    feed(engine, E.ContactArrived(2, "low", "q", priority=1), E.ContactArrived(3, "high", "q", priority=0))
    assert of(feed(engine, E.CallEnded(10, "busy", wrap_up=False)), E.Assign)[0].contact == "high"


def test_overflow_after_wait_to_partner_team():
    cfg = EngineConfig(
        [CentreConfig("main"), CentreConfig("partner")],
        [QueueConfig("n1", "main", overflow_to="n1p", overflow_after_s=60), QueueConfig("n1p", "partner")],
        [AgentConfig("a", "main", 1, {"n1": 1}), AgentConfig("p", "partner", 1, {"n1p": 1})],
    )
    engine = Engine(cfg)
    feed(engine, E.AgentLogin(0, "a"), E.ContactArrived(1, 1, "n1"))
    out = feed(engine, E.ContactArrived(2, 2, "n1"))
    timer = of(out, E.TimerRequest)[0]
    assert (timer.at, timer.kind) == (62, E.OVERFLOW)
    feed(engine, E.AgentLogin(30, "p"))  # partner idle but no skill on n1: the call still waits
    out = feed(engine, E.TimerFired(timer.at, timer.kind, timer.ref))
    assert of(out, E.Overflowed)[0].to_queue == "n1p"
    assign = of(out, E.Assign)[0]
    assert (assign.agent, assign.waited) == ("p", 60)  # the wait counts from the first queue


def test_overflow_timer_is_ignored_once_answered():
    cfg = EngineConfig(
        [CentreConfig("main")],
        [QueueConfig("n1", "main", overflow_to="n1p", overflow_after_s=60), QueueConfig("n1p", "main")],
        [AgentConfig("a", "main", 1, {"n1": 1})],
    )
    engine = Engine(cfg)
    feed(engine, E.AgentLogin(0, "a"), E.ContactArrived(1, 1, "n1"))
    timer = of(feed(engine, E.ContactArrived(2, 2, "n1")), E.TimerRequest)[0]
    feed(engine, E.CallEnded(10, 1, wrap_up=False))
    assert feed(engine, E.TimerFired(timer.at, timer.kind, timer.ref)) == []


def test_warm_transfer_carries_context_to_the_domain_centre(engine):
    login_all(engine)
    feed(engine, E.ContactArrived(MONDAY_9 + 1, 7, "n1", topic="impot-revenu"))
    out = feed(engine, E.CallEnded(MONDAY_9 + 100, 7, transfer="impots", agent="a0", question="Quand payer ?",
                                   fiche="impot-revenu", note="caller already declared online"))
    assert of(out, E.Transferred)[0].queue == "tax"
    assign = of(out, E.Assign)[0]
    assert assign.agent == "t0" and assign.level == 2 and not assign.outbound
    assert assign.context["question"] == "Quand payer ?"
    assert assign.context["fiche"] == "impot-revenu"
    assert assign.context["note"] == "caller already declared online"
    assert assign.context["from_agent"] == "a0"
    # the N1 agent wraps up; the contact is still live (one contact, no redial)
    states = of(out, E.AgentStateChanged)
    assert states[0].agent == "a0" and states[0].state == "wrap_up"
    assert not of(out, E.ContactEnded)
    out = feed(engine, E.CallEnded(MONDAY_9 + 400, 7))
    assert of(out, E.ContactEnded)[0].state == "completed"


def test_domains_consumer_centre_and_informant_network_fallback(engine):
    login_all(engine)
    feed(engine, E.ContactArrived(MONDAY_9 + 1, 1, "n1"), E.ContactArrived(MONDAY_9 + 2, 2, "n1"))
    out = feed(engine, E.CallEnded(MONDAY_9 + 10, 1, transfer="consommation"))
    assert of(out, E.Transferred)[0].queue == "conso"
    out = feed(engine, E.CallEnded(MONDAY_9 + 11, 2, transfer="logement"))
    assert of(out, E.Transferred)[0].queue in {"cira0", "cira1"}


def test_informant_network_is_load_balanced(engine):
    login_all(engine)
    chosen = []
    for cid in range(4):
        feed(engine, E.ContactArrived(MONDAY_9 + cid, cid, "n1", topic="x"))
        out = feed(engine, E.CallEnded(MONDAY_9 + cid + 0.5, cid, transfer="cira", wrap_up=False))
        chosen.append(of(out, E.Transferred)[0].queue)
    # two idle agents (one per centre) take the first two; then queues fill evenly
    assert sorted(chosen[:2]) == ["cira0", "cira1"]
    assert sorted(chosen[2:]) == ["cira0", "cira1"]


def test_closed_destination_gives_a_callback_then_an_outbound_call(engine):
    t = 18 * H  # Monday 18:00: N1 open, N2 closed since 17:00
    feed(engine, E.AgentLogin(t, "a0"), E.ContactArrived(t + 1, 1, "n1"))
    out = feed(engine, E.CallEnded(t + 60, 1, transfer="impots"))
    assert of(out, E.Transferred)[0].queue is None
    proposal = of(out, E.ProposeCallback)[0]
    assert proposal.reason == "closed"
    assert proposal.at == 24 * H + 9 * H  # Tuesday 09:00, the tax centre's next opening
    assert not of(out, E.Assign)  # nothing routed to a closed centre
    out = feed(engine, E.CallbackAnswer(t + 70, 1, True))
    timer = of(out, E.TimerRequest)[0]
    assert of(out, E.CallbackScheduled)[0].at == timer.at == proposal.at
    tuesday = 33 * H
    feed(engine, E.WrapUpEnded(t + 80, "a0"), E.AgentLogin(tuesday, "t0"))
    out = feed(engine, E.TimerFired(timer.at, timer.kind, timer.ref))
    assign = of(out, E.Assign)[0]
    assert assign.outbound and assign.agent == "t0" and assign.context["domain"] == "impots"
    out = feed(engine, E.CallEnded(tuesday + 300, 1, reached=False))
    assert of(out, E.ContactEnded)[0].state == "unreached"


def test_declined_callback_is_terminal(engine):
    t = 18 * H
    feed(engine, E.AgentLogin(t, "a0"), E.ContactArrived(t + 1, 1, "n1"))
    feed(engine, E.CallEnded(t + 60, 1, transfer="impots"))
    out = feed(engine, E.CallbackAnswer(t + 61, 1, False))
    assert of(out, E.ContactEnded)[0].state == "declined"
    assert engine.contacts == {}


def test_saturated_destination_proposes_a_callback():
    cfg = make_config(tax=1)
    cfg.queues[1].max_waiting = 1
    engine = Engine(cfg)
    login_all(engine)
    for cid in range(4):
        feed(engine, E.ContactArrived(MONDAY_9 + cid, cid, "n1"))
    feed(engine, E.CallEnded(MONDAY_9 + 10, 0, transfer="impots", wrap_up=False))  # answered by t0
    feed(engine, E.CallEnded(MONDAY_9 + 11, 1, transfer="impots", wrap_up=False))  # waits
    out = feed(engine, E.CallEnded(MONDAY_9 + 12, 2, transfer="impots", wrap_up=False))
    proposal = of(out, E.ProposeCallback)[0]
    assert proposal.reason == "saturated" and proposal.at == MONDAY_9 + 12 + 3600


def test_web_callback_request_is_a_scheduled_contact(engine):
    out = feed(engine, E.ContactArrived(8 * H, "web-1", "tax", channel="callback", due=10 * H,
                                        context={"question": "Taxe foncière"}))
    assert of(out, E.CallbackScheduled)[0].at == 10 * H
    feed(engine, E.AgentLogin(9 * H, "t0"))
    out = feed(engine, E.TimerFired(10 * H, E.CALLBACK_DUE, "web-1"))
    assert of(out, E.Assign)[0].outbound


def test_arrival_at_closed_line_and_flush_at_closing(engine):
    out = feed(engine, E.ContactArrived(7 * H, 1, "n1"))  # Monday 07:00
    assert of(out, E.ContactEnded)[0].state == "closed"
    out = feed(engine, E.AgentLogin(18 * H, "a0"))
    closing = of(out, E.TimerRequest)[0]
    assert (closing.kind, closing.at) == (E.CENTRE_CLOSING, 19 * H)
    feed(engine, E.ContactArrived(18.9 * H, 2, "n1"), E.ContactArrived(18.95 * H, 3, "n1"))
    out = feed(engine, E.TimerFired(closing.at, closing.kind, closing.ref))
    assert [d.contact for d in of(out, E.ProposeCallback)] == [3]  # 2 is on the phone with a0
    assert engine.queue_length("n1") == 0


def test_an_opening_timer_for_a_centre_without_hours_changes_nothing():
    # after a live reconfiguration a centre may lose its hours while its timers are still pending
    config = EngineConfig([CentreConfig("line", hours=None)], [QueueConfig("n1", "line", 1)],
                          [AgentConfig("a0", "line", 1, {"n1": 1})], {}, epoch="2026-03-02T00:00:00")
    engine = Engine(config)
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.ContactArrived(MONDAY_9 + 1, 1, "n1"))
    for kind in (E.CENTRE_CLOSING, E.CENTRE_OPENING):
        assert feed(engine, E.TimerFired(MONDAY_9 + 2, kind, "line")) == []
    assert engine.is_open("line") and engine.agents["a0"].state == "on_call"


def test_agent_states_pause_logout_pending_until_wrap_up(engine):
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.ContactArrived(MONDAY_9 + 1, 1, "n1"))
    assert engine.agents["a0"].state == "on_call"
    feed(engine, E.AgentPause(MONDAY_9 + 2, "a0", "break"))
    out = feed(engine, E.CallEnded(MONDAY_9 + 10, 1))
    assert engine.agents["a0"].state == "wrap_up"
    feed(engine, E.ContactArrived(MONDAY_9 + 11, 2, "n1"))
    out = feed(engine, E.WrapUpEnded(MONDAY_9 + 30, "a0"))
    assert engine.agents["a0"].state == "paused" and not of(out, E.Assign)
    out = feed(engine, E.AgentResume(MONDAY_9 + 60, "a0"))
    assert of(out, E.Assign)[0].contact == 2
    feed(engine, E.AgentLogout(MONDAY_9 + 61, "a0"))
    assert engine.agents["a0"].state == "on_call"
    feed(engine, E.CallEnded(MONDAY_9 + 90, 2, wrap_up=False))
    assert engine.agents["a0"].state == "offline"
    assert engine.state_counts()["offline"] == len(engine.agents)


def test_time_only_moves_forward_and_unknown_ids_are_errors(engine):
    feed(engine, E.AgentLogin(MONDAY_9, "a0"))
    with pytest.raises(EngineError):
        engine.handle(E.AgentLogin(MONDAY_9 - 1, "a1"))
    with pytest.raises(EngineError, match="unknown agent"):
        engine.handle(E.AgentLogin(MONDAY_9, "nobody"))
    with pytest.raises(EngineError, match="unknown queue"):
        engine.handle(E.ContactArrived(MONDAY_9, 1, "nowhere"))


def test_invalid_configuration_is_named():
    with pytest.raises(EngineError, match="unknown centre 'x'"):
        Engine(EngineConfig([], [QueueConfig("q", "x")], []))
    with pytest.raises(EngineError, match="unknown skill queue 'q2'"):
        Engine(EngineConfig([CentreConfig("c")], [QueueConfig("q", "c")], [AgentConfig("a", "c", 1, {"q2": 1})]))


def _scripted_events():
    t = MONDAY_9
    evs = [E.AgentLogin(t, a) for a in ["a0", "a1", "t0", "k0", "c0-0", "c1-0"]]
    for cid in range(6):
        evs.append(E.ContactArrived(t + 10 * cid, cid, "n1", topic=f"topic-{cid}"))
    evs += [E.CallEnded(t + 100, 0, transfer="impots", note="n"), E.CallEnded(t + 105, 1),
            E.WrapUpEnded(t + 125, "a1"), E.WrapUpEnded(t + 126, "a0"), E.CallerHungUp(t + 130, 5),
            E.CallEnded(t + 200, 2, transfer="cira"), E.CallEnded(t + 300, 0)]
    return evs


def test_records_round_trip_through_json_and_replay_is_identical():
    config = make_config()
    engine = Engine(config)
    log = []
    for event in _scripted_events():
        log.append(event)
        log.extend(engine.handle(event))
    stored = json.loads(json.dumps([E.to_dict(r) for r in log]))
    rebuilt = [E.from_dict(d) for d in stored]
    assert rebuilt == log
    # replay the stored log (events only are applied) from the stored configuration
    cfg_dict = json.loads(json.dumps(config.to_dict()))
    engine2, decisions = replay(cfg_dict, stored)
    assert decisions == [r for r in log if not isinstance(r, E.EVENT_TYPES)]
    assert engine2.ended == engine.ended


def test_from_dict_rejects_unknown_type():
    with pytest.raises(ValueError, match="unknown record type 'Nope'"):
        E.from_dict({"type": "Nope"})


def test_agents_logged_in_before_opening_take_waiting_work_at_opening():
    cfg = EngineConfig(
        [CentreConfig("early", hours={"mon": [["08:00", "19:00"]]}), CentreConfig("always")],
        [QueueConfig("q", "always")],
        [AgentConfig("x", "early", 1, {"q": 1})],
        epoch="2026-03-02T00:00:00",
    )
    engine = Engine(cfg)
    out = feed(engine, E.AgentLogin(7.8 * H, "x"))
    opening = [d for d in of(out, E.TimerRequest) if d.kind == E.CENTRE_OPENING][0]
    assert opening.at == 8 * H
    out = feed(engine, E.ContactArrived(7.9 * H, 1, "q"))
    assert of(out, E.Queued) and not of(out, E.Assign)  # x's centre is still closed
    out = feed(engine, E.TimerFired(opening.at, opening.kind, opening.ref))
    assert of(out, E.Assign)[0].agent == "x"


def test_a_pending_logout_wins_over_a_later_pause(engine):
    feed(engine, E.AgentLogin(MONDAY_9, "a0"), E.ContactArrived(MONDAY_9 + 1, 1, "n1"))
    feed(engine, E.AgentLogout(MONDAY_9 + 2, "a0"), E.AgentPause(MONDAY_9 + 3, "a0"))
    feed(engine, E.CallEnded(MONDAY_9 + 10, 1, wrap_up=False))
    assert engine.agents["a0"].state == "offline"


def test_position_counts_only_those_served_first():
    cfg = EngineConfig([CentreConfig("c")], [QueueConfig("q", "c", aht_s=100)], [AgentConfig("a", "c", 1, {"q": 1})])
    engine = Engine(cfg)
    feed(engine, E.AgentLogin(0, "a"), E.ContactArrived(1, "busy", "q"))
    low = of(feed(engine, E.ContactArrived(2, "cb1", "q", priority=1)), E.Queued)[0]
    live = of(feed(engine, E.ContactArrived(3, "live", "q")), E.Queued)[0]
    low2 = of(feed(engine, E.ContactArrived(4, "cb2", "q", priority=1)), E.Queued)[0]
    assert (low.position, live.position, low2.position) == (1, 1, 3)
    assert live.expected_wait_s == 100.0 and low2.expected_wait_s == 300.0
