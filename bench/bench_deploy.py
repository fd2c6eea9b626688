"""The portal's latency through nginx (the production layout, docs/deploy.md) against `allo serve`
reached directly (not a test; prints figures).

    .venv/bin/python bench/bench_deploy.py [--clients 50] [--duration 15] [--workers 2] [--quick]

Loads the demo into a temporary SQLite database, starts `allo serve --workers N` (Redis for N > 1)
and nginx in front of it with the configuration `allo deploy nginx` renders (TLS with a self-signed
certificate, the public-page cache), warms both, then drives the fiche pages and the search page
with N concurrent clients, each on a kept-alive connection (as browsers do): first straight to
`allo serve` (plain HTTP, Allô's own page cache), then through nginx (HTTPS, nginx's cache).
Prints p50, p95 and p99 per page kind and the ratio of the p95s. Needs nginx and openssl.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench_portal import ALLO, QUERIES, fiche_paths, spare_port, wait_ready

NGINX = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def drive(connect, paths: list[str], clients: int, duration: float) -> dict:
    """`clients` threads, each on its own kept-alive connection, asking `paths` in turn."""
    stop = time.monotonic() + duration
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(k: int) -> None:
        conn = connect()
        i = k
        mine: list[float] = []
        failed = 0
        while time.monotonic() < stop:
            path = paths[i % len(paths)]
            i += clients
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                failed += response.status != 200
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = connect()
                continue
            mine.append((time.perf_counter() - start) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    q = statistics.quantiles(latencies, n=100)
    return {"p50": q[49], "p95": q[94], "p99": q[98], "requests": len(latencies), "errors": errors[0],
            "rps": len(latencies) / (time.monotonic() - began)}


def start_nginx(folder: Path, web_port: int, static_root: Path, env: dict) -> tuple[subprocess.Popen, int, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    port = spare_port()
    site = subprocess.run(
        [str(ALLO), "deploy", "nginx", "--server-name", "localhost", "--upstream", f"127.0.0.1:{web_port}",
         "--static-root", str(static_root), "--cache-dir", str(folder / "cache"), "--ssl-certificate", str(cert),
         "--ssl-certificate-key", str(key), "--https-port", str(port), "--http-port", "0",
         "--access-log", "off", "--views-log", str(folder / "views.log")],
        env=env, check=True, capture_output=True, text=True).stdout
    (folder / "allo.conf").write_text(site)
    temp = folder / "temp"
    temp.mkdir()
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    (folder / "nginx.conf").write_text(f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes auto;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 4096; }}
http {{
    {mime}
    client_body_temp_path {temp / 'body'};
    proxy_temp_path {temp / 'proxy'};
    fastcgi_temp_path {temp / 'fastcgi'};
    uwsgi_temp_path {temp / 'uwsgi'};
    scgi_temp_path {temp / 'scgi'};
    include {folder / 'allo.conf'};
}}
""")
    proc = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, port, cert


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15, help="seconds per page kind and path")
    parser.add_argument("--quick", action="store_true", help="5 s per page kind and path")
    parser.add_argument("--workers", type=int, default=2, help="web processes (more than 1 uses Redis)")
    args = parser.parse_args()
    if NGINX is None or shutil.which("openssl") is None:
        print("bench_deploy: nginx and openssl are needed (Debian packages nginx, openssl); skipped")
        return 0
    duration = 5 if args.quick else args.duration
    folder = Path(tempfile.mkdtemp(prefix="allo-bench-deploy-"))
    data = folder / "data"
    env = os.environ | {"ALLO_DATA_DIR": str(data), "ALLO_HTTPS": "1", "ALLO_LOG_LEVEL": "WARNING",
                        "DATABASE_URL": f"sqlite:///{data / 'bench.sqlite3'}", "ALLO_DEMO_ARCHIVES": "",
                        "ALLO_ALLOWED_HOSTS": "localhost,127.0.0.1"}
    if args.workers > 1:
        env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6")
    web_port = spare_port()
    server = nginx = None
    try:
        subprocess.run([str(ALLO), "init", "--demo"], env=env, check=True, capture_output=True)
        paths = fiche_paths(env)
        searches = ["/recherche?" + urllib.parse.urlencode({"q": q}) for q in QUERIES]
        server = subprocess.Popen([str(ALLO), "serve", "--port", str(web_port), "--workers", str(args.workers),
                                   "--no-callgen"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        wait_ready(f"http://127.0.0.1:{web_port}", timeout=180)
        nginx, https_port, cert = start_nginx(folder, web_port, data / "static", env)
        context = ssl.create_default_context(cafile=str(cert))

        def direct():
            return http.client.HTTPConnection("127.0.0.1", web_port, timeout=30)

        def through_nginx():
            return http.client.HTTPSConnection("localhost", https_port, context=context, timeout=30)

        for connect in (direct, through_nginx):  # warm-up: templates, search index, both caches
            deadline = time.monotonic() + 60
            for path in paths + searches:
                while True:
                    try:
                        conn = connect()
                        conn.request("GET", path)
                        conn.getresponse().read()
                        conn.close()
                        break
                    except OSError:  # nginx starting
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.3)
        print(f"Portal through nginx and straight to `allo serve --workers {args.workers}` (SQLite, demo KB, "
              f"{len(paths)} fiches and {len(searches)} searches rotated), {args.clients} concurrent clients on "
              f"kept-alive connections, {duration} s per kind and path; Python client threads on the same machine")
        for label, kind in (("fiche page", paths), ("search page", searches)):
            results = {}
            for name, connect in (("direct", direct), ("nginx", through_nginx)):
                r = drive(connect, kind, args.clients, duration)
                results[name] = r
                print(f"  {label:<11} {name:<6} p50 {r['p50']:7.1f} ms   p95 {r['p95']:7.1f} ms   "
                      f"p99 {r['p99']:7.1f} ms   {r['rps']:7.1f} req/s   {r['requests']} requests, "
                      f"{r['errors']} errors")
            print(f"  {label:<11} p95 through nginx / direct: {results['nginx']['p95'] / results['direct']['p95']:.2f}")
    finally:
        for proc in (nginx, server):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
