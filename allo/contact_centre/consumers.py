"""WebSocket consumers: a desk's live feed, and the telephony connector's command stream."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from allo.contact_centre.router import notifier


class DeskConsumer(AsyncJsonWebsocketConsumer):
    """ws/desk/: the logged-in agent receives its offers and state changes."""

    async def connect(self):
        notifier.attach_loop(asyncio.get_running_loop())
        user = self.scope.get("user")
        allowed = user is not None and user.is_authenticated and await database_sync_to_async(
            lambda: user.has_role("operator", "expert"))()
        if not allowed:
            await self.close(code=4403)
            return
        self.group = notifier.agent_group(user.username)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def desk_event(self, message):
        await self.send_json(message["event"])


class TelephonyConsumer(AsyncJsonWebsocketConsumer):
    """ws/telephony/?token=…: the connector receives the commands to execute."""

    async def connect(self):
        notifier.attach_loop(asyncio.get_running_loop())
        token = parse_qs(self.scope.get("query_string", b"").decode()).get("token", [""])[0]
        for name, value in self.scope.get("headers", []):
            if name == b"authorization" and value.startswith(b"Bearer "):
                token = value[7:].decode().strip()
        from allo.contact_centre.tokens import token_role

        role = await database_sync_to_async(token_role)(token)
        if role != "telephony":
            await self.close(code=4401)
            return
        await self.channel_layer.group_add("telephony", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("telephony", self.channel_name)

    async def telephony_command(self, message):
        await self.send_json(message["command"])


class WallboardConsumer(AsyncJsonWebsocketConsumer):
    """ws/wallboard/: supervisors get the live figures at once, then each time the router pushes them."""

    async def connect(self):
        notifier.attach_loop(asyncio.get_running_loop())
        user = self.scope.get("user")
        allowed = user is not None and user.is_authenticated and await database_sync_to_async(
            lambda: user.has_role("supervisor"))()
        if not allowed:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(notifier.WALLBOARD, self.channel_name)
        await self.accept()
        from allo.contact_centre.services import live_stats

        await self.send_json(await database_sync_to_async(live_stats)())

    async def disconnect(self, code):
        await self.channel_layer.group_discard(notifier.WALLBOARD, self.channel_name)

    async def wallboard_update(self, message):
        await self.send_json(message["stats"])
