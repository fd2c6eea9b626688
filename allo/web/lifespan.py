"""The ASGI lifespan protocol: what a server process does when it starts serving and before it stops.

Uvicorn sends `lifespan.startup` to each web process once; tests and tools that import the
application without a server never start these background jobs.
"""

from __future__ import annotations

import logging
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
