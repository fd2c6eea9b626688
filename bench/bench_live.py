"""Benchmark the live contact centre on PostgreSQL (not a test; prints figures).

    .venv/bin/python bench/bench_live.py [--rate 50] [--duration 60] [--agents 200] [--quick]

Creates a fresh PostgreSQL database (`allo_bench` on ALLO_BENCH_PG, default
postgresql://postgres@127.0.0.1:5432), loads the organisation, then runs the production layout:
one `allo router` process and one `allo serve --no-router` web process (Redis channel layer when
REDIS_URL or 127.0.0.1:6379 answers). Calls arrive through the HTTP API as a Poisson process;
N virtual N1 agents (in this process, writing journal inputs as desks do) answer them.

Phase 1 (load): arrival→offer latency = from the client sending POST /api/telephony/calls to the
router's Assign decision (wall clock, same host); every call must be offered exactly once.
Phase 2 (crash): same load, the router is killed with SIGKILL mid-run and restarted; every call the
API accepted must end up in the engine exactly once (live or ended), none lost or duplicated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
ALLO = str(ROOT / ".venv" / "bin" / "allo")
PG = os.environ.get("ALLO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB = "allo_bench"


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Bench:
    def __init__(self, args):
        self.args = args
        self.env = os.environ | {
            "DATABASE_URL": f"{PG}/{DB}", "ALLO_CC_HOURS": "always", "ALLO_HTTPS": "0", "ALLO_ROUTER": "external",
            "ALLO_DATA_DIR": tempfile.mkdtemp(prefix="allo-bench-"), "ALLO_LOG_LEVEL": "WARNING",
        }
        if redis_up():
            self.env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
        self.ports = [spare_port() for _ in range(args.web_workers)]
        self.port = self.ports[0]
        self.base = f"http://127.0.0.1:{self.port}"
        self.router: subprocess.Popen | None = None
        self.webs: list[subprocess.Popen] = []
        self.sent: dict[str, float] = {}  # call id -> wall time the POST started
        self.http: list[float] = []  # POST round trips (s)
        self.errors = 0
        self.lock = threading.Lock()

    def setup(self) -> None:
        fresh_database()
        subprocess.run([ALLO, "init", "--demo"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        os.environ.update(self.env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allo.project.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from allo.contact_centre.tokens import create_token

        self.token = create_token("telephony", "bench")
        self.start_router()
        for port in self.ports:  # several web workers, as in production (behind a load balancer)
            self.webs.append(subprocess.Popen([ALLO, "serve", "--no-router", "--no-callgen", "--port", str(port)],
                                              env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.ports:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                    break
                except urllib.error.HTTPError:  # it answers (503 until the router's first heartbeat)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("allo serve did not start") from None
                    time.sleep(0.2)

    def start_router(self) -> None:
        self.router = subprocess.Popen([ALLO, "router"], env=self.env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)

    def teardown(self) -> None:
        for proc in (self.router, *self.webs):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()

    def post_call(self, n: int, phase: str, conn: http.client.HTTPConnection) -> http.client.HTTPConnection:
        """One POST on a kept-alive connection (a connector keeps its connections open)."""
        body = json.dumps({"caller": f"+336{n:08d}", "dialed": "3939", "event_id": f"{phase}-{n}"})
        t0 = time.time()
        try:
            conn.request("POST", "/api/telephony/calls", body=body, headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
            resp = conn.getresponse()
            call_id = json.loads(resp.read())["call_id"]
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            conn.close()
            with self.lock:
                self.errors += 1
            return http.client.HTTPConnection(conn.host, conn.port, timeout=10)
        with self.lock:
            self.sent[call_id] = t0
            self.http.append(time.time() - t0)
        return conn

    def load(self, rate: float, duration: float, phase: str, during=None, clients: int = 16) -> int:
        """Poisson arrivals at `rate`/s for `duration` s, sent by a pool of kept-alive client connections."""
        rng = random.Random(7)
        jobs: queue.Queue = queue.Queue()

        def client(port):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while (job := jobs.get()) is not None:
                conn = self.post_call(job, phase, conn)
            conn.close()

        threads = [threading.Thread(target=client, args=(self.ports[k % len(self.ports)],)) for k in range(clients)]
        for t in threads:
            t.start()
        start = time.monotonic()
        at = start
        n = 0
        fired = False
        while at < start + duration:
            time.sleep(max(0.0, at - time.monotonic()))
            if during is not None and not fired and time.monotonic() - start >= duration / 2:
                fired = True
                threading.Thread(target=during).start()
            n += 1
            jobs.put(n)
            at += rng.expovariate(rate)
        for _ in threads:
            jobs.put(None)
        for t in threads:
            t.join()
        return n

    def wait_drained(self, timeout: float = 60) -> None:
        from allo.contact_centre.models import RouterInput

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not RouterInput.objects.filter(seq__isnull=True).exists():
                return
            time.sleep(0.1)
        raise SystemExit("the router did not drain the journal")

    def account(self, calls: set[str]) -> dict:
        """Check every accepted call against the journal and a fresh replay of it."""
        from allo.contact_centre.models import RouterInput
        from allo.contact_centre.router.service import Router

        replay = Router(push=False)
        t0 = time.perf_counter()
        replay.load()  # the journal up to replay.seq, compared with the same prefix below
        load_s = time.perf_counter() - t0
        replay.engine.check()
        upto = RouterInput.objects.filter(seq__lte=replay.seq)
        arrived = Counter()
        for payload, rejected in upto.filter(type="ContactArrived").values_list("payload", "rejected"):
            if not rejected:
                arrived[payload["contact"]] += 1
        offers = Counter()
        ended = Counter()
        for decisions in upto.exclude(decisions=None).values_list("decisions", flat=True):
            for d in decisions:
                if d["type"] == "Assign":
                    offers[d["contact"]] += 1
                elif d["type"] == "ContactEnded":
                    ended[d["contact"]] += 1
        live = {str(c) for c in replay.engine.contacts}
        lost = [c for c in calls if arrived[c] != 1 or (c not in live and ended[c] != 1)]
        dup_arrivals = [c for c, k in arrived.items() if k > 1]
        dup_offers = [c for c in calls if offers[c] > 1]
        return {"accepted": len(calls), "in_journal": sum(1 for c in calls if arrived[c] == 1),
                "offered_once": sum(1 for c in calls if offers[c] == 1), "lost": len(lost),
                "duplicated": len(dup_arrivals) + len(dup_offers), "still_live": len(live & calls),
                "ended": sum(1 for c in calls if ended[c] == 1), "replay_load_s": round(load_s, 3),
                "journal_inputs": replay.seq}

    def journal_waits(self, calls: set[str]) -> list[float]:
        """From the input's commit (its `created`) to the router applying it (its `t`)."""
        from allo.contact_centre.models import RouterInput
        from allo.contact_centre.router.config import t_of

        return [t - t_of(created) for payload, created, t in RouterInput.objects.filter(
            type="ContactArrived", seq__isnull=False).values_list("payload", "created", "t")
            if payload["contact"] in calls]

    def latencies(self, calls: set[str]) -> list[float]:
        from allo.contact_centre.models import RouterInput
        from allo.contact_centre.router.config import EPOCH_DT

        zone = ZoneInfo("Europe/Paris")
        out = []
        for decisions in RouterInput.objects.filter(type="ContactArrived").exclude(decisions=None).values_list(
                "decisions", flat=True):
            for d in decisions:
                if d["type"] == "Assign" and d["contact"] in calls:
                    wall = (EPOCH_DT + dt.timedelta(seconds=d["t"])).replace(tzinfo=zone).timestamp()
                    out.append(wall - self.sent[d["contact"]])
        return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--talk", type=float, default=2.0, help="mean talk time of virtual agents (s)")
    parser.add_argument("--crash-duration", type=float, default=30)
    parser.add_argument("--agents-process", action="store_true", help="run the virtual agents in a separate process")
    parser.add_argument("--web-workers", type=int, default=1, help="allo serve processes (clients spread over them)")
    parser.add_argument("--quick", action="store_true", help="10 calls/s for 10 s, 50 agents, 10 s crash phase")
    args = parser.parse_args(argv)
    if args.quick:
        args.rate, args.duration, args.agents, args.crash_duration = 10, 10, 50, 10
    try:
        import psycopg

        psycopg.connect(f"{PG}/postgres").close()
    except Exception as exc:  # no PostgreSQL: say so and skip
        print(f"bench_live: PostgreSQL unavailable at {PG} ({exc}); skipped")
        return 0
    bench = Bench(args)
    try:
        bench.setup()
        if args.agents_process:  # the virtual agents as a process of their own (callgen with no arrivals)
            agents = subprocess.Popen([ALLO, "callgen", "--rate", "0", "--duration", "0", "--virtual-agents",
                                       str(args.agents), "--talk", str(args.talk), "--transfer-share", "0",
                                       "--url", bench.base], env=bench.env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            bench.webs.append(agents)  # stopped with the servers whatever happens
        else:  # in this process: they write journal inputs as the desks' web workers would
            from allo.contact_centre.callgen import VirtualAgents

            agents = VirtualAgents(args.agents, args.talk, 0.0, 1.0, poll=0.05)
            agents.start()
        from allo.contact_centre.models import AgentStatus

        deadline = time.monotonic() + 30
        while AgentStatus.objects.filter(state="available").count() < args.agents:
            if time.monotonic() > deadline:
                raise SystemExit("the virtual agents did not log in")
            time.sleep(0.2)
        print(f"== load: {args.rate:g} calls/s for {args.duration:g} s, {args.agents} virtual agents, "
              f"router and {args.web_workers} web worker(s) in separate processes ({'Redis' if 'REDIS_URL' in bench.env else 'no'} channel layer)")
        t0 = time.monotonic()
        n = bench.load(args.rate, args.duration, "load")
        elapsed = time.monotonic() - t0
        bench.wait_drained()
        time.sleep(0.5)
        calls = set(bench.sent)
        lat = bench.latencies(calls)
        acc = first = bench.account(calls)
        print(f"  calls sent {n} in {elapsed:.1f} s ({n / elapsed:.1f}/s), accepted {len(calls)}, HTTP errors "
              f"{bench.errors}")
        print(f"  arrival→offer (POST sent → router's Assign): n={len(lat)} p50 {1000 * pct(lat, 50):.1f} ms, "
              f"p95 {1000 * pct(lat, 95):.1f} ms, p99 {1000 * pct(lat, 99):.1f} ms, max {1000 * max(lat):.1f} ms")
        jw = bench.journal_waits(calls)
        print(f"  of which: HTTP POST round trip p50 {1000 * pct(bench.http, 50):.1f} ms, p99 "
              f"{1000 * pct(bench.http, 99):.1f} ms; journal insert → router applies p50 {1000 * pct(jw, 50):.1f} ms, "
              f"p99 {1000 * pct(jw, 99):.1f} ms")
        print(f"  accounting: {acc}")

        print(f"== crash: {args.rate:g} calls/s for {args.crash_duration:g} s, router SIGKILLed halfway and restarted")
        bench.sent.clear()
        outage = {}

        def crash():
            bench.router.send_signal(signal.SIGKILL)
            bench.router.wait()
            outage["killed"] = time.monotonic()
            time.sleep(1.0)
            bench.start_router()
            outage["restarted"] = time.monotonic()

        n = bench.load(args.rate, args.crash_duration, "crash", during=crash)
        bench.wait_drained()
        time.sleep(0.5)
        calls = set(bench.sent)
        acc = bench.account(calls)
        lat = bench.latencies(calls)
        print(f"  calls sent {n}, accepted {len(calls)} (the API keeps accepting while the router is down), "
              f"HTTP errors {bench.errors}")
        print(f"  arrival→offer during the crash phase: p50 {1000 * pct(lat, 50):.1f} ms, p99 "
              f"{1000 * pct(lat, 99):.1f} ms, max {1000 * max(lat):.1f} ms (1 s outage + restart)")
        print(f"  accounting: {acc}")
        if args.agents_process:
            agents.terminate()
            agents.wait(timeout=10)
        else:
            agents.halt.set()
            agents.join(timeout=5)
        ok = all(a["lost"] == 0 and a["duplicated"] == 0 for a in (first, acc))
        print("== every contact accounted for" if ok else "== CONTACTS LOST OR DUPLICATED")
        return 0 if ok else 1
    finally:
        bench.teardown()


if __name__ == "__main__":
    sys.exit(main())
