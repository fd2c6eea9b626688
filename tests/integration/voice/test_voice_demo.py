"""`allo voice demo` (what `make voice` runs after `allo init --demo`): the demo server and the voice
edge come up together, the demo operator's SIP password it prints registers a phone (SIPp) that Allô
then shows as connected, and a SIGTERM stops the server, Kamailio, rtpengine and the adapter.

Everything on 127.0.0.1, bounded in time, stopped by PID. Skipped without Debian's voice packages."""

from __future__ import annotations

import random
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from loopback import ALLO, alive, allo, allo_env, free_port, stop

from allo.voice.stack import DEBIAN_PACKAGES, missing_binaries

MISSING = missing_binaries(("kamailio", "rtpengine", "sipp"))
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (Debian: {DEBIAN_PACKAGES}; .ci/run installs them)")

HOST = "127.0.0.1"
SCENARIOS = Path(__file__).with_name("sipp")


def _phone_state(env: dict) -> str:
    out = allo(env, "voice", "credentials", "--agent", "operateur", timeout=60)
    return out.split()[-1] if out.strip() else ""


def test_voice_demo_prints_a_working_phone_account_and_stops_everything(tmp_path):
    sip_port = free_port(socket.SOCK_DGRAM)
    rtp_low = random.randrange(45000, 49000, 100)
    env = allo_env(tmp_path, ALLO_DEMO_ARCHIVES="", ALLO_VOICE_SIP=f"{HOST}:{sip_port}",
                   ALLO_VOICE_EVAPI=f"{HOST}:{free_port()}", ALLO_VOICE_NG=f"{HOST}:{free_port(socket.SOCK_DGRAM)}",
                   ALLO_VOICE_RTP_PORTS=f"{rtp_low}-{rtp_low + 99}")
    for name in ("ALLO_VOICE_SIP_DOMAIN", "ALLO_VOICE_TOKEN"):
        env.pop(name, None)
    allo(env, "init", "--demo")
    out = tmp_path / "demo.log"
    with open(out, "wb") as f:
        demo = subprocess.Popen([*ALLO, "voice", "demo", "--host", HOST, "--port", str(free_port()),
                                 "--start-timeout", "60"], env=env, stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while "voice edge up" not in out.read_text():
            assert demo.poll() is None and time.monotonic() < deadline, out.read_text()[-3000:]
            time.sleep(0.3)
        printed = out.read_text()
        password = re.search(r"^  mot de passe (\S+)$", printed, re.M).group(1)
        assert f"serveur      {HOST}:{sip_port} (UDP)" in printed
        assert f"auth_pass={password}" in printed
        run = tmp_path / "voice" / "run"
        pids = {name: int((run / f"{name}.pid").read_text()) for name in ("rtpengine", "kamailio", "adapter")}
        server = int(re.search(r"serveur web sur \S+ \(pid (\d+)\)", printed).group(1))
        assert alive(server)

        assert _phone_state(env) == "téléphone:non-connecté"
        register = subprocess.run(
            [shutil.which("sipp"), "-sf", str(SCENARIOS / "agent_register.xml"), "-i", HOST,
             "-p", str(free_port(socket.SOCK_DGRAM)), "-m", "1", "-timeout", "10s", "-timeout_error", "-nostdin",
             f"{HOST}:{sip_port}", "-s", "operateur", "-au", "operateur", "-ap", password, "-key", "phone_port", "5999"],
            cwd=tmp_path, capture_output=True, text=True, timeout=20)
        assert register.returncode == 0, register.stdout[-2000:]
        deadline = time.monotonic() + 20
        while _phone_state(env) != "téléphone:connecté":
            assert time.monotonic() < deadline, "the registered phone never showed as connected in Allô"
            time.sleep(0.5)
    finally:
        code = stop(demo, timeout=60)
    assert code == 0, out.read_text()[-2000:]
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in [*pids.values(), server]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in [*pids.values(), server] if alive(pid)]
