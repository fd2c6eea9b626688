"""The ASGI lifespan protocol: what a server process does when it starts serving and before it stops.

Uvicorn sends `lifespan.startup` to each web process once; tests and tools that import the
application without a server never start these background jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from asgiref.sync import sync_to_async

logger = logging.getLogger(__name__)


class Lifespan:
    def __init__(self, on_startup: list[Callable[[], object]], on_shutdown: list[Callable[[], object]]):
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                for job in self.on_startup:
                    await sync_to_async(job, thread_sensitive=False)()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for job in self.on_shutdown:
                    try:
                        await sync_to_async(job, thread_sensitive=False)()
                    except Exception:  # a failing job must not keep the process from stopping
                        logger.exception("lifespan: shutdown job failed")
                await send({"type": "lifespan.shutdown.complete"})
                return


class PeriodicJob:
    """A function run now and then every `seconds` in a daemon thread of a server process, started
    and stopped by the lifespan (`on_startup=[job.start]`, `on_shutdown=[job.stop]`). A failing run
    is logged and the next one happens as planned."""

    def __init__(self, name: str, seconds: float, func: Callable[[], object]):
        self.name, self.seconds, self.func = name, seconds, func
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=self.seconds + 5)
        self._thread = None

    def _run(self) -> None:
        from django.db import close_old_connections

        while True:
            try:
                close_old_connections()
                self.func()
            except Exception:
                logger.exception("lifespan: periodic job %s failed", self.name)
            finally:
                close_old_connections()
            if self._stop.wait(self.seconds):
                return
