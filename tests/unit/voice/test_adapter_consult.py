"""The adapter's side of the consult call (issue 11, item 3): on `hold`, Kamailio's dlg.bridge_dlg calls the
operator's phone and refers it to sip:consult-<token>@edge; that INVITE goes to the expert's phone; the
transfer, `unhold`, a hang-up or the expert's no-answer end it. Stand-ins for Kamailio's evapi and JSON-RPC,
rtpengine and Allô's API (no network). The real stack: tests/integration/voice/test_voice_transfer.py."""

from __future__ import annotations

import asyncio

import pytest
from edge_doubles import talking
from loopback import run_async

from allo.voice.adapter import Adapter, SipCall, event_id


class Api:
    def __init__(self):
        self.posted: list[tuple] = []

    async def no_answer(self, call_id, agent, event_id):
        self.posted.append(("no-answer", call_id, agent, event_id))

    async def hangup(self, call_id):
        self.posted.append(("hangup", call_id))

    async def consult_left(self, call_id, agent, event_id):
        self.posted.append(("consult-left", call_id, agent, event_id))


def _held(tmp_path, monkeypatch):
    """A caller talking to the operator; the router's `hold` (the consult of the expert) comes."""
    return talking(tmp_path, monkeypatch, Api())


HOLD = {"seq": 1, "command": "hold", "call_id": "c1", "agent": "operateur", "expert": "expert-impots"}


async def _consult_answered(adapter: Adapter, call: SipCall, rpcs: list) -> None:
    await adapter.on_command(HOLD)
    assert call.held
    leg = call.consult
    assert rpcs == [("dlg.bridge_dlg", ["sip:operateur@allo.test", f"sip:consult-{leg.token}@192.0.2.1:5060",
                                        "sip:192.0.2.1:5060"])]
    assert len(leg.token) == 32 and leg.state == "bridging"
    # Kamailio's REFER makes the operator's phone call the consult address: parked, sent to the expert
    await adapter.on_event({"event": "invite", "tindex": 5, "tlabel": 6, "callid": "consult-call",
                            "fromtag": "operator-tag", "cseq": "2", "caller": "operateur",
                            "dialed": f"consult-{leg.token}"})
    assert adapter.evapi.sent == [{"cmd": "dispatch", "tindex": 5, "tlabel": 6, "target": "sip:expert-impots@allo.test"}]
    await adapter.on_event({"event": "answered", "callid": "consult-call", "fromtag": "operator-tag",
                            "totag": "expert-tag"})
    assert (leg.state, leg.to_tag) == ("talking", "expert-tag")
    assert call.state == "talking" and call.agent == "operateur"  # the caller's call is untouched
    adapter.evapi.sent.clear()


def test_completing_the_consult_ends_its_call_then_refers_the_caller(tmp_path, monkeypatch):
    async def scenario():
        adapter, call, rpcs = _held(tmp_path, monkeypatch)
        await _consult_answered(adapter, call, rpcs)
        await adapter.on_command({"seq": 2, "command": "transfer", "call_id": "c1", "centre": "n2-impots",
                                  "domain": "impots"})
        assert adapter.evapi.sent == [{"cmd": "end", "callid": "consult-call", "fromtag": "operator-tag",
                                       "totag": "expert-tag"}]
        assert ("delete", "consult-call") in adapter.ng.requests
        assert [method for method, _ in rpcs] == ["dlg.bridge_dlg", "tm.t_uac_start"]  # then the caller's REFER
        assert call.state == "transferring" and call.consult is None
        assert not adapter.consults and not adapter.consult_legs

    run_async(scenario())


def test_unhold_ends_the_consult_call_first_and_an_unknown_consult_address_is_refused(tmp_path, monkeypatch):
    async def scenario():
        adapter, call, rpcs = _held(tmp_path, monkeypatch)
        await _consult_answered(adapter, call, rpcs)
        token = call.consult.token
        await adapter.on_command({"seq": 2, "command": "unhold", "call_id": "c1"})
        assert adapter.evapi.sent == [{"cmd": "end", "callid": "consult-call", "fromtag": "operator-tag",
                                       "totag": "expert-tag"}]
        assert adapter.ng.commands[-3:] == ["delete", "unblock media", "unblock media"]
        assert not call.held and call.consult is None
        # the same address called again (or a stranger's): 480
        await adapter.on_event({"event": "invite", "tindex": 9, "tlabel": 9, "callid": "late", "dialed": f"consult-{token}"})
        assert adapter.evapi.sent[-1] == {"cmd": "reject", "tindex": 9, "tlabel": 9, "code": 480}

    run_async(scenario())


def test_the_experts_phone_not_answering_the_consult_is_its_no_answer(tmp_path, monkeypatch):
    async def scenario():
        adapter, call, rpcs = _held(tmp_path, monkeypatch)
        await adapter.on_command(HOLD)
        await adapter.on_event({"event": "invite", "tindex": 5, "tlabel": 6, "callid": "consult-call",
                                "fromtag": "operator-tag", "dialed": f"consult-{call.consult.token}"})
        # the ring time passes: Kamailio parks the INVITE again and says so
        await adapter.on_event({"event": "noanswer", "callid": "consult-call", "code": 408, "tindex": 11,
                                "tlabel": 12})
        await asyncio.sleep(0)
        assert adapter.evapi.sent[-1] == {"cmd": "reject", "tindex": 11, "tlabel": 12, "code": 480}
        assert adapter.api.posted == [("no-answer", "c1", "expert-impots", f"{event_id('consult-call')}:1")]
        assert call.consult is None and call.state == "talking" and call.agent == "operateur"
        sent = len(adapter.evapi.sent)
        await adapter.on_command({"seq": 2, "command": "unhold", "call_id": "c1"})  # the router's answer to it
        assert len(adapter.evapi.sent) == sent and not call.held

    run_async(scenario())


def test_the_caller_hanging_up_ends_the_consult_call_and_allo_hanging_up_cancels_a_ringing_one(
        tmp_path, monkeypatch):
    async def scenario():
        adapter, call, rpcs = _held(tmp_path, monkeypatch)
        await _consult_answered(adapter, call, rpcs)
        await adapter.on_event({"event": "bye", "callid": "first-call", "side": "caller"})
        await asyncio.sleep(0)
        assert adapter.evapi.sent == [{"cmd": "end", "callid": "consult-call", "fromtag": "operator-tag",
                                       "totag": "expert-tag"}]
        assert ("hangup", "c1") in adapter.api.posted

        adapter, call, rpcs = _held(tmp_path, monkeypatch)
        await adapter.on_command(HOLD)
        await adapter.on_event({"event": "invite", "tindex": 5, "tlabel": 6, "callid": "consult-call", "cseq": "2",
                                "fromtag": "operator-tag", "dialed": f"consult-{call.consult.token}"})
        await adapter.on_command({"seq": 2, "command": "hangup", "call_id": "c1", "reason": "lost"})
        assert {"cmd": "cancel", "callid": "consult-call", "cseq": "2"} in adapter.evapi.sent
        # the cancelled branch: Kamailio's failure route parks it again; the operator's phone gets 480
        await adapter.on_event({"event": "noanswer", "callid": "consult-call", "code": 487, "tindex": 13,
                                "tlabel": 14})
        assert adapter.evapi.sent[-1] == {"cmd": "reject", "tindex": 13, "tlabel": 14, "code": 480}
        assert not any(p[0] == "no-answer" for p in adapter.api.posted)

    run_async(scenario())


def test_a_phone_refusing_the_bridge_leaves_the_consult_without_a_call(tmp_path, monkeypatch, caplog):
    async def scenario():
        adapter, call, _ = _held(tmp_path, monkeypatch)
        await adapter.on_command(HOLD)
        token = call.consult.token
        await adapter.on_event({"event": "consult_refused", "agent": "operateur", "code": 486})
        assert call.consult is None and call.held and not adapter.consults
        await adapter.on_event({"event": "invite", "tindex": 9, "tlabel": 9, "callid": "x", "dialed": f"consult-{token}"})
        assert adapter.evapi.sent == [{"cmd": "reject", "tindex": 9, "tlabel": 9, "code": 480}]

        # no answer from Kamailio's side at all (the phone refused the REFER): logged after the delay
        adapter, call, _ = _held(tmp_path, monkeypatch)
        adapter.consult_setup_s = 0.05
        await adapter.on_command(HOLD)
        await asyncio.sleep(0.1)
        assert call.consult is not None and call.held  # nothing undone: the desk's consult goes on

    caplog.set_level("WARNING", logger="allo.voice.adapter")
    run_async(scenario())
    assert "did not take the consult call (486)" in caplog.text
    assert "did not call the consult address within 0 s" in caplog.text


@pytest.mark.parametrize("side, agent", [("agent", "expert-impots"), ("caller", "operateur")])
def test_a_phone_hanging_up_the_consult_call_ends_the_consult_in_allo(tmp_path, monkeypatch, side, agent):
    """The expert's phone hangs up (the dialog's callee side, « agent »): Allô hears the expert end the
    consult; the operator's phone (the side that placed the consult call): Allô hears the operator. The
    router's `unhold` then takes the caller off hold without a second BYE."""
    async def scenario():
        adapter, call, rpcs = _held(tmp_path, monkeypatch)
        await _consult_answered(adapter, call, rpcs)
        await adapter.on_event({"event": "bye", "callid": "consult-call", "side": side})
        await asyncio.sleep(0)
        assert adapter.api.posted == [("consult-left", "c1", agent, event_id("consult-call"))]
        assert call.consult is None and call.held and call.state == "talking"
        await adapter.on_command({"seq": 2, "command": "unhold", "call_id": "c1"})
        assert not call.held and not adapter.evapi.sent  # the consult call was over: no `end`

    run_async(scenario())


def test_the_consult_call_ends_with_the_operators_bye_sent_by_the_edge_then_the_experts(tmp_path, monkeypatch):
    """Kamailio 5.6's dlg_bye("all") could lose one phone's BYE (the other's 200 ended the dialog first):
    the operator's phone (which placed the consult call) gets a BYE sent like the REFER (tm.t_uac_start),
    then Kamailio BYEs the expert's phone alone."""
    async def scenario():
        adapter, call, rpcs = _held(tmp_path, monkeypatch)
        await adapter.on_command(HOLD)
        leg = call.consult
        await adapter.on_event({"event": "invite", "tindex": 5, "tlabel": 6, "callid": "consult-call",
                                "fromtag": "operator-tag", "cseq": "2", "dialed": f"consult-{leg.token}",
                                "from": "sip:operateur@allo.test", "contact": "sip:operateur@127.0.0.1:5070"})
        await adapter.on_event({"event": "answered", "callid": "consult-call", "fromtag": "operator-tag",
                                "totag": "expert-tag", "to": f"sip:consult-{leg.token}@192.0.2.1:5060",
                                "contact": "sip:expert-impots@127.0.0.1:5080"})
        rpcs.clear()
        adapter.evapi.sent.clear()
        await adapter.on_command({"seq": 2, "command": "unhold", "call_id": "c1"})
        ((method, params),) = rpcs
        assert method == "tm.t_uac_start" and params[:2] == ["BYE", "sip:operateur@127.0.0.1:5070"]
        assert "From: <sip:consult-" in params[4] and ";tag=expert-tag" in params[4]
        assert "To: <sip:operateur@allo.test>;tag=operator-tag" in params[4] and "Call-ID: consult-call" in params[4]
        assert adapter.evapi.sent == [{"cmd": "end", "callid": "consult-call", "fromtag": "operator-tag",
                                       "totag": "expert-tag", "side": "callee"}]

    run_async(scenario())
