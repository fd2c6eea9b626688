"""The production layout of docs/deploy.md on loopback (issue 14): nginx (Debian's package, the
configuration `allo deploy nginx` renders) in front with TLS and the public-page cache, `allo serve
--workers 2` behind it, two `allo router` processes (active and standby), PostgreSQL and Redis.

Under load (calls through the public telephony API, portal pages from parallel threads), the active
router and one web worker are killed (-9). No call may be lost (every call posted is known once and
routed by the standby), no page may fail, and nginx's cache must serve the citizens meanwhile.

Needs nginx, openssl, Redis and PostgreSQL: it runs in `make test`'s PostgreSQL pass (the `postgres`
marker), on a database of its own copied from the test database (the demo data), dropped after.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from loopback import free_port, redis_up, wait_for

from allo.portal.models import FicheViewDaily

pytestmark = pytest.mark.postgres

ALLO = [sys.executable, "-m", "allo"]
SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
NGINX = shutil.which("nginx", path=SBIN)
OPENSSL = shutil.which("openssl")
REDIS_URL = "redis://127.0.0.1:6379/9"  # a Redis database of its own (channel groups, caches)
CACHED = {"HIT", "STALE", "UPDATING"}  # served from nginx's copy


def _skip_without_parts():
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian's package `nginx`; .ci/run installs it)")
    if OPENSSL is None:
        pytest.skip("openssl is not installed (the test makes a self-signed certificate)")
    if not redis_up():
        pytest.skip("no Redis at 127.0.0.1:6379")


# ---------------------------------------------------------------- the layout's parts


class Processes:
    """Every process the test starts, each in a session of its own, stopped by its id."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        with open(self.folder / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        # a polite stop first, nginx first (its connections to the web workers close with it)
        for proc in sorted(self.started.values(), key=lambda p: p is not self.started.get("nginx")):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for proc in self.started.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the process group: Uvicorn's workers, whatever is left
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def uvicorn_workers(pid: int) -> list[int]:
    """The web worker processes of `allo serve` (multiprocessing's children, not its resource tracker)."""
    found = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(child)
    return found


def pg_admin(database: str = "postgres"):
    """A connection to the test's PostgreSQL server, in autocommit (by default to its maintenance
    database: CREATE/DROP DATABASE)."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                           password=db["PASSWORD"] or None, dbname=database, autocommit=True)


class Client:
    """An HTTPS client of the site through nginx, trusting the test's certificate; one connection
    kept alive per thread."""

    def __init__(self, port: int, cafile: Path):
        self.port = port
        self.context = ssl.create_default_context(cafile=str(cafile))
        self.local = threading.local()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 30) -> tuple[int, dict, bytes]:
        reused = getattr(self.local, "conn", None) is not None
        try:
            return self._request(method, path, body, headers, timeout)
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            if not reused or method != "GET":
                raise
            # a kept-alive connection the server had closed, as browsers and urllib3 do: once again
            return self._request(method, path, body, headers, timeout)

    def _request(self, method, path, body, headers, timeout) -> tuple[int, dict, bytes]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=timeout)
            self.local.conn = conn
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise
        if response.getheader("connection", "").lower() == "close":
            conn.close()
            self.local.conn = None
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@pytest.fixture(scope="module")
def layout(django_db_setup, django_db_blocker, tmp_path_factory):
    """The whole layout, started once for this file's tests; every process stopped in the end."""
    _skip_without_parts()
    from django.conf import settings
    from django.db import connections
    from django.urls import reverse

    from allo.contact_centre.models import ApiToken
    from allo.contact_centre.tokens import create_token, digest
    from allo.kb.models import Fiche
    from allo.web.management.commands.deploy import render_nginx

    started = time.monotonic()
    folder = tmp_path_factory.mktemp("layout")
    data = folder / "data"
    data.mkdir()
    source = settings.DATABASES["default"]["NAME"]
    name = f"allo_layout_{uuid.uuid4().hex[:10]}"
    with django_db_blocker.unblock():
        token = create_token("telephony", label="production layout test")
        pages = [reverse("portal-fiche", args=[pk]) for pk in
                 Fiche.objects.published().order_by("pk").values_list("pk", flat=True)[:12]]
        # a database of its own, copied from the test database (demo data, the token): no other
        # session may be connected to the template while it is copied
        for conn in connections.all():
            conn.close()
            if hasattr(conn, "close_pool"):
                conn.close_pool()
        with pg_admin() as admin:
            copy_database(admin, source, name)
        ApiToken.objects.filter(digest=digest(token)).delete()
    assert len(pages) >= 6, "the demo knowledge base has published fiches"
    db = settings.DATABASES["default"]
    database_url = (f"postgresql://{db['USER'] or ''}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}"
                    f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}")

    # TLS: a self-signed certificate for localhost, trusted by the test's client only
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    web_port, https_port = free_port(), free_port()
    env = os.environ | {
        "ALLO_DATA_DIR": str(data), "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
        "ALLO_ROUTER": "external", "ALLO_HTTPS": "1", "ALLO_CC_HOURS": "always", "ALLO_LOG_LEVEL": "INFO",
        "ALLO_ALLOWED_HOSTS": "localhost", "ALLO_SECRET_KEY": secrets.token_urlsafe(40),
        "ALLO_TRUSTED_PROXIES": "127.0.0.1,::1", "ALLO_DB_POOL_SIZE": "4", "ALLO_DEMO_ARCHIVES": ""}
    for variable in ("ALLO_WEB_THREADS", "PROMETHEUS_MULTIPROC_DIR", "ALLO_DEBUG"):
        env.pop(variable, None)

    # nginx: the production configuration, in a main file of the test's (paths in the temp folder)
    site = render_nginx(server_name="localhost", upstream=f"127.0.0.1:{web_port}", static_root=str(data / "static"),
                        cache_dir=str(folder / "nginx-cache"), ssl_certificate=str(cert), ssl_certificate_key=str(key),
                        https_port=https_port, http_port=0, access_log=str(folder / "access.log"),
                        views_log=str(folder / "views.log"))
    (folder / "allo.conf").write_text(site)
    temp = folder / "nginx-temp"
    temp.mkdir()
    mime_types = Path("/etc/nginx/mime.types")
    # run as root (CI), nginx's workers would be `nobody`, shut out of the test's private temp folder
    (folder / "nginx.conf").write_text(f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes 2;
pid {folder / 'nginx.pid'};
error_log {folder / 'nginx-error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    {f'include {mime_types};' if mime_types.exists() else ''}
    default_type application/octet-stream;
    client_body_temp_path {temp / 'body'};
    proxy_temp_path {temp / 'proxy'};
    fastcgi_temp_path {temp / 'fastcgi'};
    uwsgi_temp_path {temp / 'uwsgi'};
    scgi_temp_path {temp / 'scgi'};
    include {folder / 'allo.conf'};
}}
""")
    procs = Processes(folder)
    try:
        procs.start("router-a", [*ALLO, "router"], env)
        procs.start("router-b", [*ALLO, "router"], env)
        serve = procs.start("serve", [*ALLO, "serve", "--port", str(web_port), "--workers", "2", "--no-callgen"], env)
        checked = subprocess.run([NGINX, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        procs.start("nginx", [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"], env)
        client = Client(https_port, cert)

        def serving():
            if serve.poll() is not None:
                raise AssertionError("allo serve stopped: " + procs.log("serve")[-3000:])
            try:
                status, _, body = client.request("GET", "/healthz", timeout=10)
            except OSError:
                return False
            return status == 200 and json.loads(body)["status"] == "ok"

        # /healthz is ok once the web answers through nginx and a router keeps up
        wait_for(serving, 150, "the site through nginx with a router running", interval=0.5)
        wait_for(lambda: len(uvicorn_workers(serve.pid)) == 2, 30, "two web workers")
        active = wait_for(lambda: _active_router(procs), 30, "one active router and one standby")
        print(f"\nthe layout started in {time.monotonic() - started:.0f} s")
        yield type("Layout", (), {"client": client, "token": token, "pages": pages, "procs": procs,
                                  "serve": serve, "active": active, "folder": folder, "data": data,
                                  "started": started, "env": env, "database": name})
    finally:
        procs.stop_all()
        with pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_database(admin, source: str, name: str) -> None:
    """`name`, a copy of `source`: PostgreSQL copies a template at once, but only while no other
    session is connected to it; if one stays (a thread of an earlier test holding a connection),
    pg_dump and pg_restore make the copy instead (slower, same result)."""
    import psycopg

    deadline = time.monotonic() + 10
    while True:
        try:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
            return
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
    dump, restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if dump is None or restore is None:
        pytest.fail(f"the database {source} is in use and pg_dump/pg_restore are not installed to copy it")
    admin.execute(f'CREATE DATABASE "{name}"')
    info = admin.info
    args = ["-h", info.host, "-p", str(info.port), "-U", info.user]
    env = os.environ | ({"PGPASSWORD": info.password} if info.password else {})
    dumped = subprocess.Popen([dump, *args, "-Fc", source], stdout=subprocess.PIPE, env=env)
    restored = subprocess.run([restore, *args, "--no-owner", "-d", name], stdin=dumped.stdout,
                              capture_output=True, env=env)
    dumped.stdout.close()
    assert dumped.wait() == 0 and restored.returncode == 0, restored.stderr[-2000:]


def _active_router(procs: Processes) -> str | None:
    """The router holding the lock (it loaded the journal), once the other says it stands by."""
    loaded = [n for n in ("router-a", "router-b") if '"router loaded"' in procs.log(n)]
    waiting = [n for n in ("router-a", "router-b") if "router standby" in procs.log(n)]
    if len(loaded) == 1 and waiting and waiting != loaded:
        return loaded[0]
    return None


# ---------------------------------------------------------------- the tests


def test_nginx_serves_static_files_caches_public_pages_only_and_renews_their_nonce(layout):
    client = layout.client
    page = layout.pages[0]
    first = client.request("GET", page)
    second = wait_for(lambda: (r := client.request("GET", page)) and r[1].get("x-cache-status") == "HIT" and r,
                      15, "the page from nginx's cache")
    for status, headers, body in (first, second):
        assert status == 200
        # a fresh nonce per response, the same in the header (script-src and style-src) and the page
        nonces = set(re.findall(r"'nonce-([^']+)'", headers["content-security-policy"]))
        assert len(nonces) == 1 and set(re.findall(rb'nonce="([^"]+)"', body)) == {nonces.pop().encode()}
        # past nginx, a page with a nonce is private; HSTS from Django, which knows it is HTTPS
        assert headers["cache-control"] == "private, max-age=0"
        assert headers["strict-transport-security"].startswith("max-age=")
    assert first[1]["content-security-policy"] != second[1]["content-security-policy"]

    # staff (a session cookie) and the API: never from nor into the cache
    assert client.request("GET", page, headers={"Cookie": "sessionid=abc"})[1]["x-cache-status"] == "BYPASS"
    status, headers, _ = client.request("GET", "/api/openapi.json")
    assert status == 200 and "x-cache-status" not in headers
    # Django sees the client nginx reports (X-Forwarded-For appended): /metrics is for loopback, and
    # a client nginx says is 192.0.2.9 (a loopback client counts as a proxy hop) is refused
    assert client.request("GET", "/metrics")[0] == 200
    assert client.request("GET", "/metrics", headers={"X-Forwarded-For": "192.0.2.9"})[0] == 403
    # static files from collectstatic's folder, by nginx itself; hashed names for a year
    manifest = json.loads((layout.data / "static" / "staticfiles.json").read_text())["paths"]
    hashed = next(v for k, v in manifest.items() if k.endswith(".css"))
    status, headers, body = client.request("GET", "/static/" + hashed)
    assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
    assert body == (layout.data / "static" / hashed).read_bytes()


def test_a_telephony_connector_gets_its_commands_over_a_websocket_through_nginx(layout):
    from websockets.sync.client import connect

    port = layout.client.port
    with connect(f"wss://localhost:{port}/ws/telephony/?token={layout.token}", ssl=layout.client.context,
                 open_timeout=30) as ws:
        body = json.dumps({"caller": "+33611009999", "dialed": "3939", "event_id": "layout-ws"}).encode()
        status, _, answer = layout.client.request(
            "POST", "/api/telephony/calls", body=body,
            headers={"Authorization": f"Bearer {layout.token}", "Content-Type": "application/json"})
        assert status == 201, answer
        call_id = json.loads(answer)["call_id"]
        deadline = time.monotonic() + 30
        while True:  # the router's first command for this call (others may come for earlier calls)
            command = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            ws.send(json.dumps({"type": "ack", "seq": command["seq"]}))
            if command.get("call_id") == call_id:
                break
        assert command["command"] == "play"


def logged_views(layout) -> int:
    """Lines of nginx's views log: one per page view it served (allo portal_nginx_views counts them)."""
    path = layout.folder / "views.log"
    return path.read_text().count('{"view":') if path.exists() else 0


def test_killing_the_active_router_and_a_web_worker_loses_no_call_and_fails_no_page(layout):
    client, procs, serve = layout.client, layout.procs, layout.serve
    views_before = logged_views(layout)
    for page in layout.pages:  # every page in nginx's cache before the load
        assert client.request("GET", page)[0] == 200
    stop = threading.Event()
    pages_seen: list[tuple[float, str, int, str]] = []  # (time, page, status, X-Cache-Status)
    page_errors: list[str] = []
    calls: dict[str, str] = {}  # event_id -> call_id
    call_retries = [0]
    lock = threading.Lock()

    def read_pages(offset: int):
        i = offset
        while not stop.is_set():
            page = layout.pages[i % len(layout.pages)]
            i += 1
            try:
                status, headers, _ = client.request("GET", page, timeout=30)
            except OSError as exc:
                with lock:
                    page_errors.append(f"{page}: {exc!r}")
                continue
            with lock:
                pages_seen.append((time.monotonic(), page, status, headers.get("x-cache-status", "")))
            time.sleep(0.02)  # citizens, not a benchmark: the calls' thread gets its share of the GIL

    def post_calls():
        n = 0
        while not stop.is_set():
            n += 1
            event_id = f"layout-{n}"
            body = json.dumps({"caller": f"+3361100{n:04d}", "dialed": "3939", "event_id": event_id}).encode()
            deadline = time.monotonic() + 60
            while True:  # what a connector does: the same event again until it is acknowledged
                try:
                    status, _, answer = client.request(
                        "POST", "/api/telephony/calls", body=body, timeout=30,
                        headers={"Authorization": f"Bearer {layout.token}", "Content-Type": "application/json"})
                except OSError:
                    status, answer = 0, b""
                if status in (200, 201):
                    calls[event_id] = json.loads(answer)["call_id"]
                    break
                assert status in (0, 502, 503, 504), (status, answer[:300])
                assert time.monotonic() < deadline, f"call {event_id} never accepted"
                call_retries[0] += 1
                time.sleep(0.2)
            time.sleep(0.2)

    threads = [threading.Thread(target=read_pages, args=(k,), daemon=True) for k in range(4)]
    threads.append(threading.Thread(target=post_calls, daemon=True))
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(calls) >= 5 and len(pages_seen) >= 50, 30, "load flowing")
        # kill -9 the active router and one web worker, under load
        active = procs.started[layout.active]
        worker = uvicorn_workers(serve.pid)[0]
        killed_at = time.monotonic()
        os.kill(active.pid, signal.SIGKILL)
        os.kill(worker, signal.SIGKILL)
        active.wait(timeout=10)
        calls_at_kill = len(calls)
        standby = "router-b" if layout.active == "router-a" else "router-a"
        wait_for(lambda: '"router loaded"' in procs.log(standby), 30, "the standby taking over")
        took_over = time.monotonic() - killed_at
        # Uvicorn starts a new worker in place of the one killed; restarted once it has started Django
        wait_for(lambda: len(uvicorn_workers(serve.pid)) == 2 and worker not in uvicorn_workers(serve.pid),
                 60, "a new web worker")
        wait_for(lambda: procs.log("serve").count("Application startup complete") >= 3, 60,
                 "the new worker's application started")
        restarted = time.monotonic() - killed_at
        # past the pages' lifetime (10 s): some are served stale while nginx renders them again
        wait_for(lambda: time.monotonic() - killed_at > 12 and len(calls) >= calls_at_kill + 5, 40,
                 "load after the restart")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
    assert not any(t.is_alive() for t in threads)

    # no page failed: every request answered 200, from nginx's cache or from Allô
    assert not page_errors, page_errors[:5]
    assert all(status == 200 for _, _, status, _ in pages_seen), [p for p in pages_seen if p[2] != 200][:5]
    during = [cache for t, _, _, cache in pages_seen if killed_at <= t <= killed_at + restarted]
    after_expiry = {cache for t, _, _, cache in pages_seen if t > killed_at}
    assert during and set(during) <= CACHED, {c: during.count(c) for c in set(during)}
    assert after_expiry & {"STALE", "UPDATING"}, after_expiry  # an expired page served while renewed

    # no call lost: each event is one call, and the standby routed every one (out of "new")
    assert len(set(calls.values())) == len(calls) >= 10

    def routed():
        states = {}
        for call_id in calls.values():
            status, _, body = client.request("GET", f"/api/telephony/calls/{call_id}",
                                             headers={"Authorization": f"Bearer {layout.token}"})
            assert status == 200, body[:300]
            states[call_id] = json.loads(body)["state"]
        return all(state != "new" for state in states.values()) and states

    states = wait_for(routed, 30, "every call routed", interval=1)
    status, _, body = client.request("GET", "/healthz")
    assert status == 200 and json.loads(body)["router"]["status"] == "ok", body

    # every fiche page served, from nginx's cache or not, is one line of the views log, and Allô
    # counted none of them itself; `allo portal_nginx_views` puts them all in the statistics
    served = len(layout.pages) + len(pages_seen)
    wait_for(lambda: logged_views(layout) - views_before == served, 10, f"{served} views logged")
    table = FicheViewDaily._meta.db_table
    with pg_admin(layout.database) as db:
        assert db.execute(f"SELECT COALESCE(SUM(views), 0) FROM {table}").fetchone()[0] == 0
        subprocess.run([*ALLO, "portal_nginx_views", str(layout.folder / "views.log")], env=layout.env,
                       check=True, capture_output=True)
        assert db.execute(f"SELECT SUM(views) FROM {table}").fetchone()[0] == logged_views(layout)
    print(f"\n{time.monotonic() - layout.started:.0f} s since the layout's start; "
          f"{len(pages_seen)} pages, {len(calls)} calls ({call_retries[0]} retries of a refused or failed POST), "
          f"states {sorted(set(states.values()))}; standby routing {took_over:.1f} s and a new worker "
          f"{restarted:.1f} s after the kill; during it, {len(during)} pages: "
          f"{ {c: during.count(c) for c in sorted(set(during))} }")
