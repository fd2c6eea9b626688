"""The telephony connector against a real `allo serve` on Redis (Uvicorn, the embedded router, the
channels-redis layer): what a real connector does, a server process with no Origin header that stays
idle, acknowledges, goes away and comes back (issue 11)."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from loopback import allo, allo_env, allo_serve, redis_up
from websockets.sync.client import connect

REDIS = ("127.0.0.1", 6379)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not redis_up():
        pytest.skip(f"no Redis at {REDIS[0]}:{REDIS[1]}")
    # a Redis database of its own: other servers on this Redis never share its groups
    env = allo_env(tmp_path_factory.mktemp("serve-telephony"), ALLO_CC_HOURS="always",
                   REDIS_URL=f"redis://{REDIS[0]}:{REDIS[1]}/13")
    allo(env, "init", "--demo")
    token = allo(env, "token", "create", "--role", "telephony").split()[-1]
    with allo_serve(env, "--no-callgen", ready="/api/openapi.json") as server:
        yield type("Served", (), {"base": server.host, "token": token, "log": server.log})


def _new_call(served, caller: str) -> str:
    request = urllib.request.Request(
        f"http://{served.base}/api/telephony/calls", data=json.dumps({"caller": caller, "dialed": "3939"}).encode(),
        headers={"Authorization": f"Bearer {served.token}", "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())["call_id"]


def test_a_connector_idle_on_redis_without_origin_gets_every_command_once(served):
    url = f"ws://{served.base}/ws/telephony/?token={served.token}"
    with connect(url, open_timeout=10) as ws:  # a server process: no Origin header
        time.sleep(12)  # idle longer than redis-py's 5 s socket timeout, twice over
        first = _new_call(served, "+33611000001")
        command = json.loads(ws.recv(timeout=10))
        assert (command["command"], command["call_id"], command["announcement"]) == ("play", first, "attente")
        ws.send(json.dumps({"type": "ack", "seq": command["seq"]}))
    # away: the router goes on
    second = _new_call(served, "+33611000002")
    time.sleep(1)
    with connect(url, open_timeout=10) as ws:
        missed = json.loads(ws.recv(timeout=10))
        assert (missed["command"], missed["call_id"]) == ("play", second)
        assert missed["seq"] > command["seq"]
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.5)  # nothing else: the acknowledged command is not sent again
    assert "Timeout reading" not in served.log.read_text()
