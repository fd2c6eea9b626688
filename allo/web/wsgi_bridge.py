"""HTTP through Django's WSGI handler, in a pool of threads, under the ASGI server.

Every view of this project is synchronous. Django's ASGI handler runs each one with several
switches between the event loop and threads, in a new thread per request (so no database
connection is ever reused): a search page that has to be rendered cost 2.5 times more that way
than through the WSGI handler (bench: 104 vs 265 pages/s). So HTTP goes through the WSGI handler,
the path the test client also takes; WebSockets stay with Channels.

The bridge is a2wsgi's WSGIMiddleware, a maintained WSGI-to-ASGI adapter that runs each request in
a fixed pool of threads, so a request that waits (a desk action waiting for the router, a slow
query) does not hold the others, and each pool thread keeps its database connection between
requests. (It replaces a subclass of asgiref's WsgiToAsgi that reached into asgiref's internals to
swap its single shared thread for a pool, and forced an exact asgiref pin.) The pool is small (8):
views are mostly CPU work under one GIL, and more threads only fight for it (new searches, 50
clients: 16 threads 142 pages/s, 4 threads 169, 1 thread 179); a few absorb the waits.

ALLO_WEB_THREADS=0 runs each request in the thread that awaits the application instead, through
asgiref's public WsgiToAsgi (thread-sensitive: the caller's own thread when it came through
async_to_sync): the in-process tests use it, so a request sees the test's transaction.
"""

from __future__ import annotations

import os

THREADS = int(os.environ.get("ALLO_WEB_THREADS", "8"))


def wsgi_to_asgi(wsgi_application, threads: int | None = None):
    """The ASGI application serving `wsgi_application` in a pool of `threads` (0: the caller's thread)."""
    threads = THREADS if threads is None else threads
    if threads <= 0:
        from asgiref.wsgi import WsgiToAsgi

        return WsgiToAsgi(wsgi_application)
    from a2wsgi import WSGIMiddleware

    # send_queue_size: response chunks a thread may hand over before the event loop sends them
    return WSGIMiddleware(wsgi_application, workers=threads, send_queue_size=10)
