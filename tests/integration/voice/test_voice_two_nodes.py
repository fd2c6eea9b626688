"""Two voice nodes (issue 11 item 1, docs/voice.md « Several nodes »): node a on 127.0.0.1 and node b on
127.0.0.2, each `allo voice up --node … --dmq … --dmq-peer …` with its own Kamailio, rtpengine and
adapter, registrations shared over DMQ (dmq_usrloc). The agent's SIPp phone registers on node a; a SIPp
citizen dials 3939 on node b; the call reaches Allô through b's adapter (event_id sip@b:<Call-ID>), and
b's Kamailio sends it to the phone registered on a (found in the location table DMQ filled). While the
two talk, both adapters reconcile every 2 s: neither reports the other's call lost, nor corrects the
phone. The agent hangs up: the call ends completed.

The server (allo serve) is test_voice_call's fixture; every wait is bounded, every process stopped by its
PID. Skipped without Debian's voice packages."""

from __future__ import annotations

import random
import re
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import test_voice_call
from loopback import alive, free_port, run_async, stop, wait_for
from test_voice_call import (
    AGENT,
    DEMO_PASSWORD,
    MISSING,
    _api,
    _call_of,
    _desk_ready,
    _register,
    _signed_in,
    _sipp,
)

from allo.voice import rpc
from allo.voice.adapter import RECONCILE_GRACE_S
from allo.voice.stack import DEBIAN_PACKAGES

served = test_voice_call.served  # its fixture, instantiated for this module
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (Debian: {DEBIAN_PACKAGES}; .ci/run installs them)")

CALLER = "+33611227788"
RECONCILE_EVERY_S = 2  # each adapter compares Allô's calls with its own Kamailio's this often
# the agent's phone talks this long: the call gets older than the reconciliation's grace (a younger call
# is never judged), then both nodes reconcile twice more
TALK_MS = 20000


def _loopback_alias_usable(host: str) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
        return True
    except OSError:
        return False


class Node:
    """One `allo voice up` on its own loopback address, with DMQ to the other node."""

    def __init__(self, served, name: str, host: str, dmq_port: int, peer: str):
        self.name, self.host, self.served = name, host, served
        self.sip_port = free_port(socket.SOCK_DGRAM)
        self.ng_port = free_port(socket.SOCK_DGRAM)
        rtp = random.randrange(35000, 39000, 100)
        self.root = served.data / f"voice-{name}"
        self.out = served.data / f"voice-up-{name}.log"
        # the agents' domain (and digest realm) is the same on every node: Allô's (here 127.0.0.1)
        self.argv = [*test_voice_call.ALLO, "voice", "up", "--allo", served.base, "--token", served.token,
                     "--node", name, "--sip", f"{host}:{self.sip_port}", "--sip-domain", "127.0.0.1",
                     "--evapi", f"{host}:{free_port()}", "--ng", f"{host}:{self.ng_port}",
                     "--dtmf", f"{host}:{free_port(socket.SOCK_DGRAM)}", "--media-host", host,
                     "--rtp-ports", f"{rtp}-{rtp + 99}", "--dmq", f"{host}:{dmq_port}", "--dmq-peer", peer,
                     "--start-timeout", "60"]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.out, "wb") as f:
            self.proc = subprocess.Popen(self.argv, env=self.served.env | {
                "ALLO_VOICE_RECONCILE_EVERY": str(RECONCILE_EVERY_S)}, stdout=f, stderr=subprocess.STDOUT)

    def wait_up(self) -> None:
        wait_for(lambda: "voice edge up" in self.out.read_text() or self.proc.poll() is not None, 120,
                 f"node {self.name} up")
        assert self.proc.poll() is None, self.out.read_text()[-3000:]
        self.pids = {n: int((self.root / "run" / f"{n}.pid").read_text()) for n in ("rtpengine", "kamailio", "adapter")}

    def rpc(self, method: str):
        return run_async(rpc.call(self.root / "run" / "kamailio_rpc.fifo", method))

    def adapter_log(self) -> str:
        return (self.root / "log" / "adapter.log").read_text(errors="replace")

    def reconciliations(self) -> int:
        return self.adapter_log().count("reconciliation done")


def _live(served, call_id: str) -> dict | None:
    """The call in Allô's live calls (GET /api/telephony/calls, what each adapter reconciles), if there."""
    return next((c for c in _api(served, "/api/telephony/calls")["calls"] if c["call_id"] == call_id), None)


@pytest.fixture(scope="module")
def nodes(served):
    if not _loopback_alias_usable("127.0.0.2"):
        pytest.skip("127.0.0.2 is not usable on this machine's loopback")
    dmq_a, dmq_b = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    a = Node(served, "a", "127.0.0.1", dmq_a, f"127.0.0.2:{dmq_b}")
    b = Node(served, "b", "127.0.0.2", dmq_b, f"127.0.0.1:{dmq_a}")
    try:
        a.start()
        a.wait_up()  # it speaks the announcements into voice/prompts/, which b then finds made
        b.start()
        b.wait_up()
        yield a, b
    finally:
        for node in (b, a):
            if node.proc is not None:
                stop(node.proc, timeout=30)


def test_a_call_to_node_b_reaches_the_phone_registered_on_node_a(served, nodes, tmp_path):
    a, b = nodes
    started = time.monotonic()
    page = _signed_in(served.base, AGENT, DEMO_PASSWORD).page("/poste/telephone/", {})
    password = re.search(r'id="sip-mot-de-passe" value="([^"]+)"', page).group(1)
    time.sleep(4)  # both adapters read the accounts every 3 s
    phone_port = free_port(socket.SOCK_DGRAM)
    phone = subprocess.Popen([*_sipp("agent_phone_hangs_up_later.xml", phone_port, timeout=90), "-d", str(TALK_MS)],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    caller = None
    try:
        # the phone registers on node a only; node b has it through DMQ
        registered = _register(SimpleNamespace(sip_port=a.sip_port), tmp_path, AGENT, password, phone_port)
        assert registered.returncode == 0, registered.stdout[-2000:]
        assert rpc.registered_users(a.rpc("ul.dump")) == {AGENT}
        wait_for(lambda: rpc.registered_users(b.rpc("ul.dump")) == {AGENT}, 15,
                 "the registration replicated to node b (dmq_usrloc)")
        _desk_ready(served, AGENT)  # waits until the router has the agent available (phone registered)

        # the citizen calls node b
        caller = subprocess.Popen([*_sipp("caller.xml", free_port(socket.SOCK_DGRAM), timeout=45),
                                   f"{b.host}:{b.sip_port}", "-s", "3939", "-key", "caller_number", CALLER,
                                   "-key", "rtp_port", str(free_port(socket.SOCK_DGRAM))],
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        call_id = wait_for(lambda: (c := _call_of(served, CALLER)) and c[2] == "connected" and c[0], 30,
                           "the call connected in Allô")
        live = _live(served, call_id)
        assert live["event_id"].startswith("sip@b:"), live  # posted by node b's adapter, with its name
        wait_for(lambda: f"call {call_id} answered" in b.adapter_log(), 10, "the phone's answer at node b")
        assert len(rpc.dialog_call_ids(b.rpc("dlg.list"))) == 1
        assert rpc.dialog_call_ids(a.rpc("dlg.list")) == set()  # node a never saw the call

        # while they talk, once the call is old enough to be judged, each adapter reconciles twice more:
        # node a has no such dialog, but the call is b's, so a leaves it alone; b has its dialog
        wait_for(lambda: (c := _live(served, call_id)) is None or c["age_s"] > RECONCILE_GRACE_S,
                 RECONCILE_GRACE_S + 5, "the call older than the reconciliation's grace")
        counts = {n.name: n.reconciliations() for n in (a, b)}
        wait_for(lambda: all(n.reconciliations() >= counts[n.name] + 2 for n in (a, b)), 4 * RECONCILE_EVERY_S + 2,
                 "two reconciliations by each node during the call")
        assert _api(served, f"/api/telephony/calls/{call_id}")["state"] == "connected", (
            a.adapter_log()[-2000:] + b.adapter_log()[-2000:])

        # the agent hangs up (through b, the dialog's Record-Route): the call ends completed
        out, _ = caller.communicate(timeout=TALK_MS / 1000 + 20)
        assert caller.returncode == 0, out[-3000:] + b.adapter_log()[-3000:]
        phone_out, _ = phone.communicate(timeout=10)
        assert phone.returncode == 0, phone_out[-3000:]
        detail = wait_for(lambda: (d := _api(served, f"/api/telephony/calls/{call_id}"))["state"] == "completed"
                          and d, 15, "the call completed in Allô")
        assert (detail["agent"], detail["outcome"]) == (AGENT, "completed")
    finally:
        for proc in (caller, phone):
            if proc is not None:
                stop(proc, timeout=5)

    for node in (a, b):
        log = node.adapter_log()
        assert "is no longer at the edge" not in log, log[-3000:]  # no call reported lost
        assert "reconciliation: phone of" not in log, log[-3000:]  # the phone's state left alone
    assert "phone of operateur registered" in a.adapter_log()  # reported by the node that took the REGISTER
    assert "phone of operateur" not in b.adapter_log()
    print(f"two nodes: {time.monotonic() - started:.1f} s for the call")


def test_the_nodes_have_their_own_folders(served, nodes):
    a, b = nodes
    for node in (a, b):
        cfg = (node.root / "kamailio.cfg").read_text()
        assert f"# Node: {node.name}." in cfg and 'loadmodule "dmq_usrloc.so"' in cfg
    assert Path(served.data / "voice" / "prompts").is_dir()


def test_each_node_stops_by_its_pids(nodes):
    a, b = nodes
    for node in (b, a):
        assert stop(node.proc, timeout=30) == 0, node.out.read_text()[-2000:]
        assert "voice edge stopped" in node.out.read_text()
        assert not any(alive(pid) for pid in node.pids.values()), node.pids
        assert not any((node.root / "run" / f"{n}.pid").exists() for n in node.pids)
