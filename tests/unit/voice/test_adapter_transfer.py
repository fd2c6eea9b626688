"""The adapter's side of a transfer (issue 11, item 3), with stand-ins for Kamailio's evapi and
JSON-RPC, rtpengine and Allô's API (no network). The real stack: tests/integration/voice/test_voice_transfer.py."""

from __future__ import annotations

from edge_doubles import talking
from loopback import run_async

from allo.voice.adapter import event_id


def _talking(tmp_path, monkeypatch):
    return talking(tmp_path, monkeypatch)


TRANSFER = {"seq": 1, "command": "transfer", "call_id": "c1", "centre": "n2-impots", "domain": "impots"}
BRIDGE = {"seq": 2, "command": "bridge", "call_id": "c1", "agent": "expert-impots", "outbound": False}


def test_a_transfer_refers_the_caller_and_its_call_back_is_dispatched_to_the_expert(tmp_path, monkeypatch):
    async def scenario():
        adapter, call, rpcs = _talking(tmp_path, monkeypatch)
        await adapter.on_command(TRANSFER)
        [(method, params)] = rpcs
        assert method == "tm.t_uac_start" and params[:4] == ["REFER", "sip:+33611223344@10.0.0.9:5062", ".", "."]
        headers = params[4]
        # in the caller's dialog, as from the operator's phone, to call the edge back with the token
        assert "From: <sip:3939@192.0.2.1>;tag=phone-tag\r\n" in headers
        assert "To: <sip:+33611223344@10.0.0.9>;tag=citizen-tag\r\n" in headers
        assert "Call-ID: first-call\r\n" in headers and "Contact: <sip:operateur@10.0.0.5:5070>\r\n" in headers
        assert f"Refer-To: <sip:transfer-{call.transfer}@192.0.2.1:5060>\r\n" in headers
        await adapter.on_command(BRIDGE)  # before the caller called back: kept
        assert adapter.evapi.sent == [] and call.pending_agent == "expert-impots"

        await adapter.on_event({"event": "invite", "tindex": 3, "tlabel": 4, "callid": "second-call",
                                "fromtag": "citizen-tag-2", "caller": "+33611223344",
                                "dialed": f"transfer-{call.transfer}", "contact": "sip:+33611223344@10.0.0.9:5062"})
        assert adapter.evapi.sent == [
            {"cmd": "end", "callid": "first-call", "fromtag": "citizen-tag", "totag": "phone-tag", "side": "callee"},
            {"cmd": "dispatch", "tindex": 3, "tlabel": 4, "target": "sip:expert-impots@allo.test"}]
        assert ("delete", "first-call") in adapter.ng.requests  # the operator's leg's media
        # the caller's first dialog: its BYE follows the REFER's CSeq (a phone refuses one going backwards)
        method, params = rpcs[-1]
        assert method == "tm.t_uac_start" and params[0] == "BYE" and "CSeq: 1001 BYE\r\n" in params[4]
        assert "Call-ID: first-call\r\n" in params[4]
        assert adapter.by_sip == {"second-call": call} and adapter.by_call["c1"] is call
        assert call.allo_event == event_id("first-call")  # the reconciliation still finds Allô's call
        assert not adapter.transfers

        await adapter.on_event({"event": "answered", "callid": "second-call", "totag": "expert-tag"})
        assert (call.state, call.agent, call.to_tag) == ("talking", "expert-impots", "expert-tag")

    run_async(scenario())


def test_an_invite_to_an_unknown_transfer_is_refused_and_allo_hanging_up_ends_the_operators_leg(
        tmp_path, monkeypatch):
    async def scenario():
        adapter, call, rpcs = _talking(tmp_path, monkeypatch)
        await adapter.on_event({"event": "invite", "tindex": 3, "tlabel": 4, "callid": "stranger",
                                "dialed": "transfer-" + "0" * 32})
        assert adapter.evapi.sent == [{"cmd": "reject", "tindex": 3, "tlabel": 4, "code": 480}]
        await adapter.on_command(TRANSFER)
        # the operator hangs up meanwhile: not the end of the call (the caller calls back)
        await adapter.on_event({"event": "bye", "callid": "first-call", "side": "agent"})
        assert call.state == "transferring"
        # Allô ends the call before the caller called back: the operator's leg goes, the token too
        await adapter.on_command({"seq": 2, "command": "hangup", "call_id": "c1", "reason": "lost"})
        # the caller's BYE after the REFER's CSeq, sent like the REFER; Kamailio BYEs the phone's side
        method, params = rpcs[-1]
        assert method == "tm.t_uac_start" and params[:2] == ["BYE", "sip:+33611223344@10.0.0.9:5062"]
        assert "CSeq: 1001 BYE\r\n" in params[4] and "From: <sip:3939@192.0.2.1>;tag=phone-tag\r\n" in params[4]
        assert adapter.evapi.sent[-1] == {"cmd": "end", "callid": "first-call", "fromtag": "citizen-tag",
                                          "totag": "phone-tag", "side": "callee"}
        assert call.state == "ended" and not adapter.transfers

    run_async(scenario())


def test_hold_blocks_both_sides_and_plays_consultation_to_the_caller_then_unhold_restores_them(
        tmp_path, monkeypatch):
    async def scenario():
        adapter, call, _ = _talking(tmp_path, monkeypatch)
        adapter.prompts = tmp_path / "prompts"
        adapter.prompts.mkdir()
        (adapter.prompts / "consultation.wav").write_bytes(b"RIFF")
        await adapter.on_command({"seq": 1, "command": "hold", "call_id": "c1", "agent": "operateur",
                                  "expert": "expert-impots"})
        sent = [(command, p["from-tag"], p.get("file", "")) for (command, _), p in
                zip(adapter.ng.requests, adapter.ng.params, strict=True)]
        assert sent == [("block media", "citizen-tag", ""), ("block media", "phone-tag", ""),
                        ("play media", "citizen-tag", str(adapter.prompts / "consultation.wav"))]
        assert call.held and call.state == "talking"
        await adapter.on_command({"seq": 2, "command": "hold", "call_id": "c1"})  # twice: nothing more
        assert len(adapter.ng.requests) == 3

        await adapter.on_command({"seq": 3, "command": "unhold", "call_id": "c1"})
        sent = [(command, p["from-tag"]) for (command, _), p in zip(adapter.ng.requests, adapter.ng.params,
                                                                    strict=True)][3:]
        assert sent == [("stop media", "citizen-tag"), ("unblock media", "citizen-tag"),
                        ("unblock media", "phone-tag")]
        assert not call.held and not call.playing

    run_async(scenario())


def test_a_held_caller_transferred_is_referred_and_its_call_back_starts_unheld(tmp_path, monkeypatch):
    async def scenario():
        adapter, call, rpcs = _talking(tmp_path, monkeypatch)
        await adapter.on_command({"seq": 1, "command": "hold", "call_id": "c1"})
        assert call.held and adapter.ng.commands == ["block media", "block media"]  # no prompt: silence
        await adapter.on_command({**TRANSFER, "seq": 2})
        assert [method for method, _ in rpcs] == ["tm.t_uac_start"]
        await adapter.on_event({"event": "invite", "tindex": 3, "tlabel": 4, "callid": "second-call",
                                "fromtag": "citizen-tag-2", "dialed": f"transfer-{call.transfer}"})
        assert not call.held and call.state == "parked"

    run_async(scenario())


def test_after_early_media_hold_also_blocks_the_queue_party_that_relays_the_phone(tmp_path, monkeypatch):
    """After the menu or « attente », rtpengine relays the operator's phone through the queue's placeholder
    party (allo-queue-<caller's tag>): blocking the phone's tag alone left the held caller hearing the
    operator (the baresip test's recordings)."""
    async def scenario():
        adapter, call, _ = _talking(tmp_path, monkeypatch)
        call.early_media = True
        await adapter.on_command({"seq": 1, "command": "hold", "call_id": "c1"})
        blocked = [p["from-tag"] for (command, _), p in zip(adapter.ng.requests, adapter.ng.params, strict=True)
                   if command == "block media"]
        assert blocked == ["citizen-tag", "phone-tag", "allo-queue-citizen-tag"]
        await adapter.on_command({"seq": 2, "command": "unhold", "call_id": "c1"})
        unblocked = [p["from-tag"] for (command, _), p in zip(adapter.ng.requests, adapter.ng.params, strict=True)
                     if command == "unblock media"]
        assert unblocked == ["citizen-tag", "phone-tag", "allo-queue-citizen-tag"]

    run_async(scenario())
