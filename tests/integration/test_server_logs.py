"""What a real `allo serve` writes in its logs (issue 14, finding 1): an API token never appears in
them, whether the connector's WebSocket was accepted or refused, whatever logger wrote the line."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from loopback import allo, allo_env, allo_serve
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A real server at log level INFO, what it writes in a file; and a telephony token."""
    env = allo_env(tmp_path_factory.mktemp("serve-logs"), ALLO_LOG_LEVEL="INFO", ALLO_LOG_FORMAT="json")
    allo(env, "migrate", "--noinput")
    token = allo(env, "token", "create", "--role", "telephony").split()[-1]
    with allo_serve(env, "--no-callgen", "--no-router", ready="/api/openapi.json") as server:
        yield type("Served", (), {"base": server.host, "token": token, "log": server.log, "proc": server.proc})


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
