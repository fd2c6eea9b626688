"""What a real `allo serve` writes in its logs (issue 14, finding 1): an API token never appears in
them, whether the connector's WebSocket was accepted or refused, whatever logger wrote the line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from loopback import free_port
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

ALLO = [sys.executable, "-m", "allo"]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A real server at log level INFO, its stderr in a file; and a telephony token."""
    data = tmp_path_factory.mktemp("serve-logs")
    env = os.environ | {"ALLO_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'allo.sqlite3'}",
                        "ALLO_HTTPS": "0", "ALLO_LOG_LEVEL": "INFO", "ALLO_LOG_FORMAT": "json"}
    env.pop("REDIS_URL", None)
    env.pop("ALLO_WEB_THREADS", None)
    subprocess.run([*ALLO, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    out = subprocess.run([*ALLO, "token", "create", "--role", "telephony"], env=env, check=True,
                         capture_output=True, text=True).stdout
    token = out.split()[-1]
    port = free_port()
    log = data / "server.log"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen([*ALLO, "serve", "--port", str(port), "--no-callgen", "--no-router"], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while _status_or_none(f"http://{base}/healthz") is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("allo serve did not start: " + log.read_text()[-2000:])
        time.sleep(0.2)
    yield type("Served", (), {"base": base, "token": token, "log": log, "proc": proc})
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _status_or_none(url: str) -> int | None:
    try:
        return _status(url)
    except OSError:
        return None


def _log_after(served, action) -> str:
    before = served.log.stat().st_size
    action()
    time.sleep(0.5)  # the server writes its lines after answering
    with open(served.log, "rb") as f:
        f.seek(before)
        return f.read().decode()


def test_the_connectors_token_never_reaches_the_logs(served):
    token = served.token

    def accepted():
        with connect(f"ws://{served.base}/ws/telephony/?token={token}", open_timeout=10,
                     origin=f"http://{served.base}") as ws:
            ws.ping().wait(5)

    def refused():
        with pytest.raises(InvalidStatus):
            connect(f"ws://{served.base}/ws/telephony/?token={token}x", open_timeout=10,
                    origin=f"http://{served.base}")

    def http():  # a token pasted into a page's address (a mistake, still not to be kept)
        assert _status(f"http://{served.base}/?token={token}&access_token={token}") == 200

    lines = _log_after(served, accepted) + _log_after(served, refused) + _log_after(served, http)
    assert "WebSocket /ws/telephony/" in lines  # the lines were written...
    assert "[accepted]" in lines and "403" in lines
    assert token not in lines and token[-12:] not in lines  # ...without the token, nor part of it
    assert "token=[redacted]" in lines
    assert token not in served.log.read_text()
