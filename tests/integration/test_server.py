"""`allo serve` as it runs in production: a real Uvicorn process on a spare loopback port, its own
SQLite database loaded with the demo. What only a real server shows: the shared page cache with
static files, analytics batched by the ASGI lifespan and written when the server stops."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from loopback import free_port

ALLO = [sys.executable, "-m", "allo"]


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
        return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("serve")
    env = os.environ | {"ALLO_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'allo.sqlite3'}",
                        "ALLO_HTTPS": "0", "ALLO_LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    env.pop("ALLO_WEB_THREADS", None)  # the server's own pool of threads
    subprocess.run([*ALLO, "init", "--demo"], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([*ALLO, "serve", "--port", str(port), "--no-callgen"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _get(base + "/healthz")[0] == 200:
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("allo serve did not start: " + proc.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    server = type("Server", (), {"base": base, "proc": proc, "db": data / "allo.sqlite3"})
    yield server
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_static_files_come_from_the_cache_one_copy_per_encoding(server):
    html = _get(server.base + "/")[2].decode()
    css = next(part.split('"')[0] for part in html.split('href="')[1:] if part.split('"')[0].endswith(".css")
               and part.startswith("/static/"))
    gzip = {"Accept-Encoding": "gzip"}
    first, second, plain = _get(server.base + css, gzip), _get(server.base + css, gzip), _get(server.base + css)
    assert first[0] == second[0] == plain[0] == 200
    assert "age" not in first[1] and "age" in second[1] and "age" not in plain[1]
    assert second[1].get("content-encoding") == "gzip" and "content-encoding" not in plain[1]
    assert second[2] == first[2] and len(plain[2]) > len(first[2])


def test_views_served_from_the_cache_are_written_when_the_server_stops(server):
    fiche = "/fiches/apl"
    for _ in range(5):
        assert _get(server.base + fiche)[0] == 200
    assert "age" in _get(server.base + fiche)[1]
    server.proc.send_signal(signal.SIGTERM)  # a normal stop: the lifespan shutdown writes what is pending
    server.proc.wait(timeout=20)
    with sqlite3.connect(Path(server.db)) as db:
        views = db.execute("SELECT SUM(views) FROM portal_ficheviewdaily WHERE fiche_id = 'apl'").fetchone()[0]
    assert views == 6


def test_several_workers_need_redis(settings):
    from django.core.management import CommandError, call_command

    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command("serve", "--workers", "2", "--no-router", "--no-callgen")
    with pytest.raises(CommandError, match="au moins 1"):
        call_command("serve", "--workers", "0", "--no-router", "--no-callgen")
