"""`allo serve` as it runs in production: a real Uvicorn process on a spare loopback port, its own
SQLite database loaded with the demo. What only a real server shows: the shared page cache with
static files, analytics batched by the ASGI lifespan and written when the server stops."""

from __future__ import annotations

import signal
import sqlite3
import urllib.request
from pathlib import Path

import pytest
from loopback import allo, allo_env, allo_serve


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
        return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("serve")
    env = allo_env(data)
    allo(env, "init", "--demo")
    with allo_serve(env, "--no-callgen") as served:
        yield type("Server", (), {"base": served.base, "proc": served.proc, "db": data / "allo.sqlite3"})


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
