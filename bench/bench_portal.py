"""Benchmark the citizen portal's fiche and search pages under load (not a test; prints figures).

    .venv/bin/python bench/bench_portal.py [--clients 50] [--duration 20] [--quick]

Loads the demo into a temporary SQLite database, starts `allo serve` on a spare loopback port,
warms it up, then drives the fiche pages (rotating over published fiches) and the search page
(rotating over everyday queries) with N concurrent clients: `wrk` when installed (Debian package),
otherwise a thread pool of urllib clients. Prints p50, p95, p99 latency and throughput.

Repeated pages come from the shared page cache (allo.web.pagecache), as they do for citizens; the
"new search" line asks every query once, so each page is rendered by Django: the cost of a miss;
"peak mix" asks one query in ten for the first time, the others being the everyday ones.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLO = ROOT / ".venv" / "bin" / "allo"
QUERIES = ["carte grise perdue", "allocation logement", "perdu mon passeport", "arret maladie indemnites",
           "declarer mes revenus", "chomage demission", "divorce pension alimentaire", "permis de conduire points",
           "prime d'activite", "taxe fonciere", "inscription liste electorale", "retraite anticipee"]


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer /healthz")


def fiche_paths(env: dict) -> list[str]:
    code = ("from allo.kb.models import Fiche; import json; "
            "print(json.dumps(list(Fiche.objects.published().order_by('-popularity','id').values_list('id', flat=True)[:40])))")
    out = subprocess.run([str(ALLO), "shell", "-c", code], env=env, capture_output=True, text=True, check=True)
    return [f"/fiches/{i}" for i in json.loads(out.stdout.strip().splitlines()[-1])]


WRK_SCRIPT = textwrap.dedent("""
    local paths = {%s}
    local unique_every = %d  -- every Nth request asks a query never asked before (0: never)
    local i = 0
    local threads = 0
    setup = function(thread)
      threads = threads + 1
      thread:set("tid", threads)
    end
    init = function(args)
      i = tid * 10000000
    end
    request = function()
      i = i + 1
      local path = paths[(i %% #paths) + 1]
      if unique_every > 0 and i %% unique_every == 0 then path = path .. "+" .. i end  -- the cache cannot help
      return wrk.format("GET", path)
    end
    done = function(summary, latency, requests)
      io.write(string.format("JSON {\\"p50\\": %%d, \\"p95\\": %%d, \\"p99\\": %%d, \\"max\\": %%d, \\"requests\\": %%d, \\"errors\\": %%d, \\"seconds\\": %%f}\\n",
        latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, summary.requests,
        summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        summary.duration / 1e6))
    end
""")


def run_wrk(base: str, paths: list[str], clients: int, duration: int, unique_every: int = 0) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT % (", ".join(json.dumps(p) for p in paths), unique_every))
        script = fh.name
    try:
        out = subprocess.run(["wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{duration}s", "--timeout", "10s",
                              "-s", script, base], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    data = json.loads(next(line for line in out.splitlines() if line.startswith("JSON "))[5:])
    return {"p50_ms": data["p50"] / 1000, "p95_ms": data["p95"] / 1000, "p99_ms": data["p99"] / 1000,
            "max_ms": data["max"] / 1000, "requests": data["requests"], "errors": data["errors"],
            "rps": data["requests"] / data["seconds"], "tool": "wrk"}


def run_threads(base: str, paths: list[str], clients: int, duration: int, unique_every: int = 0) -> dict:
    stop = time.time() + duration
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(k: int) -> None:
        nonlocal errors
        i = k
        while time.time() < stop:
            start = time.perf_counter()
            unique = unique_every and (i // clients) % unique_every == 0
            path = paths[i % len(paths)] + (f"+{k}x{i}" if unique else "")
            try:
                with urllib.request.urlopen(base + path, timeout=10) as r:
                    r.read()
                    ok = r.status == 200
            except OSError:
                ok = False
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                errors += not ok
            i += clients

    began = time.time()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    q = statistics.quantiles(latencies, n=100)
    return {"p50_ms": q[49], "p95_ms": q[94], "p99_ms": q[98], "max_ms": max(latencies), "requests": len(latencies),
            "errors": errors, "rps": len(latencies) / (time.time() - began), "tool": "urllib threads"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=20, help="seconds per page kind")
    parser.add_argument("--quick", action="store_true", help="5 s per page kind")
    parser.add_argument("--no-wrk", action="store_true", help="use the Python client even if wrk is installed")
    parser.add_argument("--workers", type=int, default=1, help="web processes (more than 1 uses Redis)")
    args = parser.parse_args()
    duration = 5 if args.quick else args.duration
    data_dir = Path(tempfile.mkdtemp(prefix="allo-bench-"))
    env = os.environ | {"ALLO_DATA_DIR": str(data_dir), "ALLO_HTTPS": "0", "ALLO_LOG_LEVEL": "WARNING",
                        "DATABASE_URL": f"sqlite:///{data_dir / 'bench.sqlite3'}"}
    if args.workers > 1:
        env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6")
    port = spare_port()
    base = f"http://127.0.0.1:{port}"
    server = None
    try:
        subprocess.run([str(ALLO), "init", "--demo"], env=env, check=True, capture_output=True)
        paths = fiche_paths(env)
        server = subprocess.Popen([str(ALLO), "serve", "--port", str(port), "--workers", str(args.workers)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(base)
        searches = ["/recherche?" + urllib.parse.urlencode({"q": q}) for q in QUERIES]
        for path in paths + searches:  # warm-up: templates, search index, connections
            urllib.request.urlopen(base + path, timeout=30).read()
        use_wrk = shutil.which("wrk") and not args.no_wrk
        runner = run_wrk if use_wrk else run_threads
        print(f"Portal under load: {args.clients} concurrent clients, {duration} s per page kind, "
              f"`allo serve --workers {args.workers}` (Uvicorn) on loopback, SQLite, demo KB ({len(paths)} fiches "
              f"rotated, {len(searches)} queries rotated); client: {'wrk' if use_wrk else 'urllib threads'}")
        results = {}
        # fiche and search pages as citizens ask them (the shared page cache serves repeats), then
        # searches never asked before (every one rendered by Django) and the server's Django floor
        # and a topical peak: one search in ten never asked before, the others the everyday ones
        kinds = [("fiche page", paths, 0), ("search page", searches, 0), ("peak mix", searches, 10),
                 ("new search", searches, 1), ("/healthz", ["/healthz"], 0)]
        for clients in (1, args.clients):
            print(f" {clients} client{'s' if clients > 1 else ''}:")
            for label, page_paths, unique_every in kinds:
                r = runner(base, page_paths, clients, duration if clients > 1 else max(3, duration // 2), unique_every)
                if clients == args.clients:
                    results[label] = r
                print(f"  {label:<12} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms   p99 {r['p99_ms']:7.1f} ms"
                      f"   max {r['max_ms']:7.1f} ms   {r['rps']:7.1f} req/s   {r['requests']} requests, "
                      f"{r['errors']} errors")
        target = 100.0
        print("  (peak mix: 1 search in 10 never asked before; new search: each query asked once, so never\n"
              "   from the page cache; /healthz: the smallest Django view with a database query, through\n"
              "   the same middleware: the floor of a cache miss)")
        for label, r in results.items():
            if label not in {"fiche page", "search page"}:
                continue
            verdict = "meets" if r["p95_ms"] <= target else "misses"
            print(f"  {label}: p95 {r['p95_ms']:.1f} ms {verdict} the {target:.0f} ms target")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
