"""Benchmark the voice edge end to end (issue 11, item 7; not a test: prints figures).

    .venv/bin/python bench/bench_voice.py [--rate 20] [--duration 300] [--agents 100] [--talk 2] [--wrap 1]

On loopback, in a temporary data folder: `allo init --demo`, N operators (agent001...) each with a
SIP password (voice.credentials.generate, as the desk does), `allo serve` with ALLO_VOICE_EDGE=1 and
no call generator, `allo voice up` (Kamailio, rtpengine, the adapter). One SIPp UAS plays every
agent's phone (all the agents' contacts point at it: it rings, answers, talks `--talk` s, hangs up);
a SIPp UAC registers the N agents from an injection file (digest authentication against the HA1s
the adapter loaded). This process plays the desks: it journals each agent's « Prêt » and, `--wrap`
s after a call, the end of its wrap-up (services.agent_action / end_wrap_up, the inputs the desk's
views write; the embedded router polls the journal every 10 ms).

Phase 1 (announcement, ready → INVITE): nobody is ready; `--queued` callers dial 3939 and wait (182,
then the announcement's 183); then agents press « Prêt » one at a time, 1 s apart: each takes the
oldest waiting call, and its phone's INVITE is timed from the journaled « Prêt ».
Phase 2 (load): every agent ready; a SIPp UAC dials 3939 at `--rate` calls/s for `--duration` s.

Printed: calls attempted / successful / failed (SIPp's statistics), INVITE → 182 (parked by
Kamailio), INVITE → 183 (announcement, for the calls that waited), INVITE → 180 (the agent's phone
rings: the whole path through the adapter, the API, the router and back), agent ready → INVITE at its
phone, the router's own offer latency (an arrival's journal commit to the Assign decision it caused,
from the journal), the CPU each component used and the machine's load. SIPp's log actions give each
message's wall-clock time ([timestamp]), so the figures are exact percentiles, not histogram buckets.

Every process it starts is stopped by its PID (SIGTERM, then SIGKILL), also on Ctrl-C or failure.
Needs Debian's kamailio, kamailio-extra-modules, rtpengine-daemon and sip-tester (SIPp).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from loopback import ALLO, allo, allo_env, allo_serve, free_port, stop  # noqa: E402

HOST = "127.0.0.1"
SIPP = shutil.which("sipp") or "sipp"
CALLER_PREFIX = "+3361"  # callers +3361xxxxxxx from an injection file (Allô refuses what is not a phone number)

# --- SIPp scenarios (written into the data folder; the test suite's, with log actions for the timing)

REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench register">
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:[field0]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[local_ip]:[phone_port]>
      Expires: 3600
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:[field0]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@[local_ip]:[phone_port]>
      [field1]
      Expires: 3600
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="200"/>
</scenario>
"""

# every agent's phone: rings, answers, talks (-d ms), hangs up; logs the INVITE's arrival per agent
PHONES = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench phones">
  <recv request="INVITE" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="me"/>
      <ereg regexp="^INVITE sip:([^@ ]+)@" search_in="msg" assign_to="junk,agent"/>
      <log message="invite [$agent] [timestamp]"/>
    </action>
  </recv>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]agent[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port]>
      Content-Length: 0
  ]]></send>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]agent[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv request="ACK" crlf="true"/>
  <pause/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: [$me];tag=[pid]agent[call_number]
      To: [$caller]
      [last_Call-ID:]
      CSeq: 1 BYE
      Contact: <sip:[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="200" crlf="true"/>
  <Reference variables="junk"/>
</scenario>
"""

# a citizen dials 3939: logs the INVITE sent and each provisional answer (182 parked, 183 the
# announcement, 180 the agent's phone rings), then talks until the agent's BYE. The INVITE is a SIPp
# transaction (start_txn / response_txn / ack_txn): a 180 that comes after the 200 is then ignored, as a
# phone's transaction layer does (RFC 6026), instead of aborting the call — Kamailio's UDP workers relay
# the phone's 180 and 200, received together, each after its own lock, so one run in 6,000 saw them
# swapped on the wire)
CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench caller">
  <!-- logged just before the send: a nop after it would be the current element when a fast 182
       comes, which SIPp counts as unexpected -->
  <nop><action><log message="INVITE [call_number] [timestamp]"/></action></nop>
  <send start_txn="invite" retrans="500"><![CDATA[
      INVITE sip:3939@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]citizen[call_number]
      To: <sip:3939@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=citizen 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv response_txn="invite" response="100" optional="true"/>
  <recv response_txn="invite" response="182" optional="true"><action><log message="182 [call_number] [timestamp]"/></action></recv>
  <recv response_txn="invite" response="183" optional="true"><action><log message="183 [call_number] [timestamp]"/></action></recv>
  <recv response_txn="invite" response="180" optional="true"><action><log message="180 [call_number] [timestamp]"/></action></recv>
  <recv response_txn="invite" response="200" rrs="true"><action><log message="200 [call_number] [timestamp]"/></action></recv>
  <send ack_txn="invite"><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]citizen[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>
</scenario>
"""


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (f"n={len(values)} p50 {1000 * pct(values, 50):.0f} ms, p95 {1000 * pct(values, 95):.0f} ms, "
            f"p99 {1000 * pct(values, 99):.0f} ms, max {1000 * max(values):.0f} ms")


def log_lines(path: Path) -> list[list[str]]:
    """SIPp's log actions: `<what> <who> <date>\\t<time>\\t<epoch>` per line."""
    if not path.exists():
        return []
    return [line.split() for line in path.read_text(errors="replace").splitlines() if line.strip()]


def caller_times(path: Path) -> dict[str, dict[str, float]]:
    """call number -> {"INVITE": t, "182": t, ...} (wall clock, s)."""
    calls: dict[str, dict[str, float]] = defaultdict(dict)
    for fields in log_lines(path):
        if len(fields) >= 5:
            calls[fields[1]].setdefault(fields[0], float(fields[-1]))
    return calls


def sipp_stats(path: Path) -> dict[str, str]:
    """The last row of SIPp's -trace_stat file (cumulative counters)."""
    rows = [line for line in path.read_text(errors="replace").splitlines() if line.strip()] if path.exists() else []
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0].split(";"), rows[-1].split(";"), strict=False))


def aborted(path: Path) -> Counter:
    """Why SIPp aborted calls, from its -trace_err file: "unexpected message (expecting '200', received
    SIP/2.0 401 Unauthorized)", "UDP retransmission timeout"..."""
    text = path.read_text(errors="replace") if path.exists() else ""
    why = Counter()
    for reason, expecting, received in re.findall(
            r"Aborting call on (.+?) for Call-I[dD] '[^']*'(?:: while (.+?) \(index \d+\), received '([^\r\n]*))?", text):
        why[f"{reason} ({expecting}, received {received})" if expecting else reason] += 1
    return why


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds of each named process with its threads and, for a process group
    leader (Kamailio, rtpengine, the adapter, SIPp: each its own group), every process of its group."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {name: 0.0 for name in pids}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, pgid = int(entry.name), int(fields[2])
        for name, leader in pids.items():
            if pid == leader or (pgid == leader and pgid != os.getpgid(0)):
                out[name] += (int(fields[11]) + int(fields[12])) / tick
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.data = Path(tempfile.mkdtemp(prefix="allo-bench-voice-"))
        self.sip_port = free_port(socket.SOCK_DGRAM)
        rtp_low = random.randrange(32000, 38000, 1000)
        self.env = allo_env(
            self.data, ALLO_CC_HOURS="always", ALLO_DEMO_ARCHIVES="", ALLO_DEMO_HISTORY_DAYS="0",
            ALLO_VOICE_EDGE="1", ALLO_VOICE_SIP=f"{HOST}:{self.sip_port}",
            ALLO_VOICE_EVAPI=f"{HOST}:{free_port()}", ALLO_VOICE_NG=f"{HOST}:{free_port(socket.SOCK_DGRAM)}",
            ALLO_VOICE_RTP_PORTS=f"{rtp_low}-{rtp_low + 999}", ALLO_VOICE_RING_TIMEOUT="20")
        for name in ("ALLO_VOICE_SIP_DOMAIN", "ALLO_VOICE_TOKEN"):
            self.env.pop(name, None)
        self.procs: list[subprocess.Popen] = []  # everything started, stopped in reverse order
        self.agents = [f"agent{k:03d}" for k in range(1, args.agents + 1)]
        self.ready_at: dict[str, float] = {}
        self.wrapups = 0
        self.no_answers = 0
        self.resumed: set[tuple[str, str]] = set()
        self.stopping = threading.Event()
        self.loads: list[float] = []
        for name, text in (("register.xml", REGISTER), ("phones.xml", PHONES), ("caller.xml", CALLER)):
            (self.data / name).write_text(text)

    # --- processes

    def popen(self, argv: list[str], log: str, **kwargs) -> subprocess.Popen:
        with open(self.data / log, "wb") as out:
            proc = subprocess.Popen(argv, cwd=self.data, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def sipp(self, scenario: str, name: str, *args: str, port: int = 0) -> list[str]:
        return [SIPP, "-sf", str(self.data / scenario), "-i", HOST, "-p", str(port or free_port(socket.SOCK_DGRAM)),
                "-mp", str(random.randrange(40000, 44000, 10)), "-nostdin", "-trace_err",
                "-error_file", str(self.data / f"{name}_errors.log"), "-trace_logs",
                "-log_file", str(self.data / f"{name}.log"), "-trace_stat", "-stf", str(self.data / f"{name}.csv"),
                "-fd", "5", *args]

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                stop(proc, timeout=30)

    # --- setup

    def setup(self, stack: contextlib.ExitStack) -> None:
        t0 = time.monotonic()
        allo(self.env, "init", "--demo", timeout=600)
        os.environ.update(self.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "allo.project.settings"
        import django

        django.setup()
        passwords = self.create_agents()
        # SIPp expands a keyword in an injected field, not a field in a keyword's parameters
        (self.data / "agents.csv").write_text("SEQUENTIAL\n" + "".join(
            f"{a};[authentication username={a} password={p}]\n" for a, p in passwords.items()))
        (self.data / "callers.csv").write_text(
            "SEQUENTIAL\n" + "".join(f"{CALLER_PREFIX}{n:07d}\n" for n in range(1, 1_000_000, 7)))
        print(f"demo and {len(passwords)} agents with a SIP password: {time.monotonic() - t0:.0f} s", flush=True)

        self.server = stack.enter_context(allo_serve(self.env, "--no-callgen"))
        self.voice = self.popen([*ALLO, "voice", "up", "--allo", self.server.base, "--start-timeout", "90"],
                                "voice-up.log")
        deadline = time.monotonic() + 300
        while "voice edge up" not in (self.data / "voice-up.log").read_text(errors="replace"):
            if self.voice.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("allo voice up did not start: "
                                   + (self.data / "voice-up.log").read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        run = self.data / "voice" / "run"
        self.edge_pids = {name: int((run / f"{name}.pid").read_text()) for name in ("kamailio", "rtpengine", "adapter")}
        print(f"allo serve and the voice edge up: {time.monotonic() - t0:.0f} s", flush=True)

        self.phone_port = free_port(socket.SOCK_DGRAM)
        self.phones = self.popen(self.sipp("phones.xml", "phones", "-d", str(int(self.args.talk * 1000)),
                                           port=self.phone_port), "phones.out")
        register = self.popen([*self.sipp("register.xml", "register"), f"{HOST}:{self.sip_port}",
                               "-inf", str(self.data / "agents.csv"), "-key", "phone_port", str(self.phone_port),
                               "-m", str(len(self.agents)), "-r", "20", "-timeout", "60s", "-timeout_error"],
                              "register.out")
        if register.wait(timeout=90) != 0:
            raise RuntimeError("the phones did not all register: "
                               + (self.data / "register.out").read_text(errors="replace")[-3000:])
        from allo.voice.models import SipAccount

        deadline = time.monotonic() + 60
        while SipAccount.objects.filter(user__username__in=self.agents, registered=True).count() < len(self.agents):
            if time.monotonic() > deadline:
                raise RuntimeError("Allô does not show every phone registered")
            time.sleep(0.5)
        print(f"{len(self.agents)} phones registered, Allô shows them connected: {time.monotonic() - t0:.0f} s",
              flush=True)

    def create_agents(self) -> dict[str, str]:
        """N1 operators like the demo's `operateur` (same centre, role group), each with a SIP password."""
        from django.contrib.auth.models import Group

        from allo.accounts.models import User
        from allo.voice import credentials

        model = User.objects.get(username="operateur")
        groups = list(model.groups.all())
        passwords = {}
        for username in self.agents:
            user = User(username=username, first_name="Agent", last_name=username, centre=model.centre,
                        email=f"{username}@allo.example")
            user.set_unusable_password()  # never signs in: this process journals its desk's actions
            user.save()
            user.groups.set(groups or [Group.objects.get(name="operator")])
            password = credentials.generate(user)
            while password.startswith("0x"):  # SIPp reads such a password as hexadecimal bytes
                password = credentials.generate(user)
            passwords[username] = password
        return passwords

    # --- the desks

    def ready(self, agent: str) -> None:
        from allo.accounts.models import User
        from allo.contact_centre import services
        from allo.contact_centre.router import config as cfg

        profile = cfg.agent_profile(User.objects.get(username=agent))
        self.ready_at[agent] = time.time()
        services.agent_action(agent, "login", profile=profile)

    def desks(self) -> None:
        """Ends each wrap-up `--wrap` s after it began; « Prêt » again after a « Pas de réponse »."""
        from django.db import connection

        from allo.contact_centre import services
        from allo.contact_centre.models import AgentStatus

        seen: dict[tuple[str, float], float] = {}
        try:
            while not self.stopping.is_set():
                now = time.monotonic()
                for agent, state, since in AgentStatus.objects.filter(
                        agent__in=self.agents, state__in=("wrap_up", "paused")).values_list("agent", "state", "since_t"):
                    key = (agent, since)  # one wrap-up or pause of the agent: it entered the state at `since`
                    first = seen.setdefault(key, now)
                    if state == "wrap_up" and now - first >= self.args.wrap:
                        if services.end_wrap_up(agent, key=f"bench-wrapup:{agent}:{since}"):
                            self.wrapups += 1
                    elif state == "paused" and key not in self.resumed:
                        self.resumed.add(key)
                        self.no_answers += 1
                        services.agent_action(agent, "resume", key=f"bench-resume:{agent}:{since}")
                self.stopping.wait(0.05)
        finally:
            connection.close()

    def sample_load(self) -> None:
        while not self.stopping.wait(5):
            self.loads.append(os.getloadavg()[0])

    # --- phases

    def phase_queued(self) -> dict:
        """Callers wait while nobody is ready (the announcement), then agents say « Prêt » one by one."""
        from allo.contact_centre.models import Contact

        n = self.args.queued
        callers = self.popen([*self.sipp("caller.xml", "queued"), f"{HOST}:{self.sip_port}",
                              "-inf", str(self.data / "callers.csv"), "-m", str(n), "-r", "5",
                              "-recv_timeout", "120000"], "queued.out")
        deadline = time.monotonic() + 60
        while Contact.objects.filter(state="queued", channel="call").count() < n:
            if time.monotonic() > deadline or callers.poll() is not None:
                raise RuntimeError("the callers are not all queued in Allô: "
                                   + (self.data / "queued.out").read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        time.sleep(2)  # the announcement plays
        for agent in self.agents[:n]:
            self.ready(agent)
            time.sleep(1.0)
        callers.wait(timeout=self.args.talk + 60)
        return {"callers": sipp_stats(self.data / "queued.csv"), "times": caller_times(self.data / "queued.log"),
                "rc": callers.returncode}

    def ready_to_invite(self) -> list[float]:
        """Phase 1's agents: from the « Prêt » journaled to the first INVITE at its phone (the phones'
        log, read once their SIPp has exited: it buffers it)."""
        invites = {}
        for fields in log_lines(self.data / "phones.log"):
            if fields[0] == "invite" and fields[1] in self.ready_at and fields[1] not in invites:
                invites[fields[1]] = float(fields[-1])
        return [invites[a] - self.ready_at[a] for a in self.agents[:self.args.queued] if a in invites]

    def phase_load(self) -> dict:
        for agent in self.agents[self.args.queued:]:
            self.ready(agent)
        time.sleep(2)
        calls = int(self.args.rate * self.args.duration)
        cpu0 = cpu_seconds(self.cpu_pids())
        load0 = os.getloadavg()
        started = time.time()
        callers = self.popen([*self.sipp("caller.xml", "load"), f"{HOST}:{self.sip_port}",
                              "-inf", str(self.data / "callers.csv"), "-m", str(calls), "-r", str(self.args.rate),
                              "-l", "2000", "-recv_timeout", "60000"], "load.out")
        with contextlib.suppress(subprocess.TimeoutExpired):
            callers.wait(timeout=self.args.duration + self.args.talk + 120)
        if callers.poll() is None:
            print("the caller SIPp did not finish in time: stopped", flush=True)
        cpu1 = cpu_seconds(self.cpu_pids())  # (not the caller SIPp's: it has exited)
        elapsed = time.time() - started
        stop(callers, timeout=10)
        return {"callers": sipp_stats(self.data / "load.csv"), "times": caller_times(self.data / "load.log"),
                "rc": callers.returncode, "started": started, "elapsed": elapsed, "load0": load0,
                "cpu": {name: cpu1.get(name, 0.0) - cpu0.get(name, 0.0) for name in cpu1}}

    def cpu_pids(self) -> dict[str, int]:
        return {"allo serve (web + router)": self.server.proc.pid, **self.edge_pids, "sipp phones": self.phones.pid}

    def router_offers(self, since: float) -> tuple[list[float], int, int]:
        """From the journal: for each call that arrived since `since` (wall clock), the time from its
        ContactArrived input's commit to the Assign decision that input caused (the router's own
        offer latency); and how many were assigned later (they waited for an agent), or never."""
        from allo.contact_centre.models import RouterInput
        from allo.contact_centre.router.config import t_of

        since_dt = dt.datetime.fromtimestamp(since, dt.UTC)
        direct, arrived, assigned = [], set(), set()
        for key_type, payload, created, decisions in RouterInput.objects.filter(
                created__gte=since_dt).exclude(decisions=None).values_list("type", "payload", "created", "decisions"):
            if key_type == "ContactArrived":
                arrived.add(payload["contact"])
            for d in decisions or ():
                if d.get("type") != "Assign":
                    continue
                assigned.add(d["contact"])
                if key_type == "ContactArrived" and d["contact"] == payload["contact"]:
                    direct.append(d["t"] - t_of(created))
        later = len(assigned & arrived) - len(direct)
        return direct, later, len(arrived - assigned)

    # --- report

    def report(self, queued: dict, load: dict) -> int:
        """Prints the figures; returns how many calls failed (callers' and phones' SIPp)."""
        args = self.args

        def spans(times: dict, frm: str, to: str) -> list[float]:
            return [t[to] - t[frm] for t in times.values() if frm in t and to in t]

        print()
        print(f"bench_voice {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
              f"{args.agents} agents (one SIPp UAS), talk {args.talk:g} s, wrap-up {args.wrap:g} s")
        q = queued["callers"]
        print(f"phase 1, {args.queued} callers queued while nobody is ready, then « Prêt » one agent a second:")
        print(f"  calls: {q.get('TotalCallCreated', '?')} attempted, {q.get('SuccessfulCall(C)', '?')} successful, "
              f"{q.get('FailedCall(C)', '?')} failed")
        print(f"  INVITE → 183 (the announcement): {ms(spans(queued['times'], 'INVITE', '183'))}")
        print(f"  agent ready (journaled) → INVITE at its phone: {ms(self.ready_to_invite())}")
        c = load["callers"]
        print(f"phase 2, {args.rate:g} calls/s for {args.duration:g} s, every agent ready "
              f"({load['elapsed']:.0f} s to the last call's end):")
        print(f"  calls: {c.get('TotalCallCreated', '?')} attempted, {c.get('SuccessfulCall(C)', '?')} successful, "
              f"{c.get('FailedCall(C)', '?')} failed (SIPp caller, exit {load['rc']}); "
              f"retransmissions {c.get('Retransmissions(C)', '?')}")
        p = sipp_stats(self.data / "phones.csv")
        print(f"  agents' phones (both phases): {p.get('TotalCallCreated', '?')} calls, "
              f"{p.get('SuccessfulCall(C)', '?')} successful, {p.get('FailedCall(C)', '?')} failed; "
              f"wrap-ups ended {self.wrapups}, « Pas de réponse » {self.no_answers}")
        times = load["times"]
        print(f"  INVITE → 182 (parked by Kamailio): {ms(spans(times, 'INVITE', '182'))}")
        print(f"  INVITE → 183 (announcement, calls that waited): {ms(spans(times, 'INVITE', '183'))}")
        print(f"  INVITE → 180 (the agent's phone rings): {ms(spans(times, 'INVITE', '180'))}")
        print(f"  INVITE → 200 (answered): {ms(spans(times, 'INVITE', '200'))}")
        direct, later, never = self.router_offers(load["started"])
        print(f"  router's offer latency (arrival journaled → Assign): {ms(direct)}; "
              f"{later} calls offered after a wait, {never} never offered")
        for name in ("queued", "load", "phones"):
            why = aborted(self.data / f"{name}_errors.log")
            if why:
                print(f"  SIPp {name}: calls aborted: " + ", ".join(f"{n} on {reason}" for reason, n in why.items()))
        print(f"  load average (1 min): {load['load0'][0]:.2f} before, during: mean "
              f"{sum(self.loads) / max(1, len(self.loads)):.2f}, max {max(self.loads, default=float('nan')):.2f}")
        print("  CPU seconds during phase 2: " + ", ".join(
            f"{name} {sec:.1f} s ({100 * sec / load['elapsed']:.0f} %)" for name, sec in load["cpu"].items()))
        return sum(int(stats.get("FailedCall(C)") or 0) for stats in (q, c, p))


def _interrupted(*_) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: the finally blocks stop every process


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20, help="new calls per second (phase 2)")
    parser.add_argument("--duration", type=float, default=300, help="seconds of new calls (phase 2)")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--queued", type=int, default=10, help="callers waiting in phase 1")
    parser.add_argument("--talk", type=float, default=2.0, help="seconds an agent's phone talks before its BYE")
    parser.add_argument("--wrap", type=float, default=1.0, help="seconds of wrap-up after each call")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    args.queued = min(args.queued, args.agents)
    missing = [b for b in ("kamailio", "rtpengine", "sipp") if not shutil.which(b)]
    if missing:
        print(f"not installed: {', '.join(missing)}", file=sys.stderr)
        return 2
    bench = Bench(args)
    previous = signal.signal(signal.SIGTERM, _interrupted)
    threads = [threading.Thread(target=bench.desks, daemon=True), threading.Thread(target=bench.sample_load, daemon=True)]
    done = False
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(bench.stop_all)
            bench.setup(stack)
            threads[1].start()
            queued = bench.phase_queued()
            threads[0].start()  # the desks end wrap-ups from phase 2 on: in phase 1 an agent takes one call
            load = bench.phase_load()
            bench.stopping.set()
            for thread in threads:
                if thread.is_alive():
                    thread.join(timeout=10)
            time.sleep(6)  # the phones' SIPp dumps its statistics every 5 s
            stop(bench.phones, timeout=10)  # and writes the rest of its log
            done = bench.report(queued, load) == 0  # a run with failed calls keeps its SIPp files to read
    finally:
        bench.stopping.set()
        signal.signal(signal.SIGTERM, previous)
        if done and not args.keep:
            shutil.rmtree(bench.data, ignore_errors=True)
        else:  # a failed run's logs and SIPp files, to read
            print(f"data folder kept: {bench.data}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
