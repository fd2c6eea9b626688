"""The composition root (allo.bootstrap) wired end to end, in a real `allo serve` with its embedded
router and the in-memory channel layer (no Redis): the portal's contact page shows the wait of the
router running in that process; a call posted through the telephony API is routed to the operator who
is ready, and the offer reaches the desk's WebSocket through the notifier the router was given, on the
event loop the desk's consumer attached to it. (tests/integration/test_server_telephony.py does the
same wiring on Redis, where the notifier pushes through a loop of its own.)"""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
from loopback import allo, allo_env, allo_serve, post_call
from websockets.sync.client import connect

DEMO_PASSWORD = "allo-demo-2026"
# the line open at any hour of any day, so the contact page shows the wait whenever the test runs
ALWAYS_OPEN = """
import datetime as dt
from allo.org.models import Closure, OpeningPeriod, ServiceLine
platform = ServiceLine.objects.get().platform
platform.opening_periods.all().delete()
for day in range(7):
    OpeningPeriod.objects.create(centre=platform, weekday=day, opens=dt.time(0, 0), closes=dt.time(23, 59, 59))
platform.closed_on_public_holidays = False
platform.save()
Closure.objects.all().delete()
"""


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def _wait_text(base: str) -> str:
    page = requests.get(base + "/contact/", timeout=10).text
    return re.search(r"Attente estimée en ce moment :</strong>\s*([^<]+?)\s*</p>", page).group(1)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    env = allo_env(tmp_path_factory.mktemp("serve-wiring"), ALLO_CC_HOURS="always")
    allo(env, "init", "--demo")
    allo(env, "shell", "-c", ALWAYS_OPEN)
    token = allo(env, "token", "create", "--role", "telephony").split()[-1]
    with allo_serve(env, "--no-callgen") as server:  # /healthz: the embedded router's heartbeat
        yield type("Served", (), {"base": server.base, "token": token, "log": server.log})



def test_the_portal_shows_the_routers_wait_and_a_posted_call_reaches_the_ready_operators_desk(served):
    base = served.base
    assert _wait_text(base) == "estimation indisponible."  # the router runs, nobody answers yet

    op = requests.Session()
    page = op.get(base + "/connexion/", timeout=10).text
    r = op.post(base + "/connexion/", data={"username": "operateur", "password": DEMO_PASSWORD,
                                           "csrfmiddlewaretoken": _csrf(page)}, timeout=10, allow_redirects=False)
    assert r.status_code == 302, r.text[-500:]
    cookies = "; ".join(f"{k}={v}" for k, v in op.cookies.items())
    host = base.removeprefix("http://")
    with connect(f"ws://{host}/ws/desk/", open_timeout=10,
                 additional_headers={"Cookie": cookies, "Origin": base}) as ws:
        desk = op.get(base + "/operateur/", timeout=10).text
        r = op.post(base + "/poste/etat/", data={"action": "ready", "csrfmiddlewaretoken": _csrf(desk)}, timeout=10)
        assert r.status_code == 200
        # the desk hears of its own state change, pushed by the router through the process's notifier
        event = json.loads(ws.recv(timeout=15))
        assert (event["type"], event["agent"], event["state"]) == ("AgentStateChanged", "operateur", "available")

        # the line is staffed now: the figure comes from the router of this process (its expected wait
        # of a newcomer, which counts on the handling time of the one operator)
        deadline = time.monotonic() + 15
        while (text := _wait_text(base)) == "estimation indisponible.":
            assert time.monotonic() < deadline, text
            time.sleep(0.3)
        assert re.fullmatch(r"moins d'une minute\.|environ \d+ minutes?\.", text), text

        call_id = post_call(base, served.token, "+33612345670")
        offers = []
        deadline = time.monotonic() + 15
        while not offers:
            event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if event["type"] == "Assign":
                offers.append(event)
    assert (offers[0]["contact"], offers[0]["agent"]) == (call_id, "operateur")
    r = requests.get(f"{base}/api/telephony/calls/{call_id}", headers={"Authorization": f"Bearer {served.token}"},
                     timeout=10)
    assert r.json()["state"] == "connected"
