"""The WSGI-to-ASGI bridge (allo.web.wsgi_bridge): a2wsgi's pool of threads, where a request that
waits does not hold the others, and the caller's own thread with ALLO_WEB_THREADS=0."""

from __future__ import annotations

import asyncio
import threading

from asgiref.wsgi import WsgiToAsgi

from allo.web.wsgi_bridge import wsgi_to_asgi


def _app(release: threading.Event, threads_seen: list):
    def app(environ, start_response):
        threads_seen.append(threading.current_thread().name)
        if environ["PATH_INFO"] == "/slow":
            assert release.wait(10), "the fast request never ran while the slow one waited"
        body = environ["wsgi.input"].read() or environ["PATH_INFO"].encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


async def _call(app, path: str, body: bytes = b"") -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    sent = []
    chunks = [{"type": "http.request", "body": body[:3], "more_body": True},
              {"type": "http.request", "body": body[3:], "more_body": False}]

    async def receive():
        return chunks.pop(0) if chunks else await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _in_a_fresh_thread(fn):
    """Run fn in a thread of its own: a browser test earlier in the session (Playwright's sync API)
    leaves an event loop running in the main thread, where asyncio.run and async_to_sync refuse to run."""
    result, errors = [], []

    def run():
        try:
            result.append(fn())
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=run, name="bridge-test")
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the bridge never answered"
    if errors:
        raise errors[0]
    return result[0]


def test_a_waiting_request_does_not_hold_the_others():
    release = threading.Event()
    seen: list = []
    app = wsgi_to_asgi(_app(release, seen), threads=2)

    async def scenario():
        slow = asyncio.ensure_future(_call(app, "/slow"))
        fast = await _call(app, "/fast", b"corps de la requete")  # read in two ASGI messages
        release.set()
        return fast, await slow

    fast, slow = _in_a_fresh_thread(lambda: asyncio.run(scenario()))
    assert fast == (200, b"corps de la requete") and slow == (200, b"/slow")
    assert all(name.startswith("WSGI") for name in seen)  # a2wsgi's pool, never the event loop's thread


def test_without_threads_the_request_runs_in_the_callers_thread():
    app = wsgi_to_asgi(_app(threading.Event(), seen := []), threads=0)
    assert isinstance(app, WsgiToAsgi)
    from asgiref.sync import async_to_sync

    assert _in_a_fresh_thread(lambda: async_to_sync(_call)(app, "/fast")) == (200, b"/fast")
    assert seen == ["bridge-test"]  # the calling thread itself: in a test, the one holding its transaction
