"""A transfer through the real SIP edge (issue 11, item 3): a SIPp citizen talks to the N1 operator's
SIPp phone; the operator's desk transfers the call to the tax centre (the wrap-up form, over HTTP
with a signed-in session); the router picks the N2 expert; the edge sends the citizen's phone a
REFER, the phone calls the Refer-To address, Kamailio parks that INVITE, the adapter ends the
operator's leg (BYE) and dispatches the new INVITE to the expert's SIPp phone, which rings, answers
and hangs up; Allô shows the call handled by the expert at level 2. With a consult first, the operator's
phone and the expert's talk on a call of their own (Kamailio's dlg.bridge_dlg refers the operator's phone
to the edge's consult address, dispatched to the expert's phone), which completing or cancelling ends.

Same fixtures as test_voice_call.py (a real `allo serve` and `allo voice up`), in a module of their
own: its agents' phones and states are not those the other module's tests leave behind.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time

import pytest
import test_voice_call
from loopback import free_port, stop, wait_for
from test_voice_call import (
    AGENT,
    DEMO_PASSWORD,
    HOST,
    MISSING,
    PROMPTS,
    RtpListener,
    _api,
    _call_of,
    _db,
    _desk_ready,
    _register,
    _signed_in,
    _sipp,
)

from allo.voice import rpc
from allo.voice.stack import DEBIAN_PACKAGES

EXPERT = "expert-impots"  # the demo's expert of the tax centre (n2-impots)
CALLER = "+33611229911"
served, voice = test_voice_call.served, test_voice_call.voice  # its fixtures, instantiated for this module
# each phone keeps its port across the tests (registering again refreshes the same contact); chosen
# when the first test starts, not at collection (other modules' processes come and go meanwhile)
PHONE_PORTS: dict[str, int] = {}
PASSWORDS: dict[str, str] = {}  # this module's (test_voice_call's own cache is for its server's database)
HANDLED: list[str] = []  # the calls the expert took, in order (the second test ends the first's wrap-up)
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (Debian: {DEBIAN_PACKAGES}; .ci/run installs them)")


def _sip_password(served, agent: str) -> str:
    """The agent generates its SIP password on its desk, once; the adapter loads it within 3 s."""
    if agent not in PASSWORDS:
        page = _signed_in(served.base, agent, DEMO_PASSWORD).page("/poste/telephone/", {})
        PASSWORDS[agent] = re.search(r'id="sip-mot-de-passe" value="([^"]+)"', page).group(1)
        time.sleep(4)  # the adapter reads the accounts every 3 s
    return PASSWORDS[agent]


def _log(voice) -> str:
    return (voice.logs / "adapter.log").read_text()


def _register_phones(served, voice, tmp_path) -> None:
    for agent, port in PHONE_PORTS.items():
        registered = _register(voice, tmp_path, agent, _sip_password(served, agent), port)
        assert registered.returncode == 0, registered.stdout[-2000:]


def _caller(voice, tmp_path, scenario: str, caller_number: str, ears: RtpListener, *args: str) -> subprocess.Popen:
    """A SIPp citizen dialling 3939, its audio heard by `ears`."""
    return subprocess.Popen([*_sipp(scenario, free_port(socket.SOCK_DGRAM), *args, timeout=45),
                             f"{HOST}:{voice.sip_port}", "-s", "3939", "-key", "caller_number", caller_number,
                             "-key", "rtp_port", str(ears.port)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _answered_by_the_operator(served, voice, caller_number: str) -> str:
    """Allô's call id, once the call was offered to the operator and its phone answered."""
    call_id = wait_for(lambda: (c := _call_of(served, caller_number)) and c[3] == AGENT and c[0], 20,
                       "the call offered to the operator")
    wait_for(lambda: f"call {call_id} answered by {AGENT}" in _log(voice), 20, "the operator's phone answered")
    return call_id


def _consult_dialogs(served) -> list[dict]:
    """The consult calls Kamailio holds confirmed (dlg.list: state 4), whose Call-ID the operator's SIPp
    phone starts with « consult/// »."""
    dialogs = rpc._call(served.data / "voice" / "run" / "kamailio_rpc.fifo", "dlg.list", 5.0) or []
    return [d for d in dialogs if str(d.get("call-id", "")).startswith("consult///") and d.get("state") == 4]


def _consult_call_up(served, voice, call_id: str) -> None:
    """Kamailio called the operator's phone, referred it to the consult address, and the expert's phone
    answered that call: one confirmed consult dialog at the edge."""
    wait_for(lambda: f"call {call_id}: consult call answered by {EXPERT}" in _log(voice), 20,
             "the consult call answered by the expert's phone")
    assert f"call {call_id}: the operator's phone calls the consult address" in _log(voice)
    assert len(wait_for(lambda: _consult_dialogs(served), 5, "the consult dialog in dlg.list")) == 1


def _phones(tmp_path, consult: bool, expert_calls: int = 2, expert: str = "expert_consulted.xml",
            ) -> tuple[subprocess.Popen, subprocess.Popen]:
    """The operator's phone answers and talks until a BYE; the expert's answers, talks 2 s, hangs up. In
    a consult, each also takes the consult call (operator_consults.xml, `expert`: expert_consulted.xml talks
    until a BYE)."""
    for agent in (AGENT, EXPERT):
        PHONE_PORTS.setdefault(agent, free_port(socket.SOCK_DGRAM))
    n1, n2, calls = (("operator_consults.xml", expert, 2) if consult
                     else ("agent_phone_talks.xml", "agent_phone.xml", 1))
    n1_phone = subprocess.Popen(_sipp(n1, PHONE_PORTS[AGENT], calls=calls, timeout=60), cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    n2_phone = subprocess.Popen(_sipp(n2, PHONE_PORTS[EXPERT], calls=expert_calls if consult else 1, timeout=60),
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return n1_phone, n2_phone


def _transfer(served, voice, tmp_path, caller_number: str, expert_ready=None, consult: bool = False) -> str:
    """The citizen talks to the operator, whose desk transfers the call to the tax centre; the expert's
    phone gets it at once, or, with `expert_ready`, once that has made the expert available (the caller
    hears « attente » meanwhile). With `consult`, the operator first consults the expert from the desk:
    the caller is put on hold (« consultation » heard) and the expert's desk shows the context. Returns
    Allô's call id, once every SIPp ended well. The consult has its call between the two phones, ended
    by the transfer before the caller's REFER."""
    ears = RtpListener()
    ears.start()
    n1_phone, n2_phone = _phones(tmp_path, consult)
    caller = None
    try:
        _register_phones(served, voice, tmp_path)
        caller = _caller(voice, tmp_path, "caller_transferred.xml", caller_number, ears)
        call_id = _answered_by_the_operator(served, voice, caller_number)
        if consult:
            _signed_in(served.base, AGENT, DEMO_PASSWORD)(
                f"/poste/appels/{call_id}/consultation/", {"transfer": "impots",
                                                           "question": "Revenus perçus à l'étranger"})
            wait_for(lambda: f"call {call_id}: on hold" in (voice.logs / "adapter.log").read_text(), 20,
                     "the caller on hold")
            if PROMPTS:
                wait_for(lambda: ears.voiced >= 25, 20, "half a second of « consultation » at the caller's")
            page = _signed_in(served.base, EXPERT, DEMO_PASSWORD).get("/expert/")
            assert "vous consulte" in page and "Revenus perçus à l&#x27;étranger" in page
            _consult_call_up(served, voice, call_id)
        # the operator's desk: transfer to the tax centre with the question (the context card)
        _signed_in(served.base, AGENT, DEMO_PASSWORD)(
            f"/poste/appels/{call_id}/fin/", {"outcome": "transfert-niveau-2", "reason": "situation-personnelle",
                                             "transfer": "impots", "theme": "fiscalite",
                                             "question": "Revenus perçus à l'étranger"})
        started = time.monotonic()
        if expert_ready is not None:
            wait_for(lambda: f"call {call_id}: the transferred caller called back" in
                     (voice.logs / "adapter.log").read_text(), 20, "the transferred caller's new INVITE")
            assert _api(served, f"/api/telephony/calls/{call_id}")["state"] == "queued"  # waits for an expert
            if PROMPTS:
                wait_for(lambda: ears.voiced >= 25, 20, "half a second of « attente » at the transferred caller's")
            expert_ready()  # the waiting call goes to the expert's phone at once
        try:
            caller_out, _ = caller.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            caller_out = ""
        logs = (voice.logs / "adapter.log").read_text()[-3000:] + (voice.logs / "kamailio.log").read_text()[-2000:]
        # REFER received and accepted, the operator's leg ended (BYE), the new INVITE answered by the
        # expert, the expert's BYE
        assert caller.returncode == 0, caller_out[-3000:] + logs
        assert time.monotonic() - started < 40
        if consult:  # ended before the caller's REFER; the expert's phone got its BYE, then the caller
            log = _log(voice)
            assert f"call {call_id}: consult call ended (the consult completed, was talking)" in log
            assert log.index(f"call {call_id}: consult call ended") < log.index(f"call {call_id}: transfer to")
            assert not _consult_dialogs(served)
        n1_out, _ = n1_phone.communicate(timeout=10)
        assert n1_phone.returncode == 0, n1_out[-3000:]  # the operator's phone got its BYE
        n2_out, _ = n2_phone.communicate(timeout=10)
        assert n2_phone.returncode == 0, n2_out[-3000:]  # the expert's phone rang, answered, hung up
    finally:
        for proc in (caller, n1_phone, n2_phone):
            if proc is not None:
                stop(proc, timeout=5)
        ears.stop()
    return call_id


def _handled_by_the_expert(served, voice, call_id: str) -> list[tuple]:
    """Allô: the call went to the expert at level 2 and ended completed; the commands the router sent."""
    detail = wait_for(lambda: (d := _api(served, f"/api/telephony/calls/{call_id}"))["state"] == "completed" and d,
                      15, "the call completed in Allô")
    assert detail["agent"] == EXPERT, detail
    assert _db(served, "SELECT level, transferred_to FROM contact_centre_contact WHERE call_id = ?",
               call_id) == [(2, "impots")]
    log = (voice.logs / "adapter.log").read_text()
    assert f"call {call_id}: the transferred caller called back" in log
    assert f"call {call_id} answered by {EXPERT}" in log
    commands = [json.loads(c) for (c,) in _db(
        served, "SELECT command FROM contact_centre_telephonycommand WHERE call_id = ? ORDER BY seq", call_id)]
    return [(c["command"], c.get("agent") or c.get("domain") or c.get("announcement") or c.get("reason"))
            for c in commands]


def test_the_desk_transfers_a_talking_call_and_the_caller_ends_up_talking_to_the_expert(served, voice, tmp_path):
    """The expert is ready: the router's bridge to it follows the transfer at once (before the caller's
    phone has called back: the adapter keeps it until the new INVITE is parked)."""
    for agent in (EXPERT, AGENT):  # the expert first: the citizen's call must go to the operator
        _desk_ready(served, agent)
    call_id = _transfer(served, voice, tmp_path, "+33611229911")
    HANDLED.append(call_id)
    commands = _handled_by_the_expert(served, voice, call_id)
    assert commands[:3] == [("bridge", AGENT), ("transfer", "impots"), ("bridge", EXPERT)], commands


def test_a_transferred_caller_hears_the_announcement_until_the_expert_is_ready(served, voice, tmp_path):
    """The expert is still in wrap-up after the first test's call (logged in, not available): the
    transferred call waits in the tax centre's queue and the caller's new INVITE gets early media with
    « attente »; the expert then ends its wrap-up on its desk and takes the call."""
    if not HANDLED:
        pytest.skip("needs the expert's call of the test before (its wrap-up)")
    wait_for(lambda: _db(served, "SELECT state FROM contact_centre_agentstatus WHERE agent = ?", EXPERT)
             == [("wrap_up",)], 20, "the expert in wrap-up after its call")
    wait_for(lambda: _db(served, "SELECT 1 FROM contact_centre_agentstatus WHERE agent = ? AND state = 'available'",
                         AGENT), 20, "the operator available again after its transfer")

    def wrap_up_ended():  # the expert's desk: the first call's wrap-up form, level 2
        _signed_in(served.base, EXPERT, DEMO_PASSWORD)(
            f"/poste/appels/{HANDLED[0]}/fin/", {"outcome": "reponse-apportee", "theme": "fiscalite"})

    call_id = _transfer(served, voice, tmp_path, "+33611229922", expert_ready=wrap_up_ended)
    HANDLED.append(call_id)
    commands = _handled_by_the_expert(served, voice, call_id)
    assert commands[:4] == [("bridge", AGENT), ("transfer", "impots"), ("play", "attente"), ("bridge", EXPERT)], \
        commands


def test_the_operator_consults_the_expert_then_the_caller_goes_to_it(served, voice, tmp_path):
    """Warm transfer: the operator's desk consults the tax centre (the router reserves the expert, the
    caller hears « consultation » on hold, the expert's desk shows the question), then the wrap-up's
    transfer hands the caller to that expert: REFER, the caller's new INVITE, the expert's phone."""
    if len(HANDLED) < 2:
        pytest.skip("needs the expert's call of the test before (its wrap-up)")
    wait_for(lambda: _db(served, "SELECT state FROM contact_centre_agentstatus WHERE agent = ?", EXPERT)
             == [("wrap_up",)], 20, "the expert in wrap-up after its call")
    _signed_in(served.base, EXPERT, DEMO_PASSWORD)(
        f"/poste/appels/{HANDLED[-1]}/fin/", {"outcome": "reponse-apportee", "theme": "fiscalite"})
    wait_for(lambda: _db(served, "SELECT 1 FROM contact_centre_agentstatus WHERE agent = ? AND state = 'available'",
                         AGENT), 20, "the operator available again after its transfer")
    call_id = _transfer(served, voice, tmp_path, "+33611229933", consult=True)
    HANDLED.append(call_id)
    commands = _handled_by_the_expert(served, voice, call_id)
    assert commands[:4] == [("bridge", AGENT), ("hold", AGENT), ("transfer", "impots"), ("bridge", EXPERT)], \
        commands
    assert _db(served, "SELECT consult_outcome, waited_n2_s FROM contact_centre_contact WHERE call_id = ?",
               call_id) == [("completed", 0.0)]


def test_the_operator_consults_the_expert_then_takes_the_caller_back(served, voice, tmp_path):
    """The consult cancelled: the router's `unhold` ends the consult call (both phones get a BYE) and the
    caller hears its operator again; the operator then ends the call from its desk."""
    if len(HANDLED) < 3:
        pytest.skip("needs the expert's call of the test before (its wrap-up)")
    wait_for(lambda: _db(served, "SELECT state FROM contact_centre_agentstatus WHERE agent = ?", EXPERT)
             == [("wrap_up",)], 20, "the expert in wrap-up after its call")
    _signed_in(served.base, EXPERT, DEMO_PASSWORD)(
        f"/poste/appels/{HANDLED[-1]}/fin/", {"outcome": "reponse-apportee", "theme": "fiscalite"})
    call_id = _consult_then_back(served, voice, tmp_path, "+33611229944", ending="desk")
    HANDLED.append(call_id)


def test_the_experts_phone_hanging_up_the_consult_call_gives_the_caller_back_to_the_operator(
        served, voice, tmp_path):
    """The expert's phone hangs up the consult call: the edge reports it (POST .../consult-left), Allô ends
    the consult as the expert's (« declined »), the router's `unhold` gives the caller back to its operator,
    whose desk says so; the operator then ends the call from its desk."""
    if len(HANDLED) < 4:
        pytest.skip("needs the consult of the test before")
    call_id = _consult_then_back(served, voice, tmp_path, "+33611229955", ending="expert")
    assert f"call {call_id}: {EXPERT}'s phone hung up the consult call" in _log(voice)
    HANDLED.append(call_id)


def test_the_caller_hanging_up_on_hold_ends_the_consult_call_and_frees_the_expert(served, voice, tmp_path):
    """The held caller hangs up during the consult (caller_hangs_up_later.xml, 15 s after the answer): the
    consult call ends (both phones get a BYE), the consult ends « hangup », the expert is free at once and
    the operator goes to its wrap-up."""
    if len(HANDLED) < 5:
        pytest.skip("needs the consult of the test before")
    call_id = _consult_then_back(served, voice, tmp_path, "+33611229966", ending="caller")
    assert f"call {call_id}: consult call ended (the call ended, was talking)" in _log(voice)
    assert _db(served, "SELECT state FROM contact_centre_agentstatus WHERE agent = ?", EXPERT) == [("available",)]


def _consult_then_back(served, voice, tmp_path, caller_number: str, ending: str) -> str:
    """The citizen talks to the operator, who consults the expert (the consult call up between their
    phones); then the consult ends by `ending`: « desk », the operator takes the caller back on its desk;
    « expert », the expert's phone hangs up the consult call (agent_phone.xml: answers, talks 2 s, hangs
    up). Either way the caller is unheld and talks to its operator, who ends the call from the desk.
    « caller »: the held caller hangs up. Returns Allô's call id."""
    wait_for(lambda: _db(served, "SELECT COUNT(*) FROM contact_centre_agentstatus WHERE state = 'available' "
                                 "AND agent IN (?, ?)", AGENT, EXPERT) == [(2,)], 20, "the operator and the expert available")
    ears = RtpListener()
    ears.start()
    n1_phone, n2_phone = _phones(tmp_path, consult=True, expert_calls=1,
                                 expert="agent_phone.xml" if ending == "expert" else "expert_consulted.xml")
    caller = None
    try:
        _register_phones(served, voice, tmp_path)
        caller = (_caller(voice, tmp_path, "caller_hangs_up_later.xml", caller_number, ears, "-d", "15000")
                  if ending == "caller" else _caller(voice, tmp_path, "caller.xml", caller_number, ears))
        call_id = _answered_by_the_operator(served, voice, caller_number)
        operator = _signed_in(served.base, AGENT, DEMO_PASSWORD)
        operator(f"/poste/appels/{call_id}/consultation/", {"transfer": "impots", "question": "Pension d'invalidité"})
        wait_for(lambda: f"call {call_id}: on hold" in _log(voice), 20, "the caller on hold")
        if PROMPTS:
            wait_for(lambda: ears.voiced >= 25, 20, "half a second of « consultation » at the caller's")
        _consult_call_up(served, voice, call_id)

        if ending == "caller":
            caller_out, _ = caller.communicate(timeout=30)
            assert caller.returncode == 0, caller_out[-3000:]  # its BYE answered
            wait_for(lambda: f"call {call_id}: consult call ended (the call ended" in _log(voice), 20,
                     "the consult call ended with the caller's call")
        elif ending == "desk":
            operator(f"/poste/appels/{call_id}/consultation/fin/", {})  # « Reprendre l'appelant »
        if ending != "caller":
            wait_for(lambda: f"call {call_id}: back with its operator" in _log(voice), 20, "the caller unheld")
        log = _log(voice)
        if ending == "expert":
            assert "L&#x27;expert a mis fin à la consultation" in operator.get("/operateur/")
        elif ending == "desk":
            assert f"call {call_id}: consult call ended (the operator takes the caller back, was talking)" in log
            assert log.index(f"call {call_id}: consult call ended") < log.index(f"call {call_id}: back with its operator")
        n2_out, _ = n2_phone.communicate(timeout=15)
        assert n2_phone.returncode == 0, n2_out[-3000:]  # the expert's phone: the consult call, then a BYE
        assert not _consult_dialogs(served)

        operator(f"/poste/appels/{call_id}/fin/", {"outcome": "reponse-apportee", "theme": "fiscalite"})
        if ending != "caller":
            caller_out, _ = caller.communicate(timeout=20)
            assert caller.returncode == 0, caller_out[-3000:]  # the caller's BYE, from its operator's call
        n1_out, _ = n1_phone.communicate(timeout=10)
        assert n1_phone.returncode == 0, n1_out[-3000:]  # both of the operator's calls ended by a BYE
    finally:
        for proc in (caller, n1_phone, n2_phone):
            if proc is not None:
                stop(proc, timeout=5)
        ears.stop()
    detail = wait_for(lambda: (d := _api(served, f"/api/telephony/calls/{call_id}"))["state"] == "completed" and d,
                      15, "the call completed in Allô")
    assert detail["agent"] == AGENT, detail
    assert _db(served, "SELECT consult_outcome FROM contact_centre_contact WHERE call_id = ?", call_id) \
        == [({"desk": "cancelled", "expert": "declined", "caller": "hangup"}[ending],)]
    commands = [json.loads(c)["command"] for (c,) in _db(
        served, "SELECT command FROM contact_centre_telephonycommand WHERE call_id = ? ORDER BY seq", call_id)]
    assert commands == (["bridge", "hold", "hangup"] if ending == "caller"  # (the edge had ended it: a no-op)
                        else ["bridge", "hold", "unhold", "hangup"]), commands
    return call_id
