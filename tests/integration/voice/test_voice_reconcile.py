"""Reconciliation after a Kamailio restart (issue 11, item 2; docs/voice.md): a citizen talks to an agent
through the real edge, Kamailio is killed (SIGKILL, by its PID) and the edge started again. The new
Kamailio has neither the dialog nor the agent's registration; the adapter reads its `dlg.list` and
`ul.dump` at connection and tells Allô through the public telephony API: the call ends « perdu »
(counted as lost, its agent freed) and the agent's phone shows unregistered.

Everything on 127.0.0.1, every wait bounded, every process stopped by its PID. Skipped without Debian's
voice packages."""

from __future__ import annotations

import http.cookiejar
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from loopback import ALLO, allo, allo_env, allo_serve, free_port, run_async, stop, wait_for

from allo.voice import rpc
from allo.voice.stack import DEBIAN_PACKAGES, missing_binaries

MISSING = missing_binaries(("kamailio", "rtpengine", "sipp"))
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (Debian: {DEBIAN_PACKAGES}; .ci/run installs them)")

HOST = "127.0.0.1"
SIPP = shutil.which("sipp") or "sipp"
SCENARIOS = Path(__file__).with_name("sipp")
AGENT = "operateur"
CALLER = "+33611220099"
DEMO_PASSWORD = "allo-demo-2026"


def _db(data: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(data / "allo.sqlite3", timeout=10) as db:
        return db.execute(sql, params).fetchall()


def _sipp(scenario: str, *args: str, timeout: int, port: int = 0) -> list[str]:
    return [SIPP, "-sf", str(SCENARIOS / scenario), "-i", HOST, "-p", str(port or free_port(socket.SOCK_DGRAM)),
            "-mp", str(random.randrange(40000, 44000, 10)), "-m", "1", "-timeout", f"{timeout}s", "-timeout_error",
            "-nostdin", "-trace_err", *args]


def _ready_on_desk(base: str) -> None:
    """The agent signs in and presses « Prêt » on its desk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/connexion/", timeout=10).close()

    def post(path: str, fields: dict) -> None:
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        data = urllib.parse.urlencode(fields | {"csrfmiddlewaretoken": csrf}).encode()
        opener.open(urllib.request.Request(base + path, data=data), timeout=20).close()

    post("/connexion/", {"username": AGENT, "password": DEMO_PASSWORD})
    post("/poste/etat/", {"action": "ready"})


class Edge:
    """`allo voice up` on fixed addresses, so that a second one replaces the first."""

    def __init__(self, base: str, env: dict, data: Path):
        self.base, self.env, self.data = base, env, data
        self.sip_port = int(env["ALLO_VOICE_SIP"].rpartition(":")[2])
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def up(self) -> None:
        self.starts += 1
        out = self.data / f"voice-up-{self.starts}.log"
        with open(out, "wb") as f:
            self.proc = subprocess.Popen([*ALLO, "voice", "up", "--allo", self.base, "--start-timeout", "30"],
                                         env=self.env, stdout=f, stderr=subprocess.STDOUT)
        wait_for(lambda: "voice edge up" in out.read_text() or self.proc.poll() is not None, 60, "the voice edge")
        assert self.proc.poll() is None, out.read_text()[-3000:]

    def pid(self, name: str) -> int:
        return int((self.data / "voice" / "run" / f"{name}.pid").read_text())

    def rpc(self, method: str):
        return run_async(rpc.call(self.data / "voice" / "run" / "kamailio_rpc.fifo", method))

    def adapter_log(self) -> str:
        return (self.data / "voice" / "log" / "adapter.log").read_text(errors="replace")


def test_a_kamailio_restart_ends_its_calls_lost_in_allo_and_shows_the_phones_unregistered(tmp_path):
    sip_port = free_port(socket.SOCK_DGRAM)
    rtp_low = random.randrange(45000, 49000, 100)
    env = allo_env(tmp_path, ALLO_CC_HOURS="always", ALLO_VOICE_EDGE="1", ALLO_VOICE_SIP=f"{HOST}:{sip_port}",
                   ALLO_VOICE_EVAPI=f"{HOST}:{free_port()}", ALLO_VOICE_NG=f"{HOST}:{free_port(socket.SOCK_DGRAM)}",
                   ALLO_VOICE_RTP_PORTS=f"{rtp_low}-{rtp_low + 99}", ALLO_VOICE_RECONCILE_EVERY="2")
    for name in ("ALLO_VOICE_SIP_DOMAIN", "ALLO_VOICE_TOKEN"):
        env.pop(name, None)
    allo(env, "init", "--demo")
    password = allo(env, "voice", "credentials", "--agent", AGENT, "--reset", timeout=60).split()[1]
    phone = caller = None
    with allo_serve(env, "--no-callgen") as server:
        edge = Edge(server.base, env, tmp_path)
        try:
            edge.up()
            # the agent's phone (a SIPp UAS that answers and talks until a BYE) registers; the agent is ready
            phone_port = free_port(socket.SOCK_DGRAM)
            with open(tmp_path / "phone.log", "wb") as out:
                phone = subprocess.Popen(_sipp("agent_phone_talks.xml", timeout=80, port=phone_port), cwd=tmp_path,
                                         stdout=out, stderr=subprocess.STDOUT)
            register = subprocess.run(_sipp("agent_register.xml", f"{HOST}:{sip_port}", "-s", AGENT, "-au", AGENT,
                                            "-ap", password, "-key", "phone_port", str(phone_port), timeout=10),
                                      cwd=tmp_path, capture_output=True, text=True, timeout=20)
            assert register.returncode == 0, register.stdout[-2000:]
            wait_for(lambda: _db(tmp_path, "SELECT 1 FROM voice_sipaccount WHERE registered"), 15,
                      "the phone registered in Allô")
            _ready_on_desk(server.base)
            # a citizen calls; the router gives the call to the agent, whose phone answers
            with open(tmp_path / "caller.log", "wb") as out:
                caller = subprocess.Popen(_sipp("caller.xml", f"{HOST}:{sip_port}", "-s", "3939", "-key", "caller_number",
                                                CALLER, "-key", "rtp_port", str(free_port(socket.SOCK_DGRAM)),
                                                timeout=80), cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
            call_id = wait_for(lambda: _db(tmp_path, "SELECT call_id FROM contact_centre_contact WHERE caller = ? "
                                                      "AND state = 'connected'", CALLER), 30, "the call connected")[0][0]
            wait_for(lambda: f"call {call_id} answered" in edge.adapter_log(), 20, "the phone's answer at the edge")
            # what the adapter compares: the dialog and the registration are at the edge
            assert rpc.registered_users(edge.rpc("ul.dump")) == {AGENT}
            assert len(rpc.dialog_call_ids(edge.rpc("dlg.list"))) == 1
            time.sleep(3)  # two periodic reconciliations: nothing is lost while the edge has the call
            assert _db(tmp_path, "SELECT state FROM contact_centre_contact WHERE call_id = ?", call_id) == [("connected",)]

            # Kamailio dies without a word; `allo voice up` sees it and stops the rest, then starts again
            os.kill(edge.pid("kamailio"), signal.SIGKILL)
            assert edge.proc.wait(timeout=30) == 1
            edge.up()
            assert rpc.dialog_call_ids(edge.rpc("dlg.list")) == set()

            # Allô learns it from the adapter's reconciliation: the call « perdu », the phone unregistered
            wait_for(lambda: _db(tmp_path, "SELECT state, outcome FROM contact_centre_contact WHERE call_id = ?",
                                  call_id) == [("lost", "lost")], 20, "the call lost in Allô")
            wait_for(lambda: _db(tmp_path, "SELECT registered FROM voice_sipaccount") == [(0,)], 10,
                      "the phone unregistered in Allô")
            assert _db(tmp_path, "SELECT state FROM contact_centre_agentstatus WHERE agent = ?", AGENT) != [("connected",)]
            assert f"call {call_id} is no longer at the edge" in edge.adapter_log()
        finally:
            for proc in (caller, phone):
                if proc is not None:
                    stop(proc, timeout=5)
            if edge.proc is not None:
                stop(edge.proc, timeout=30)
