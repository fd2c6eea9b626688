"""WebSocket consumers: a desk's live feed, and the telephony connector's command stream."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from allo.contact_centre.router import notifier
from allo.contact_centre.telephony import schemas
from allo.contact_centre.telephony import services as telephony


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
    """ws/telephony/?token=…[&after=N][&node=NAME]: the connector receives the commands to execute, each
    with its `seq`; it acknowledges with `{"type": "ack", "seq": N}`. At each connection it first gets every
    command after the last one it acknowledged (a voice node: its own, `node`; or after `after`), then the
    new ones as the router issues
    them: in order, each once per connection (a push that overtook the catch-up, or came twice, is
    skipped; one that arrives after a gap is preceded by the missing ones, read from the database)."""

    async def connect(self):
        notifier.attach_loop(asyncio.get_running_loop())
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = query.get("token", [""])[0]
        for name, value in self.scope.get("headers", []):
            if name == b"authorization" and value.startswith(b"Bearer "):
                token = value[7:].decode().strip()
        from allo.contact_centre.tokens import token_role

        role = await database_sync_to_async(token_role)(token)
        if role != "telephony":
            await self.close(code=4401)
            return
        after = query.get("after", [""])[0]
        node = query.get("node", [""])[0]
        if (after and not after.isdigit()) or (node and not telephony.NODE.match(node)):
            await self.close(code=4400)
            return
        self.stream = telephony.stream_of(node)  # a voice node's own position, or the single connector's
        # joined before reading the journal: a command committed meanwhile is pushed and skipped if read
        await self.channel_layer.group_add(notifier.TELEPHONY, self.channel_name)
        await self.accept()
        self.sent = int(after) if after else await database_sync_to_async(telephony.acknowledged)(self.stream)
        await self._catch_up()

    async def _catch_up(self, upto: int | None = None) -> None:
        while True:
            page = await database_sync_to_async(telephony.after)(self.sent, upto)
            for m in page:
                await self.send_json(m)
                self.sent = m["seq"]
            if len(page) < telephony.PAGE:
                return

    async def disconnect(self, code):
        await self.channel_layer.group_discard(notifier.TELEPHONY, self.channel_name)

    async def telephony_command(self, message):
        command = message["command"]
        seq = command["seq"]
        if not hasattr(self, "sent") or seq <= self.sent:
            return  # already sent (the catch-up read it), or not connected yet
        if seq > self.sent + 1:
            await self._catch_up(upto=seq)  # a gap (a lost push, or only a burnt id): the journal says
            return
        await self.send_json(command)
        self.sent = seq

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None  # answered below: a bad message must not close the connector's stream

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return await self.send_json({"erreur": "Message JSON attendu : un objet."})
        if content.get("type") == "ack":
            try:
                ack = schemas.payload(schemas.Acquittement, content)
            except schemas.PayloadError as exc:
                return await self.send_json({"erreur": str(exc)})
            await database_sync_to_async(telephony.acknowledge)(ack.seq, self.stream)
            return None
        return await self.send_json({"erreur": "Type de message inconnu."})


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
