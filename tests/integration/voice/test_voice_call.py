"""A real SIP call into Allô, end to end (issue 11, item 1): a real `allo serve` (its embedded
router, with ALLO_VOICE_EDGE: agents need a registered phone), `allo voice up` (Kamailio, rtpengine
and the adapter, which reaches Allô only through the telephony API), an agent's phone played by SIPp
that registers with the password the agent generated on its desk (digest authentication against the
HA1 the adapter loaded from Allô), the agent signed in and ready on its desk, and SIPp citizens
dialling 3939.

Everything listens on 127.0.0.1, every step is bounded in time, every process is stopped by its PID.
Needs Debian's kamailio, kamailio-extra-modules, rtpengine-daemon and sip-tester (.ci/run installs
them); skipped otherwise.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from loopback import alive, free_port, stop, wait_for

from allo.voice import ng
from allo.voice.stack import DEBIAN_PACKAGES, missing_binaries

MISSING = missing_binaries(("kamailio", "rtpengine", "sipp"))
PROMPTS = shutil.which("espeak-ng") is not None  # announcements are checked when it is installed
KEY_2 = Path("/usr/share/sip-tester/dtmf_2833_2.pcap")  # sip-tester's capture of the key 2 (RFC 2833)
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (Debian: {DEBIAN_PACKAGES}; .ci/run installs them)")

ALLO = [sys.executable, "-m", "allo"]
SIPP = shutil.which("sipp") or "sipp"
SCENARIOS = Path(__file__).with_name("sipp")
HOST = "127.0.0.1"
AGENT = "operateur"  # the demo's N1 operators, and its supervisor
SECOND_AGENT = "operateur2"
SUPERVISOR = "superviseur"
DEMO_PASSWORD = "allo-demo-2026"
RING_TIMEOUT_S = 8  # an agent's phone that rings longer is « pas de réponse » (ALLO_VOICE_RING_TIMEOUT)


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group remains (Kamailio's workers are in their main process's)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(alive(int(p.name)) for p in Path("/proc").iterdir()
               if p.name.isdigit() and _pgid(int(p.name)) == pgid)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("voice")
    env = os.environ | {"ALLO_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'allo.sqlite3'}",
                        "ALLO_HTTPS": "0", "ALLO_LOG_LEVEL": "WARNING", "ALLO_CC_HOURS": "always",
                        "ALLO_DEMO_ARCHIVES": "", "ALLO_VOICE_EDGE": "1",
                        "ALLO_VOICE_RING_TIMEOUT": str(RING_TIMEOUT_S)}
    for name in ("ALLO_WEB_THREADS", "REDIS_URL", "ALLO_VOICE_SIP", "ALLO_VOICE_SIP_DOMAIN"):
        env.pop(name, None)
    subprocess.run([*ALLO, "init", "--demo"], env=env, check=True, capture_output=True, timeout=300)
    token = subprocess.run([*ALLO, "token", "create", "--role", "telephony", "--label", "test"], env=env,
                           check=True, capture_output=True, text=True, timeout=120).stdout.split()[-1]
    port = free_port()
    log = data / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*ALLO, "serve", "--host", HOST, "--port", str(port), "--no-callgen"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/openapi.json", timeout=5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("allo serve did not start: " + log.read_text()[-2000:]) from None
                time.sleep(0.3)
        yield type("Served", (), {"base": base, "token": token, "env": env, "data": data})
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def voice(served):
    """`allo voice up` without --token (it creates its own in the local database)."""
    sip_port = free_port(socket.SOCK_DGRAM)
    ng_port = free_port(socket.SOCK_DGRAM)
    rtp_low = random.randrange(35000, 39000, 100)
    out = served.data / "voice-up.log"
    with open(out, "wb") as f:
        proc = subprocess.Popen(
            [*ALLO, "voice", "up", "--allo", served.base, "--sip", f"{HOST}:{sip_port}",
             "--evapi", f"{HOST}:{free_port()}", "--ng", f"{HOST}:{ng_port}",
             "--rtp-ports", f"{rtp_low}-{rtp_low + 99}", "--start-timeout", "60"],
            env=served.env | {"ALLO_VOICE_DTMF": f"{HOST}:{free_port(socket.SOCK_DGRAM)}"},
            stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 200
        while "voice edge up" not in out.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("allo voice up did not start: " + out.read_text()[-3000:])
            time.sleep(0.2)
        run = served.data / "voice" / "run"
        pids = {name: int((run / f"{name}.pid").read_text()) for name in ("rtpengine", "kamailio", "adapter")}
        yield type("Voice", (), {"proc": proc, "sip_port": sip_port, "ng_port": ng_port, "pids": pids, "out": out,
                                 "logs": served.data / "voice" / "log"})
    finally:
        stop(proc, timeout=30)


# SIPp's media ports, each used in turn: two SIPp of one test never get the same (a random pick did, now
# and then, and the second SIPp exited at once: « Unable to bind audio RTP socket »)
_MEDIA_PORTS = itertools.cycle(random.sample(range(40000, 44000, 10), 400))


def _media_port() -> int:
    """SIPp's media port (-mp: audio RTP there, video RTP 2 above), free when chosen."""
    for _ in range(50):
        port = next(_MEDIA_PORTS)
        try:
            for p in (port, port + 2):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind((HOST, p))
            return port
        except OSError:
            continue
    raise RuntimeError("no free media port for SIPp")


def _sipp(scenario: str, port: int, *args: str, calls: int = 1, timeout: int = 30) -> list[str]:
    return [SIPP, "-sf", str(SCENARIOS / scenario), "-i", HOST, "-p", str(port),
            "-mp", str(_media_port()), "-m", str(calls), "-timeout", f"{timeout}s",
            "-timeout_error", "-nostdin", "-trace_err", *args]


SIPP_BIND_FAILED = 254  # SIPp's exit code -2: « Fatal error binding a socket »


def _run_sipp(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run SIPp to its end. A port taken between its choice and SIPp's bind (another process of this
    busy machine) makes SIPp exit at once, having sent nothing: it runs again once, on fresh ports."""
    for attempt in range(2):
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(proc, timeout=5)
            out, _ = proc.communicate()
        if proc.returncode != SIPP_BIND_FAILED or "Unable to bind" not in out or attempt:
            return subprocess.CompletedProcess(argv, proc.returncode, out, "")
        argv = list(argv)
        argv[argv.index("-p") + 1] = str(free_port(socket.SOCK_DGRAM))
        argv[argv.index("-mp") + 1] = str(_media_port())
    raise AssertionError("unreachable")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a form's answer is its redirection: the page it leads to is not this test's


def _signed_in(base: str, username: str, password: str):
    """A browser's session: sign in, then `post(path, fields)` forms with the CSRF token; each returns
    where the answer redirects. `post.page(path, fields)` returns the page a form answers with (no
    redirection), `post.get(path)` a page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)

    def _fields(fields: dict) -> bytes:
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        return urllib.parse.urlencode(fields | {"csrfmiddlewaretoken": csrf}).encode()

    def post(path: str, fields: dict) -> str:
        try:
            opener.open(urllib.request.Request(base + path, data=_fields(fields)), timeout=20).close()
        except urllib.error.HTTPError as exc:
            if exc.code in (302, 303):
                return exc.headers["Location"]
            raise
        raise AssertionError(f"POST {path}: no redirection (a refused form?)")

    def page(path: str, fields: dict) -> str:
        with opener.open(urllib.request.Request(base + path, data=_fields(fields)), timeout=20) as response:
            return response.read().decode()

    def get(path: str) -> str:
        with opener.open(base + path, timeout=20) as response:
            return response.read().decode()

    opener.open(f"{base}/connexion/", timeout=10).close()  # the CSRF cookie
    assert post("/connexion/", {"username": username, "password": password}) == "/espace-agents/"
    post.page, post.get = page, get
    return post


def _desk_ready(served, username: str, wait: bool = True) -> None:
    """The agent signs in on its desk and presses « Prêt »; the router has it available."""
    _signed_in(served.base, username, DEMO_PASSWORD)("/poste/etat/", {"action": "ready"})
    if wait:  # (not when a caller waits: the router offers the call at once)
        wait_for(lambda: _db(served, "SELECT 1 FROM contact_centre_agentstatus WHERE agent = ? AND state = 'available'",
                              username), 20, f"{username} available on the router")


def _register(voice, tmp_path, agent: str, password: str, phone_port: int) -> subprocess.CompletedProcess:
    return _run_sipp([*_sipp("agent_register.xml", free_port(socket.SOCK_DGRAM), timeout=10),
                      f"{HOST}:{voice.sip_port}", "-s", agent, "-au", agent, "-ap", password,
                      "-key", "phone_port", str(phone_port)], tmp_path, timeout=20)


_PASSWORDS: dict[str, str] = {}


def _sip_password(served, agent: str) -> str:
    """The agent generates its SIP password on its desk (« Mon téléphone »), once for this module;
    the adapter loads its HA1 into Kamailio within a few seconds (ACCOUNTS_EVERY_S)."""
    if agent not in _PASSWORDS:
        page = _signed_in(served.base, agent, DEMO_PASSWORD).page("/poste/telephone/", {})
        _PASSWORDS[agent] = re.search(r'id="sip-mot-de-passe" value="([^"]+)"', page).group(1)
        time.sleep(4)  # the adapter reads the accounts every 3 s
    return _PASSWORDS[agent]


def _phone_registered(served, agent: str) -> bool | None:
    """Allô's registered state of the agent's phone, as the edge reported it."""
    rows = _db(served, "SELECT a.registered FROM voice_sipaccount a JOIN accounts_user u ON u.id = a.user_id "
                       "WHERE u.username = ?", agent)
    return bool(rows[0][0]) if rows else None


def _desk(served, agent: str) -> str:
    return _signed_in(served.base, agent, DEMO_PASSWORD).get("/operateur/")


def _rtpengine_calls(voice) -> list[str]:
    """The Call-IDs rtpengine still relays (ng `list`; a new cookie each time: rtpengine answers a
    cookie it has seen with its cached answer, as to a retransmission)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(os.urandom(6).hex().encode() + b" " + ng.bencode({"command": "list"}), (HOST, voice.ng_port))
        return ng._text(ng.bdecode(s.recv(65536).partition(b" ")[2])).get("calls", [])


def _api(served, path: str) -> dict:
    request = urllib.request.Request(served.base + path, headers={"Authorization": f"Bearer {served.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _db(served, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(served.data / "allo.sqlite3", timeout=10) as db:
        return db.execute(sql, params).fetchall()


class RtpListener(threading.Thread):
    """The citizen's media port: counts the RTP packets that carry sound (PCMU payloads of varied
    bytes, not the constant 0xFF/0x7F of silence)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets = self.voiced = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                data = self.sock.recv(2048)
            except OSError:
                continue
            if len(data) > 12 and data[0] >> 6 == 2:
                self.packets += 1
                self.voiced += len(set(data[12:])) > 8

    def stop(self):
        self.halt.set()
        self.join(timeout=2)
        self.sock.close()


def _call_of(served, caller: str) -> tuple:
    rows = _db(served, "SELECT call_id, dialed, state, agent FROM contact_centre_contact WHERE caller = ?", caller)
    return rows[0] if rows else None


def test_a_citizen_calls_3939_and_talks_to_the_agent_the_router_picked(served, voice, tmp_path):
    password = _sip_password(served, AGENT)
    edge = f"{HOST}:{voice.sip_port}"
    phone_port = free_port(socket.SOCK_DGRAM)
    # the agent's phone: a SIPp UAS that rings, answers, talks 2 s and hangs up
    phone = subprocess.Popen(_sipp("agent_phone.xml", phone_port, timeout=60), cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # a wrong password is refused (401 again after the challenge), the right one registers the phone
        assert "Téléphone non connecté" in _desk(served, AGENT)
        refused = _run_sipp([*_sipp("agent_register_refused.xml", free_port(socket.SOCK_DGRAM), timeout=10),
                             f"{HOST}:{voice.sip_port}", "-s", AGENT, "-au", AGENT, "-ap", "not-the-password",
                             "-key", "phone_port", str(phone_port)], tmp_path, timeout=20)
        assert refused.returncode == 0, refused.stdout[-2000:]
        assert not _phone_registered(served, AGENT)
        registered = _register(voice, tmp_path, AGENT, password, phone_port)
        assert registered.returncode == 0, registered.stdout[-2000:]
        # Kamailio told the adapter, which told Allô: the desk shows it
        wait_for(lambda: _phone_registered(served, AGENT), 10, "the phone registered in Allô")
        assert "Téléphone connecté" in _desk(served, AGENT)
        _desk_ready(served, AGENT)

        started = time.monotonic()
        caller = _run_sipp([*_sipp("caller.xml", free_port(socket.SOCK_DGRAM), timeout=30), edge,
                            "-s", "3939", "-key", "caller_number", "+33611223344",
                            "-key", "rtp_port", str(free_port(socket.SOCK_DGRAM))], tmp_path, timeout=45)
        assert caller.returncode == 0, caller.stdout[-3000:] + (voice.logs / "adapter.log").read_text()[-3000:]
        try:
            phone_out, _ = phone.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            phone_out = ""
        assert phone.returncode == 0, phone_out[-3000:]  # it received the INVITE, answered and hung up
        assert time.monotonic() - started < 30
    finally:
        stop(phone, timeout=5)

    # the call appeared in Allô, the router bridged it to the agent, and the hang-up ended it
    call_id, dialed, _, agent = wait_for(lambda: _call_of(served, "+33611223344"), 10, "the call in Allô")
    assert (dialed, agent) == ("3939", AGENT)
    detail = wait_for(lambda: (d := _api(served, f"/api/telephony/calls/{call_id}"))["state"] == "completed" and d,
                       15, "the call ended in Allô")
    assert (detail["queue"], detail["agent"], detail["outcome"]) == ("n1", AGENT, "completed")
    commands = [json.loads(c) for (c,) in _db(
        served, "SELECT command FROM contact_centre_telephonycommand WHERE call_id = ? ORDER BY seq", call_id)]
    assert commands[0] == {"command": "bridge", "call_id": call_id, "agent": AGENT, "outbound": False}
    # the adapter acknowledged the commands it executed
    last_bridge = _db(served, "SELECT max(seq) FROM contact_centre_telephonycommand WHERE call_id = ?", call_id)[0][0]
    wait_for(lambda: _db(served, "SELECT seq FROM contact_centre_telephonyack WHERE seq >= ?", last_bridge), 10,
              "the adapter's ack")
    # the caller hung up on a connected call: the agent is in wrap-up, as after any call
    assert _db(served, "SELECT state FROM contact_centre_agentstatus WHERE agent = ?", AGENT) == [("wrap_up",)]


def test_a_citizen_who_gives_up_while_queued_is_an_abandoned_call(served, voice, tmp_path):
    # nobody is ready (the agent is in wrap-up since the previous call): the caller waits, then hangs up
    caller = _run_sipp([*_sipp("caller_gives_up.xml", free_port(socket.SOCK_DGRAM), timeout=20),
                        f"{HOST}:{voice.sip_port}", "-s", "3939", "-key", "caller_number", "+33611223355"],
                       tmp_path, timeout=30)
    assert caller.returncode == 0, caller.stdout[-3000:]
    call_id, dialed, _, agent = wait_for(lambda: _call_of(served, "+33611223355"), 10, "the call in Allô")
    assert dialed == "3939" and not agent
    wait_for(lambda: _api(served, f"/api/telephony/calls/{call_id}")["state"] == "abandoned", 15,
              "the call abandoned in Allô")


def test_a_queued_caller_hears_the_announcement_then_allo_ends_the_call_and_both_phones_get_a_bye(
        served, voice, tmp_path):
    """While nobody is ready the router has the announcement played: the caller gets early media (183)
    and rtpengine's RTP carries the espeak-ng prompt to it. Then Allô's own hang-up (a supervisor's
    « fin d'appel forcée ») reaches the edge: the adapter ends the dialog (Kamailio's dlg_bye to both
    sides) and deletes the media session in rtpengine."""
    ears = RtpListener()
    ears.start()
    phone_port = free_port(socket.SOCK_DGRAM)
    phone = subprocess.Popen(_sipp("agent_phone_talks.xml", phone_port, timeout=60), cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    caller = subprocess.Popen([*_sipp("caller.xml", free_port(socket.SOCK_DGRAM), timeout=60),
                               f"{HOST}:{voice.sip_port}", "-s", "3939", "-key", "caller_number", "+33611223366",
                               "-key", "rtp_port", str(ears.port)],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        registered = _register(voice, tmp_path, SECOND_AGENT, _sip_password(served, SECOND_AGENT), phone_port)
        assert registered.returncode == 0, registered.stdout[-2000:]
        queued = wait_for(lambda: _call_of(served, "+33611223366"), 20, "the caller queued in Allô")
        if PROMPTS:
            wait_for(lambda: ears.voiced >= 25, 20, "half a second of the announcement at the caller's")
            # its position and expected wait first (the only caller waiting: « le prochain appel »)
            assert re.search(rf"call {queued[0]}: « attente-position-1-wait-\d+ » played \(ok\)",
                             (voice.logs / "adapter.log").read_text())
        _desk_ready(served, SECOND_AGENT, wait=False)  # the queued caller goes to this agent's phone
        call_id = wait_for(lambda: (c := _call_of(served, "+33611223366")) and c[3] == SECOND_AGENT and c[0], 20,
                            "the call bridged to the second agent")
        wait_for(lambda: f"call {call_id} answered" in (voice.logs / "adapter.log").read_text(), 20,
                  "the phone's answer at the edge")
        assert _rtpengine_calls(voice)  # the conversation's media goes through rtpengine

        _signed_in(served.base, SUPERVISOR, DEMO_PASSWORD)(
            "/supervision/plateau/action/", {"action": "end_call", "call_id": call_id})
        caller_out, _ = caller.communicate(timeout=20)
        phone_out, _ = phone.communicate(timeout=20)
        assert caller.returncode == 0, caller_out[-3000:]  # the citizen got the BYE and answered it
        assert phone.returncode == 0, phone_out[-3000:]  # and so did the agent's phone
    finally:
        stop(caller, timeout=5)
        stop(phone, timeout=5)
        ears.stop()
    assert _api(served, f"/api/telephony/calls/{call_id}")["state"] == "lost"
    wait_for(lambda: not _rtpengine_calls(voice), 10, "no media session left in rtpengine")


def test_a_busy_phone_sends_the_call_back_to_the_queue_and_its_agent_to_pas_de_reponse(served, voice, tmp_path):
    """The agent's phone refuses (486): Kamailio parks the caller's INVITE again and the adapter
    reports it (POST .../no-answer); the router puts the call back in the queue and the agent in a
    « Pas de réponse » pause. A supervisor then ends the call: the caller gets 480."""
    # a supervisor logs both agents out (the first in wrap-up since its call, the second free since
    # the supervisor ended its call); the first signs in again, with a busy phone
    supervisor = _signed_in(served.base, SUPERVISOR, DEMO_PASSWORD)
    for agent in (AGENT, SECOND_AGENT):
        supervisor("/supervision/plateau/action/", {"action": "logout", "agent": agent})
    wait_for(lambda: len(_db(served, "SELECT 1 FROM contact_centre_agentstatus WHERE agent IN (?, ?) "
                                      "AND state = 'offline'", AGENT, SECOND_AGENT)) == 2, 20, "both agents logged out")
    phone_port = free_port(socket.SOCK_DGRAM)
    phone = subprocess.Popen(_sipp("agent_phone_busy.xml", phone_port, timeout=40), cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    caller = None
    try:
        registered = _register(voice, tmp_path, AGENT, _sip_password(served, AGENT), phone_port)
        assert registered.returncode == 0, registered.stdout[-2000:]
        _desk_ready(served, AGENT)
        caller = subprocess.Popen([*_sipp("caller_waits_refused.xml", free_port(socket.SOCK_DGRAM), timeout=40),
                                   f"{HOST}:{voice.sip_port}", "-s", "3939", "-key", "caller_number", "+33611223377",
                                   "-key", "rtp_port", str(free_port(socket.SOCK_DGRAM))],
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        phone_out, _ = phone.communicate(timeout=30)
        assert phone.returncode == 0, phone_out[-3000:]  # the phone was offered the call and refused it
        call_id = wait_for(lambda: (c := _call_of(served, "+33611223377")) and c[0], 10, "the call in Allô")
        wait_for(lambda: _db(served, "SELECT state, reason FROM contact_centre_agentstatus WHERE agent = ?",
                              AGENT) == [("paused", "Pas de réponse")], 15, "the agent in « Pas de réponse »")
        assert _api(served, f"/api/telephony/calls/{call_id}")["state"] == "queued"  # back in the queue
        assert "Pas de réponse" in supervisor.get("/supervision/plateau/")  # the floor view shows why
        assert caller.poll() is None  # the citizen still waits

        supervisor("/supervision/plateau/action/", {"action": "end_call", "call_id": call_id})
        caller_out, _ = caller.communicate(timeout=20)
        assert caller.returncode == 0, caller_out[-3000:] + (voice.logs / "adapter.log").read_text()[-2000:]
    finally:
        stop(phone, timeout=5)
        if caller is not None:
            stop(caller, timeout=5)
    assert _api(served, f"/api/telephony/calls/{call_id}")["state"] == "lost"
    wait_for(lambda: not _rtpengine_calls(voice), 10, "no media session left in rtpengine")


def test_allo_ends_a_call_while_the_agents_phone_rings_the_phone_gets_a_cancel(served, voice, tmp_path):
    """A supervisor ends a call whose agent's phone still rings: Kamailio cancels the phone's INVITE
    (tmx t_cancel_callid), the phone answers 487, and the caller gets 480 (the failure route's answer:
    t_is_canceled() is only true for the caller's own CANCEL); the call is lost in Allô."""
    supervisor = _signed_in(served.base, SUPERVISOR, DEMO_PASSWORD)
    supervisor("/supervision/plateau/action/", {"action": "logout", "agent": AGENT})  # in wrap-up since its call
    wait_for(lambda: _db(served, "SELECT 1 FROM contact_centre_agentstatus WHERE agent = ? AND state = 'offline'",
                          AGENT), 20, "the agent logged out")
    phone_port = free_port(socket.SOCK_DGRAM)
    phone = subprocess.Popen(_sipp("agent_phone_rings.xml", phone_port, timeout=40), cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        registered = _register(voice, tmp_path, AGENT, _sip_password(served, AGENT), phone_port)
        assert registered.returncode == 0, registered.stdout[-2000:]
        _desk_ready(served, AGENT)
        caller = subprocess.Popen([*_sipp("caller_refused.xml", free_port(socket.SOCK_DGRAM), timeout=30),
                                   f"{HOST}:{voice.sip_port}", "-s", "3939", "-key", "caller_number", "+33611223388"],
                                  cwd=tmp_path, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            call_id = wait_for(lambda: (c := _call_of(served, "+33611223388")) and c[0], 20, "the call in Allô")
            wait_for(lambda: f"call {call_id}: dispatch to" in (voice.logs / "adapter.log").read_text(), 20,
                      "the dispatch to the agent's phone")
            time.sleep(0.5)  # ringing
            supervisor("/supervision/plateau/action/", {"action": "end_call", "call_id": call_id})
            caller_out, _ = caller.communicate(timeout=20)
            assert caller.returncode == 0, caller_out[-3000:] + (voice.logs / "kamailio.log").read_text()[-2000:]
        finally:
            stop(caller, timeout=5)
        phone_out, _ = phone.communicate(timeout=20)
        assert phone.returncode == 0, phone_out[-3000:]  # it got the CANCEL
    finally:
        stop(phone, timeout=5)
    assert _api(served, f"/api/telephony/calls/{call_id}")["state"] == "lost"
    wait_for(lambda: not _rtpengine_calls(voice), 10, "no media session left in rtpengine")


def test_a_phone_that_rings_unanswered_sends_the_call_to_the_next_ready_agent(served, voice, tmp_path):
    """The first agent's phone rings past the ring time: Kamailio cancels it (its 487) and parks the
    caller again; the router puts the call back at the head of the queue and the agent in « Pas de
    réponse ». The second agent says « Prêt »: its phone rings, answers, talks and hangs up, and the
    citizen, who waited throughout, gets the BYE; the call is completed by the second agent."""
    supervisor = _signed_in(served.base, SUPERVISOR, DEMO_PASSWORD)
    for agent in (AGENT, SECOND_AGENT):
        supervisor("/supervision/plateau/action/", {"action": "logout", "agent": agent})
    wait_for(lambda: len(_db(served, "SELECT 1 FROM contact_centre_agentstatus WHERE agent IN (?, ?) "
                                      "AND state = 'offline'", AGENT, SECOND_AGENT)) == 2, 20, "both agents logged out")
    ringing_port, answering_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    ringing = subprocess.Popen(_sipp("agent_phone_rings.xml", ringing_port, timeout=60), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answering = subprocess.Popen(_sipp("agent_phone.xml", answering_port, timeout=90), cwd=tmp_path,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    caller = None
    try:
        for agent, port in ((AGENT, ringing_port), (SECOND_AGENT, answering_port)):
            registered = _register(voice, tmp_path, agent, _sip_password(served, agent), port)
            assert registered.returncode == 0, registered.stdout[-2000:]
        _desk_ready(served, AGENT)
        started = time.monotonic()
        caller = subprocess.Popen([*_sipp("caller_waits.xml", free_port(socket.SOCK_DGRAM), timeout=80),
                                   f"{HOST}:{voice.sip_port}", "-s", "3939", "-key", "caller_number", "+33611223399",
                                   "-key", "rtp_port", str(free_port(socket.SOCK_DGRAM))],
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ringing_out, _ = ringing.communicate(timeout=RING_TIMEOUT_S + 20)
        assert ringing.returncode == 0, ringing_out[-3000:]  # it rang, then got Kamailio's CANCEL
        assert time.monotonic() - started >= RING_TIMEOUT_S - 1
        call_id = _call_of(served, "+33611223399")[0]
        wait_for(lambda: _db(served, "SELECT state, reason FROM contact_centre_agentstatus WHERE agent = ?",
                              AGENT) == [("paused", "Pas de réponse")], 15, "the agent in « Pas de réponse »")
        assert "Pas de réponse" in _desk(served, AGENT)  # and « Prêt » brings it back
        assert caller.poll() is None  # the citizen still waits

        _desk_ready(served, SECOND_AGENT, wait=False)
        caller_out, _ = caller.communicate(timeout=40)
        assert caller.returncode == 0, caller_out[-3000:] + (voice.logs / "adapter.log").read_text()[-3000:]
        answering_out, _ = answering.communicate(timeout=20)
        assert answering.returncode == 0, answering_out[-3000:]
    finally:
        for proc in (ringing, answering, caller):
            if proc is not None:
                stop(proc, timeout=5)
    detail = wait_for(lambda: (d := _api(served, f"/api/telephony/calls/{call_id}"))["state"] == "completed" and d,
                       15, "the call completed in Allô")
    assert detail["agent"] == SECOND_AGENT
    bridges = [json.loads(c)["agent"] for (c,) in _db(
        served, "SELECT command FROM contact_centre_telephonycommand WHERE call_id = ? ORDER BY seq", call_id)
        if json.loads(c)["command"] == "bridge"]
    assert bridges == [AGENT, SECOND_AGENT]


def test_a_phone_that_unregisters_shows_on_the_desk(served, voice, tmp_path):
    assert _phone_registered(served, SECOND_AGENT)
    gone = _run_sipp([*_sipp("agent_unregister.xml", free_port(socket.SOCK_DGRAM), timeout=10),
                      f"{HOST}:{voice.sip_port}", "-s", SECOND_AGENT, "-au", SECOND_AGENT,
                      "-ap", _sip_password(served, SECOND_AGENT)], tmp_path, timeout=20)
    assert gone.returncode == 0, gone.stdout[-2000:]
    wait_for(lambda: _phone_registered(served, SECOND_AGENT) is False, 10, "the phone unregistered in Allô")
    assert "Téléphone non connecté" in _desk(served, SECOND_AGENT)


def test_a_regenerated_password_replaces_the_old_one_at_the_edge_without_a_restart(served, voice, tmp_path):
    """The agent regenerates its password on its desk: within the adapter's next reading of the
    accounts, Kamailio refuses the old one (401 after the challenge) and accepts the new one."""
    old = _sip_password(served, AGENT)
    del _PASSWORDS[AGENT]
    new = _sip_password(served, AGENT)  # the desk's « Régénérer », then the adapter's next reading
    assert new != old

    def register(scenario: str, password: str) -> subprocess.CompletedProcess:
        return _run_sipp([*_sipp(scenario, free_port(socket.SOCK_DGRAM), timeout=10), f"{HOST}:{voice.sip_port}",
                          "-s", AGENT, "-au", AGENT, "-ap", password, "-key", "phone_port", "5999"],
                         tmp_path, timeout=20)

    refused = register("agent_register_refused.xml", old)
    assert refused.returncode == 0, refused.stdout[-2000:]
    accepted = register("agent_register.xml", new)
    assert accepted.returncode == 0, accepted.stdout[-2000:]


@pytest.mark.skipif(not PROMPTS or not KEY_2.exists(), reason="needs espeak-ng (the menu's prompt) and sip-tester's "
                    "RFC 2833 captures")
def test_a_citizen_hears_the_menu_presses_2_and_reaches_the_ready_agent(served, voice, tmp_path):
    """Issue 11's « done when »: a citizen whose phone sends keys dials 3939, hears the welcome and its
    menu (early media), presses 2 (RFC 4733 event in its RTP; rtpengine reports it to the adapter):
    the call reaches Allô with ivr_choice « 2 » (topic consommation), and the ready agent's phone."""
    phone_port = free_port(socket.SOCK_DGRAM)
    phone = subprocess.Popen(_sipp("agent_phone.xml", phone_port, timeout=60), cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    caller = None
    try:
        registered = _register(voice, tmp_path, AGENT, _sip_password(served, AGENT), phone_port)
        assert registered.returncode == 0, registered.stdout[-2000:]
        _desk_ready(served, AGENT)  # « Prêt », from the « Pas de réponse » of an earlier test
        started = time.monotonic()
        caller = subprocess.Popen([*_sipp("caller_menu.xml", free_port(socket.SOCK_DGRAM), timeout=45),
                                   f"{HOST}:{voice.sip_port}", "-s", "3939", "-key", "caller_number", "+33611223311"],
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        caller_out, _ = caller.communicate(timeout=50)
        assert caller.returncode == 0, caller_out[-3000:] + (voice.logs / "adapter.log").read_text()[-3000:]
        phone_out, _ = phone.communicate(timeout=20)
        assert phone.returncode == 0, phone_out[-3000:]  # it rang, answered and hung up
    finally:
        stop(phone, timeout=5)
        if caller is not None:
            stop(caller, timeout=5)
    # the key ended the menu: the call did not wait for the menu's timeout (the prompt, 12 s, and 5 s)
    assert time.monotonic() - started < 15
    rows = _db(served, "SELECT call_id, ivr_choice, agent FROM contact_centre_contact WHERE caller = ?", "+33611223311")
    assert [(r[1], r[2]) for r in rows] == [("2", AGENT)]
    detail = wait_for(lambda: (d := _api(served, f"/api/telephony/calls/{rows[0][0]}"))["state"] == "completed"
                       and d, 15, "the call completed in Allô")
    assert detail["agent"] == AGENT
    log = (voice.logs / "adapter.log").read_text()
    assert "menu answered '2'" in log
    # « fermé » was spoken at `allo voice up` with the demo platform's hours
    closed = json.loads((served.data / "voice" / "prompts" / "ferme.json").read_text())["text"]
    assert re.search(r"vous répondent (du|le) lundi.* de \d+ heures", closed), closed


def test_sigterm_stops_kamailio_rtpengine_and_the_adapter(voice):
    assert all(alive(pid) for pid in voice.pids.values()), voice.pids
    assert stop(voice.proc, timeout=30) == 0, voice.out.read_text()[-2000:]
    # each was started in its own process group: nothing of any group is left (Kamailio's workers)
    wait_for(lambda: not any(_group_alive(pid) for pid in voice.pids.values()), 10, "every voice process gone")
    assert "voice edge stopped" in voice.out.read_text()
