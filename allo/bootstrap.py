"""The composition root: the services a process runs, built in one place.

Every entry point calls `bootstrap()` once and keeps what it returns: the ASGI lifespan of a web
process (allo.project.asgi), `allo serve` (its embedded router, before Uvicorn starts), `allo router`,
and the tests' fixtures. Nothing else builds a router, a notifier, an analytics batcher or the search
indexes a web process uses (tests/unit/test_written_once.py pins it), and no capability imports
another one lazily to find it: what the contact centre asks of the portal (the website's callback
requests, where to publish the wait) and what the portal shows of the router (its wait estimate) are
handed over here.

What is built (a `Services`):

- `router`: this process's router, or None when it runs elsewhere (`allo router`) or nowhere;
  `start_router=True` runs it in a daemon thread (the embedded router of `allo serve`);
- `notifier`: pushes the router's decisions on the channel layer; the WebSocket consumers attach
  the server's event loop to it;
- `analytics`: the portal's batcher (page views and searches written every two seconds), started by
  `start_web()` when a web process starts serving, stopped (what is pending written) by `stop_web()`;
- `wait`: what the portal's contact page shows as the expected wait: the in-process router's figure,
  else what a router in another process published in the shared cache;
- `search`: the search indexes of the knowledge base (allo.kb.search_service.SearchIndexes, one per
  database: the index in use, its overlay of the fiches changed since it was built, its background
  rebuild), warmed by `start_web()`: mapped (or its build started) before the first search, not in
  it. A process that never runs bootstrap() (a management command such as `allo kb eval`, a test
  without the router's fixture) searches search_service's default instance instead, and so does this
  one once close() uninstalled its own.

Left out, on purpose:

- read-only data loaded from shipped files (allo.kb.search.dense, blas, french_words) stays lazy: it
  is the same whoever loads it first, and has no lifecycle to start or stop;
- the shared page cache (allo.web.pagecache) is no service of its own: its pages are in Django's cache
  framework (the `pages` alias, every process's), its local copy belongs to the middleware the ASGI
  application wraps around Django (allo.project.asgi), which pagecache keeps a weak reference to so
  that clear(), called on a model's change in any process, makes it read the generation again. What
  else it holds at module level are counters: the process's hits and misses (pagecache.stats(), over
  every middleware instance, never decreasing) and how many of them allo.web.metrics has already
  handed to /metrics. Nothing to build, start or stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from allo.contact_centre import services as contact_centre
from allo.contact_centre.router import notifier as notifier_module
from allo.contact_centre.router import service as router_service
from allo.contact_centre.router.config import N1_QUEUE
from allo.contact_centre.router.notifier import Notifier
from allo.contact_centre.router.service import Router
from allo.kb import search_service
from allo.kb.search_service import SearchIndexes
from allo.portal import analytics
from allo.portal import live as portal_live

logger = logging.getLogger(__name__)


@dataclass
class Services:
    router: Router | None
    notifier: Notifier
    analytics: analytics.Batcher
    wait: Callable[[], float | None] | None  # the in-process router's estimate (None: the published one)
    search: SearchIndexes
    router_thread: threading.Thread | None = None
    _web: bool = field(default=False, repr=False)

    def start_web(self) -> None:
        """A web process starts serving (lifespan startup): analytics in batches, the search index
        mapped (or its build started) before the first search, not in it."""
        self.analytics.start()
        self.search.warm()
        self._web = True

    def stop_web(self) -> None:
        """A web process stops (lifespan shutdown): what is pending is written."""
        self._web = False
        self.analytics.stop()

    def close(self) -> None:
        """Stop everything and uninstall it (tests; a process about to exit)."""
        global _current
        if self._web:
            self.stop_web()
        if self.router is not None:
            self.router.stop()
            if self.router_thread is not None:
                self.router_thread.join(timeout=5)
        if router_service.current() is self.router:
            router_service.install(None)
        if notifier_module._installed is self.notifier:
            notifier_module.install(None)
        if self.wait is not None and portal_live._wait_provider is self.wait:
            portal_live.register_wait_provider(None)
        if search_service.indexes() is self.search:
            search_service.install(None)
        self.notifier.close()
        if _current is self:
            _current = None


_current: Services | None = None


def current() -> Services | None:
    """This process's services, once `bootstrap()` ran."""
    return _current


def bootstrap(*, router: bool = False, start_router: bool = False) -> Services:
    """Build and install this process's services.

    `router`: build this process's router (tests drive it with step(); `allo router` runs it under
    the advisory lock); `start_router`: build it and run it in a daemon thread (the embedded router)."""
    global _current
    if _current is not None:
        raise RuntimeError("bootstrap() already ran in this process: use current(), or close() it first")
    notifier = Notifier()
    built = None
    wait = None
    if router or start_router:
        built = Router(notifier=notifier, publish_wait=portal_live.publish_wait_estimate,
                       web_callbacks=contact_centre.forward_web_callbacks)

        def wait() -> float | None:
            return built.expected_wait(N1_QUEUE)

    services = Services(router=built, notifier=notifier, analytics=analytics.Batcher(), wait=wait,
                        search=SearchIndexes())
    notifier_module.install(notifier)
    router_service.install(built)
    search_service.install(services.search)
    if wait is not None:
        portal_live.register_wait_provider(wait)
    _current = services
    if start_router:
        services.router_thread = built.start()
    return services


def start_web_process() -> None:
    """ASGI lifespan startup: this process's services (those `allo serve` built before Uvicorn ran it,
    or new ones in a worker process) start serving."""
    (current() or bootstrap()).start_web()


def stop_web_process() -> None:
    """ASGI lifespan shutdown: pending analytics written (the router, if here, dies with the process)."""
    services = current()
    if services is not None:
        services.stop_web()
