"""HTTP through Django's WSGI handler, in a pool of threads, under the ASGI server.

Every view of this project is synchronous. Django's ASGI handler runs each one with several
switches between the event loop and threads, in a new thread per request (so no database
connection is ever reused): a search page that has to be rendered cost 2.5 times more that way
than through the WSGI handler (bench: 104 vs 265 pages/s). So HTTP goes through the WSGI handler,
the path the test client also takes, with asgiref's WsgiToAsgi; WebSockets stay with Channels.

WsgiToAsgi runs every request in one shared thread; here they run in a fixed pool instead, so a
request that waits (a desk action waiting for the router, a slow query) does not hold the others.
Each pool thread keeps its database connection between requests. The pool is small (8): views are
mostly CPU work under one GIL, and more threads only fight for it (new searches, 50 clients:
16 threads 142 pages/s, 4 threads 169, 1 thread 179); a few absorb the waits. ALLO_WEB_THREADS=0 keeps
WsgiToAsgi's own choice: the in-process tests use it, so a request runs in the test's thread and
sees its transaction.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance

THREADS = int(os.environ.get("ALLO_WEB_THREADS", "8"))

_pool = ThreadPoolExecutor(max_workers=max(1, THREADS), thread_name_prefix="allo-http")
_run_in_thread = WsgiToAsgiInstance.__dict__["run_wsgi_app"].func  # the WSGI call, without its thread choice


class _PooledInstance(WsgiToAsgiInstance):
    async def run_wsgi_app(self, body):
        return await sync_to_async(_run_in_thread, thread_sensitive=False, executor=_pool)(self, body)


class PooledWsgiToAsgi(WsgiToAsgi):
    async def __call__(self, scope, receive, send):
        instance = _PooledInstance if THREADS else WsgiToAsgiInstance
        await instance(self.wsgi_application, self.duplicate_header_limit)(scope, receive, send)
