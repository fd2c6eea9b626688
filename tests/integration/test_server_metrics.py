"""Prometheus metrics of a real `allo serve --workers 2` (issue 14, operations): a scrape sums every
process (prometheus-client's multiprocess mode: two Uvicorn workers, the embedded router in the
parent), the counters move after requests and a routed call, no raw path becomes a label, and only
loopback, ALLO_METRICS_ALLOW's addresses or a supervision token may read them."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from loopback import allo, allo_env, allo_serve, redis_up

REDIS = ("127.0.0.1", 6379)
ALLOWED_NET = "198.51.100.0/24"  # TEST-NET-2: a monitoring host as the trusted proxy reports it


def _get(url: str, headers: dict | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not redis_up():
        pytest.skip(f"no Redis at {REDIS[0]}:{REDIS[1]}")
    data = tmp_path_factory.mktemp("serve-metrics")
    # `allo serve` chooses its own multiprocess folder under the data folder
    env = allo_env(data, ALLO_CC_HOURS="always", REDIS_URL=f"redis://{REDIS[0]}:{REDIS[1]}/12",
                   ALLO_METRICS_ALLOW=f"127.0.0.0/8,::1,{ALLOWED_NET}")
    allo(env, "init", "--demo")
    subprocess.run(["redis-cli", "-n", "12", "flushdb"], capture_output=True)
    tokens = {role: allo(env, "token", "create", "--role", role).split()[-1] for role in ("telephony", "supervisor")}
    with allo_serve(env, "--no-callgen", "--workers", "2") as server:
        yield type("Served", (), {"base": server.base, "tokens": tokens, "data": data, "log": server.log})


def scrape(served, headers: dict | None = None) -> dict[str, float]:
    status, content_type, text = _get(served.base + "/metrics", headers)
    assert status == 200, text
    assert content_type.startswith("text/plain")
    return parse(text)


def parse(text: str) -> dict[str, float]:
    """Each sample `name{labels} value` of the exposition text, keyed by `name{labels}`."""
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def total(samples: dict[str, float], name: str, **labels) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    out = 0.0
    for key, value in samples.items():
        metric, _, rest = key.partition("{")
        if metric != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest))
        if all(found.get(k) == v for k, v in labels.items()):
            out += value
    return out


def test_the_counters_move_after_requests_and_a_routed_call(served):
    before = scrape(served)
    # pages through Django (a fiche page is not cached for this test: a query string would be; the
    # staff sign-in page always enters Django), a 404 from an unknown path
    for _ in range(3):
        assert _get(served.base + "/connexion/")[0] == 200
    assert _get(served.base + "/fiches/F1234-no-such-fiche")[0] == 404
    assert _get(served.base + "/nulle-part/07-12-34-56-78")[0] == 404
    # a call through the telephony API, routed by the embedded router
    request = urllib.request.Request(
        served.base + "/api/telephony/calls", data=json.dumps({"caller": "+33612345678", "dialed": "3939"}).encode(),
        headers={"Authorization": f"Bearer {served.tokens['telephony']}", "Content-Type": "application/json"},
        method="POST")
    with urllib.request.urlopen(request, timeout=10) as r:
        call_id = json.loads(r.read())["call_id"]
    deadline = time.monotonic() + 20
    while True:  # the call is queued (no agent is ready): it waits in the N1 queue
        after = scrape(served)
        # (the router observes the lag just after its commit: a scrape may fall in between)
        if (total(after, "allo_queue_waiting_calls", queue="n1") >= 1
                and total(after, "allo_router_lag_seconds_count") > total(before, "allo_router_lag_seconds_count")
                or time.monotonic() > deadline):
            break
        time.sleep(0.2)

    assert total(after, "allo_queue_waiting_calls", queue="n1") >= 1
    # each worker counted its own requests; the scrape, whichever worker answers, sums both
    grew = (total(after, "allo_http_requests_total", view="login", status="2xx", method="GET")
            - total(before, "allo_http_requests_total", view="login", status="2xx", method="GET"))
    assert grew == 3
    assert total(after, "allo_http_requests_total", view="api-telephony-calls", status="2xx", method="POST") == 1
    assert total(after, "allo_http_requests_total", view="portal-fiche", status="4xx") == 1
    assert total(after, "allo_http_request_duration_seconds_count", view="login", status="2xx") >= 3
    # the router (in the parent process) stored the call's decision and observed its lag
    assert total(after, "allo_router_lag_seconds_count") > total(before, "allo_router_lag_seconds_count")
    assert total(after, "allo_router_inputs_total", result="applied") >= 1
    # (the inputs journaled by `allo init` waited for the router's start: seconds to minutes; ours, ms)
    lag = total(after, "allo_router_lag_seconds_sum") - total(before, "allo_router_lag_seconds_sum")
    assert 0 < lag / (total(after, "allo_router_lag_seconds_count") - total(before, "allo_router_lag_seconds_count")) < 5
    # the state read at scrape time
    assert total(after, "allo_journal_pending_inputs") == 0
    assert total(after, "allo_router_up") == 1
    assert 'allo_telephony_commands_unacknowledged{connector="telephony"}' in after  # per connector
    assert total(after, "allo_search_index_base_fiches") > 100  # the demo's fiches, in each worker
    assert total(after, "allo_search_index_overlay_fiches") == 0
    assert total(after, "allo_search_index_generation_timestamp_seconds") > 1.7e9
    # no raw path, no id, no caller in any label
    text = _get(served.base + "/metrics")[2]
    for raw in ("F1234", "nulle-part", "07-12-34-56-78", call_id, "33612345678"):
        assert raw not in text
    assert total(after, "allo_http_requests_total", view="unmatched", status="4xx") >= 1
    # the files of every process, under the data folder by default
    assert any((served.data / "metrics").glob("*.db"))


def test_pages_from_the_shared_page_cache_are_counted(served):
    """A public page served again from the shared cache never enters Django: its hit is counted by
    the page cache and handed to the counters every few seconds."""
    before = total(scrape(served), "allo_page_cache_requests_total", result="hit")
    for _ in range(6):  # the first of them may render it; the next ones, in either worker, are hits
        assert _get(served.base + "/themes/")[0] == 200
    deadline = time.monotonic() + 15
    while (hits := total(scrape(served), "allo_page_cache_requests_total", result="hit") - before) < 4:
        assert time.monotonic() < deadline, f"{hits} hits counted"
        time.sleep(0.5)


def test_only_allowed_clients_or_a_supervision_token_read_the_metrics(served):
    # through the trusted proxy (loopback), as the client it reports
    status, content_type, body = _get(served.base + "/metrics", {"X-Forwarded-For": "203.0.113.9"})
    assert status == 403
    assert content_type.startswith("application/json")
    assert json.loads(body)["erreur"].startswith("Accès refusé")
    assert "allo_" not in body
    # an address of ALLO_METRICS_ALLOW
    assert _get(served.base + "/metrics", {"X-Forwarded-For": "198.51.100.20"})[0] == 200
    # a supervision token from anywhere; a telephony token or a wrong one is not enough
    for token, expected in ((served.tokens["supervisor"], 200), (served.tokens["telephony"], 403),
                            ("allo_supe_not-a-token-at-all-000000000", 403)):
        headers = {"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {token}"}
        assert _get(served.base + "/metrics", headers)[0] == expected
    # a client-written X-Forwarded-For entry left of the proxy's is not believed
    assert _get(served.base + "/metrics", {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"})[0] == 403
