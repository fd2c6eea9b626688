"""Prometheus metrics at /metrics (prometheus-client), for the operators' monitoring (docs/operations.md).

Two kinds of figures:

- what happens, counted where it happens: HTTP requests per route name and status class (the
  middleware below), the router's lag from an input journaled to its decision stored (the router's
  step), the search index each process uses (its refresh). `allo serve` runs several processes (the
  Uvicorn workers, the embedded router in the parent), so these use prometheus-client's multiprocess
  mode: with PROMETHEUS_MULTIPROC_DIR set (`allo serve` sets it when unset), each process writes its
  values to memory-mapped files there and a scrape, whichever worker answers it, sums them all.
- what is, read at scrape time from the database (the same for every process, wherever the router
  runs): calls waiting per queue, agents per state, the journal's backlog, the telephony commands
  not yet acknowledged, the router's heartbeat.

Labels never carry a raw path: a request is named by its URL pattern's name (`view`), so
/fiches/F1234/ and /fiches/F5678/ are one series.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import time
from types import SimpleNamespace

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Seconds. Pages render in a few ms to a few hundred (a new search on the real corpus: p95 ~50 ms);
# the desks' actions wait for the router (up to a few seconds).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The router applies an input in a few ms when it is idle; the live target is p99 arrival->offer <= 100 ms.
ROUTER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@functools.cache
def _metrics() -> SimpleNamespace:
    """The metrics, created at their first use: prometheus-client picks its storage (memory, or the
    multiprocess files) from PROMETHEUS_MULTIPROC_DIR when it is imported, and Django's system checks
    import this module (the middleware) before `allo serve` has set the variable."""
    from prometheus_client import Counter, Histogram

    return SimpleNamespace(
        http_requests=Counter(
            "allo_http_requests", "HTTP requests Django answered, by method, route name and status class",
            ["method", "view", "status"]),
        http_duration=Histogram(
            "allo_http_request_duration_seconds", "Time Django took to answer, by route name and status class",
            ["view", "status"], buckets=HTTP_BUCKETS),
        router_lag=Histogram(
            "allo_router_lag_seconds",
            "Time from an input journaled (RouterInput.created) to its decision committed by the router",
            buckets=ROUTER_BUCKETS),
        router_inputs=Counter("allo_router_inputs", "Journal inputs the router applied, by result", ["result"]),
        page_cache=Counter("allo_page_cache_requests", "Public pages and static files asked of the shared page "
                           "cache, by result (hit: served without entering Django)", ["result"]),
    )


@functools.cache
def _search_metrics() -> SimpleNamespace:
    """The search index's gauges, created by the first refresh of an index in this process only: in
    multiprocess mode a gauge writes 0 from its creation, and the router's process, which has no
    index, would pull the live processes' minimum to 0."""
    from prometheus_client import Gauge

    return SimpleNamespace(
        # per process; across the live processes, the oldest generation (a worker still on an old
        # index) and the largest overlay are what an operator looks at
        search_generation=Gauge(
            "allo_search_index_generation_timestamp_seconds",
            "When the base search index in use was built (a saved index: its files' time); the oldest of "
            "the live processes", multiprocess_mode="livemin"),
        search_overlay=Gauge(
            "allo_search_index_overlay_fiches", "Fiches changed or removed since the base search index was "
            "built (its overlay); the largest of the live processes", multiprocess_mode="livemax"),
        search_fiches=Gauge(
            "allo_search_index_base_fiches", "Fiches in the base search index; the largest of the live processes",
            multiprocess_mode="livemax"),
    )


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def process_stopping() -> None:
    """A web process stops (the ASGI lifespan): its live gauges leave the scrape (its counters stay).
    A worker killed outright leaves its gauges until the next `allo serve` empties the folder."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(os.getpid())


# ------------------------------------------------------------------------------ HTTP requests
def _view_name(request, response) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    from django.conf import settings

    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"  # a 404 that matched no pattern: its path is not a label


class MetricsMiddleware:
    """First in MIDDLEWARE: counts and times every response Django gives (pages served from the
    shared page cache never enter Django: /healthz counts those)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = _view_name(request, response)
        status = f"{response.status_code // 100}xx"
        method = request.method if request.method in _METHODS else "other"
        m = _metrics()
        m.http_requests.labels(method, view, status).inc()
        m.http_duration.labels(view, status).observe(elapsed)
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


# ------------------------------------------------------------------------------ page cache
_page_cache_flushed = {"hits": 0, "misses": 0}
PAGE_CACHE_FLUSH_S = 5.0


def flush_page_cache() -> None:
    """Add the page cache's hits and misses since the last call to the counters (every
    PAGE_CACHE_FLUSH_S, by the ASGI lifespan): a hit costs 10 to 30 us and a counter's increment in
    multiprocess mode about 8 us (a lock and a memory-mapped write), so hits are summed in the
    process's own figures (allo.web.pagecache.stats) and handed over in one increment."""
    from allo.web import pagecache

    figures = pagecache.stats()
    m = _metrics()
    for name, label in (("hits", "hit"), ("misses", "miss")):
        delta = figures[name] - _page_cache_flushed[name]
        if delta > 0:
            m.page_cache.labels(label).inc(delta)
            _page_cache_flushed[name] = figures[name]


# ------------------------------------------------------------------------------ router, search index
def router_applied(inputs, committed_at: float | None = None) -> None:
    """The router committed these journal inputs: each one's lag, from its journaling to now."""
    now = time.time() if committed_at is None else committed_at
    m = _metrics()
    rejected = 0
    for inp in inputs:
        created = getattr(inp, "created", None)
        if created is not None:
            m.router_lag.observe(max(0.0, now - created.timestamp()))
        if inp.rejected:
            rejected += 1
    if len(inputs) - rejected:
        m.router_inputs.labels("applied").inc(len(inputs) - rejected)
    if rejected:
        m.router_inputs.labels("rejected").inc(rejected)


_bases: dict[int, tuple[int, float]] = {}  # id(state) -> (id of its base's stamps, when it was seen first)


def search_index_refreshed(state) -> None:
    """After a search index refresh in this process (allo.kb.search_service): its generation and overlay."""
    base = id(state.base_stamps)
    seen = _bases.get(id(state))
    if seen is None or seen[0] != base:
        seen = _bases[id(state)] = (base, time.time())
    m = _search_metrics()
    m.search_generation.set(state.loaded_mtime or seen[1])  # an in-memory index (a small base): when built
    m.search_overlay.set(len(state.overlay_docs) + len(state.removed))
    m.search_fiches.set(len(state.base_stamps))


# ------------------------------------------------------------------------------ state, at scrape time
class LiveState:
    """The contact centre's state, read from the database at each scrape (a handful of indexed counts)."""

    def collect(self):
        import datetime as dt

        from django.db.models import Count
        from django.utils import timezone
        from prometheus_client.core import GaugeMetricFamily

        from allo.contact_centre.models import AgentStatus, Contact, TelephonyAck, TelephonyCommand
        from allo.contact_centre.router.config import queue_for_centre
        from allo.contact_centre.router.service import health
        from allo.org.models import Centre

        waiting = GaugeMetricFamily("allo_queue_waiting_calls", "Calls waiting in each queue (router's projection)",
                                    labels=["queue"])
        counts = {queue_for_centre(c): 0 for c in Centre.objects.filter(active=True).only("code", "kind")}
        for row in Contact.objects.filter(state="queued").values("queue").annotate(n=Count("pk")):
            counts[row["queue"] or "none"] = row["n"]
        for queue, n in sorted(counts.items()):
            waiting.add_metric([queue], n)
        yield waiting

        agents = GaugeMetricFamily("allo_agents", "Agents per state (logged in: not offline)", labels=["state"])
        for row in AgentStatus.objects.values("state").annotate(n=Count("pk")).order_by("state"):
            agents.add_metric([row["state"]], row["n"])
        yield agents

        router = health()
        yield GaugeMetricFamily("allo_journal_pending_inputs", "Journal inputs not yet applied by the router",
                                value=router["pending_inputs"])
        yield GaugeMetricFamily("allo_journal_oldest_pending_seconds",
                                "Age of the oldest journal input not yet applied (0: none)",
                                value=router["oldest_pending_s"])
        age = router["heartbeat_age_s"]
        yield GaugeMetricFamily("allo_router_heartbeat_age_seconds",
                                "Seconds since the router's last heartbeat (NaN: none seen)",
                                value=float("nan") if age is None else age)
        yield GaugeMetricFamily("allo_router_up", "1 when a router runs and keeps up (what /healthz requires)",
                                value=1 if router["status"] == "ok" else 0)

        # per connector: the single one (`telephony`), or each voice node (`node:<name>`); one not heard of
        # for a week (a node removed) is left out, as the pruning leaves it out
        unacked = GaugeMetricFamily("allo_telephony_commands_unacknowledged",
                                    "Telephony commands a connector has not acknowledged yet", labels=["connector"])
        positions = dict(TelephonyAck.objects.filter(updated__gte=timezone.now() - dt.timedelta(days=7))
                         .values_list("stream", "seq")) or {"telephony": 0}
        for stream, acked in sorted(positions.items()):
            unacked.add_metric([stream], TelephonyCommand.objects.filter(seq__gt=acked).count())
        yield unacked


def exposition() -> tuple[bytes, str]:
    """The text every scrape gets (and its content type): this host's processes' figures, then the
    live state."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    _metrics()  # one process: every series is listed from the first scrape on, even before its first event
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    live = CollectorRegistry(auto_describe=False)
    live.register(LiveState())
    return generate_latest(registry) + generate_latest(live), CONTENT_TYPE_LATEST


# ------------------------------------------------------------------------------ access
def _networks(items) -> list:
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip().strip("[]"), strict=False))
        except ValueError:
            continue
    return networks


def allowed(request) -> bool:
    """Loopback and ALLO_METRICS_ALLOW's addresses (the client as the trusted proxies report it), or a
    supervision API token (`Authorization: Bearer ...`, `allo token create --role supervisor`)."""
    from django.conf import settings

    from allo.web.client import client_ip

    try:
        address = ipaddress.ip_address(client_ip(request).strip("[]"))
    except ValueError:
        address = None
    if address is not None and any(address in net for net in _networks(settings.ALLO_METRICS_ALLOW)):
        return True
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Bearer "):
        from allo.contact_centre.tokens import token_role

        return token_role(header[7:].strip()) == "supervisor"
    return False

