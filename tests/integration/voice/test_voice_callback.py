"""The callback proposal by keys through the real SIP edge (issue 11, item 1): a SIPp citizen whose phone
sends keys answers the menu, talks to the N1 operator's SIPp phone; the operator's desk transfers the
call to the tax centre, where no expert is signed in (no staffed agent: the destination is saturated),
so the router proposes a callback instead (`play proposition-rappel`, no `transfer`); the adapter plays
the prompt in the call, the citizen presses 1 (RFC 4733, decoded by rtpengine), the adapter posts the
acceptance, says « rappel-enregistre » and ends the call (BYE to both phones); Allô has the callback
scheduled and sent no `hangup`.

Same fixtures as test_voice_call.py (a real `allo serve` and `allo voice up`), in a module of their own.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import subprocess
import time
from zoneinfo import ZoneInfo

import pytest
import test_voice_call
from loopback import free_port, stop, wait_for
from test_voice_call import (
    AGENT,
    DEMO_PASSWORD,
    HOST,
    MISSING,
    PROMPTS,
    _call_of,
    _db,
    _desk_ready,
    _register,
    _signed_in,
    _sipp,
)

from allo.voice import prompts
from allo.voice.stack import DEBIAN_PACKAGES

CALLER = "+33611228811"
served, voice = test_voice_call.served, test_voice_call.voice  # its fixtures, instantiated for this module
pytestmark = [
    pytest.mark.skipif(bool(MISSING),
                       reason=f"not installed: {', '.join(MISSING)} (Debian: {DEBIAN_PACKAGES}; .ci/run installs them)"),
    pytest.mark.skipif(not PROMPTS, reason="espeak-ng is not installed: no « proposition-rappel » prompt")]


def test_a_caller_transferred_to_a_saturated_destination_accepts_the_callback_with_key_1(served, voice, tmp_path):
    page = _signed_in(served.base, AGENT, DEMO_PASSWORD).page("/poste/telephone/", {})
    password = re.search(r'id="sip-mot-de-passe" value="([^"]+)"', page).group(1)
    time.sleep(4)  # the adapter reads the accounts every 3 s
    phone_port = free_port(socket.SOCK_DGRAM)
    phone = subprocess.Popen(_sipp("agent_phone_keys.xml", phone_port, timeout=90), cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    caller = None
    adapter_log = voice.logs / "adapter.log"
    try:
        registered = _register(voice, tmp_path, AGENT, password, phone_port)
        assert registered.returncode == 0, registered.stdout[-2000:]
        _desk_ready(served, AGENT)
        caller = subprocess.Popen([*_sipp("caller_callback.xml", free_port(socket.SOCK_DGRAM), timeout=80),
                                   f"{HOST}:{voice.sip_port}", "-s", "3939", "-key", "caller_number", CALLER],
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        call_id = wait_for(lambda: (c := _call_of(served, CALLER)) and c[3] == AGENT and c[0], 30,
                           "the call offered to the operator")
        wait_for(lambda: f"call {call_id} answered by {AGENT}" in adapter_log.read_text(), 20,
                 "the operator's phone answered")
        # the citizen presses 1 ten seconds after the answer: the transfer must be done by then
        _signed_in(served.base, AGENT, DEMO_PASSWORD)(
            f"/poste/appels/{call_id}/fin/", {"outcome": "transfert-niveau-2", "reason": "situation-personnelle",
                                             "transfer": "impots", "theme": "fiscalite",
                                             "question": "Revenus perçus à l'étranger"})
        wait_for(lambda: f"call {call_id}: « proposition-rappel » played (ok" in adapter_log.read_text(), 10,
                 "the proposal played in the call")
        try:
            caller_out, _ = caller.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            caller_out = ""
        logs = adapter_log.read_text()[-3000:]
        assert caller.returncode == 0, caller_out[-3000:] + logs  # its key, then the edge's BYE
        phone_out, _ = phone.communicate(timeout=10)
        assert phone.returncode == 0, phone_out[-3000:]  # the operator's phone got its BYE too
    finally:
        for proc in (caller, phone):
            if proc is not None:
                stop(proc, timeout=5)
    log = adapter_log.read_text()
    assert f"call {call_id}: callback accepted (key '1')" in log
    assert f"call {call_id}: « rappel-enregistre » played (ok)" in log
    assert _db(served, "SELECT state FROM contact_centre_contact WHERE call_id = ?", call_id) == [("scheduled",)]
    commands = [json.loads(c) for (c,) in _db(
        served, "SELECT command FROM contact_centre_telephonycommand WHERE call_id = ? ORDER BY seq", call_id)]
    assert [(c["command"], c.get("announcement"), c.get("reason")) for c in commands] == [
        ("bridge", None, None), ("play", "proposition-rappel", "saturated")], commands
    # the confirmation said the callback's day and time: the proposal's local time, joined before it
    proposal = commands[1]
    at, today = dt.datetime.fromisoformat(proposal["at_local"]), dt.date.fromisoformat(proposal["today"])
    assert today == dt.datetime.now(ZoneInfo("Europe/Paris")).date() and at > dt.datetime.now() - dt.timedelta(days=1)
    said = list((served.data / "voice").rglob("cache/rappel-enregistre-rappel-jour-*-rappel-heure-*.wav"))
    parts = [n.split("/")[-1] for n in prompts.callback_parts(proposal["at_local"], proposal["today"])]
    assert [p.name for p in said] == ["-".join(["rappel-enregistre", *parts]) + ".wav"]
