"""The telephony connector's WebSocket as a real connector meets it: idle for long stretches on the
Redis channel layer, disconnected while the router issues commands, a server process that sends no
Origin header."""

from __future__ import annotations

import asyncio
import socket

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from allo.contact_centre import services
from allo.contact_centre.consumers import TelephonyConsumer

pytestmark = pytest.mark.django_db

REDIS = ("127.0.0.1", 6379)
# a database of its own, and a prefix: other processes on this Redis never see these groups
REDIS_TEST_URL = f"redis://{REDIS[0]}:{REDIS[1]}/13"


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_layer(settings):
    """The project's Redis channel layer (allo.project.settings.redis_channel_layer) on the real Redis."""
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS[0]}:{REDIS[1]}")
    from allo.project.settings import redis_channel_layer

    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_TEST_URL, prefix="allo-test-telephony")}


def _login(agent: str) -> None:
    services.agent_action(agent, "login", profile={"id": agent, "centre": "n1-plateforme", "level": 1,
                                                   "skills": {"n1": 1}})


def _app():
    from allo.project.asgi import application

    return application


def _connect(path: str, headers: list | None = None) -> WebsocketCommunicator:
    return WebsocketCommunicator(_app(), path, headers=headers or [])


def test_an_idle_websocket_on_redis_stays_open_and_still_gets_commands(router, telephony_token, redis_layer):
    """redis-py 8 reads with a 5 s socket timeout by default, and channels-redis waits for a message
    with a 5 s blocking BZPOPMIN: every idle consumer died with `TimeoutError: Timeout reading from
    127.0.0.1:6379` (channels_redis issue 422). Idle 12 s, then a command arrives."""

    async def run():
        comm = WebsocketCommunicator(TelephonyConsumer.as_asgi(), f"/ws/telephony/?token={telephony_token}")
        connected, _ = await comm.connect()
        assert connected
        await asyncio.sleep(12)
        assert await comm.receive_nothing(timeout=0.1)  # still open: no close, no error
        await database_sync_to_async(_login)("virt-001")
        call_id, _ = await database_sync_to_async(services.create_call)("+33699999999", "3939")
        await database_sync_to_async(drain)(router)
        command = await comm.receive_json_from(timeout=5)
        await comm.disconnect()
        return call_id, command

    call_id, command = async_to_sync(run)()
    assert (command["command"], command["call_id"], command["agent"]) == ("bridge", call_id, "virt-001")


def drain(router) -> int:
    n = 0
    while k := router.step():
        n += k
    return n

