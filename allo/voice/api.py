"""Allô's public telephony API as the adapter uses it: HTTP with the token, and the command stream
on `ws/telephony/` (docs/contact_centre.md). Nothing else of Allô is imported: the voice edge is the
API's first real client, and runs where only the API is reachable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, body: dict | str):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class TelephonyApi:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0, node: str = ""):
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.node = node  # a named voice node has its own position in the command stream

    # -- HTTP (urllib in a thread: a handful of requests per call, no client library needed)

    def _request(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read() or b"{}")
            except ValueError:
                payload = {}
            raise ApiError(exc.code, payload) from None

    async def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        return await asyncio.to_thread(self._request, method, path, body)

    def _download(self, path: str, limit: int) -> bytes:
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data = response.read(limit + 1)
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.reason) from None
        if len(data) > limit:
            raise ValueError(f"{path}: more than {limit} bytes")
        return data

    async def new_call(self, caller: str, dialed: str, event_id: str, ivr_choice: str = "",
                       keepalive_s: int | None = None) -> str:
        body = {"caller": caller, "dialed": dialed, "event_id": event_id}
        if keepalive_s:
            body["keepalive_s"] = keepalive_s
        if ivr_choice:
            body["ivr_choice"] = ivr_choice
        _, out = await self.call("POST", "/api/telephony/calls", body)
        return out["call_id"]

    async def hangup(self, call_id: str) -> None:
        await self.call("POST", f"/api/telephony/calls/{urllib.parse.quote(call_id, safe='')}/hangup", {})

    async def alive(self, call_id: str) -> None:
        await self.call("POST", f"/api/telephony/calls/{urllib.parse.quote(call_id, safe='')}/alive", {})

    async def live_calls(self) -> list[dict]:
        """[{"call_id", "event_id", "state", "age_s"}]: the calls Allô's router still holds."""
        _, out = await self.call("GET", "/api/telephony/calls")
        return out["calls"]

    async def lost(self, call_id: str) -> None:
        await self.call("POST", f"/api/telephony/calls/{urllib.parse.quote(call_id, safe='')}/lost", {})

    async def no_answer(self, call_id: str, agent: str, event_id: str) -> None:
        await self.call("POST", f"/api/telephony/calls/{urllib.parse.quote(call_id, safe='')}/no-answer",
                        {"agent": agent, "event_id": event_id})

    async def consult_left(self, call_id: str, agent: str, event_id: str) -> None:
        """`agent`'s phone hung up the consult call: Allô ends the consult (the caller leaves hold)."""
        await self.call("POST", f"/api/telephony/calls/{urllib.parse.quote(call_id, safe='')}/consult-left",
                        {"agent": agent, "event_id": event_id})

    async def callback_answer(self, call_id: str, accepted: bool) -> None:
        """The caller's answer to the router's callback proposal (`play proposition-rappel`)."""
        await self.call("POST", f"/api/telephony/calls/{urllib.parse.quote(call_id, safe='')}/callback-answer",
                        {"accepted": accepted})

    async def recorded_prompts(self) -> list[dict]:
        """[{"name", "sha256", "seconds"}]: the announcements recorded in Allô's admin."""
        _, out = await self.call("GET", "/api/telephony/prompts")
        return out["prompts"]

    async def recorded_prompt(self, name: str, limit: int = 20 * 1024 * 1024) -> bytes:
        """One recorded announcement's WAV file."""
        return await asyncio.to_thread(self._download, f"/api/telephony/prompts/{urllib.parse.quote(name, safe='')}",
                                       limit)

    async def sip_accounts(self) -> dict:
        """{"realm": ..., "accounts": [{"username", "ha1", "registered"}]}: the agents' HA1s, never a password."""
        _, out = await self.call("GET", "/api/telephony/sip-accounts")
        return out

    async def phone_state(self, agent: str, registered: bool) -> None:
        await self.call("POST", f"/api/telephony/agents/{urllib.parse.quote(agent, safe='')}/phone",
                        {"registered": registered})

    # -- the command stream

    def ws_url(self) -> str:
        parts = urllib.parse.urlsplit(self.base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = urllib.parse.urlencode({"node": self.node}) if self.node else ""
        return urllib.parse.urlunsplit((scheme, parts.netloc, parts.path + "/ws/telephony/", query, ""))

    async def commands(self, ack_queue: asyncio.Queue) -> AsyncIterator[dict]:
        """Commands in order from one connection; the acks put on `ack_queue` are sent on it. Raises
        ConnectionError when the connection ends (the caller reconnects: the server sends again
        every command after the last one acknowledged)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with connect(self.ws_url(), additional_headers=headers, open_timeout=10,
                               ping_interval=20, ping_timeout=20) as ws:
                logger.info("telephony stream connected")
                sender = asyncio.create_task(self._send_acks(ws, ack_queue))
                try:
                    async for text in ws:
                        message = json.loads(text)
                        if "erreur" in message:
                            raise ConnectionError(f"telephony stream refused a message: {message['erreur']}")
                        yield message
                finally:
                    sender.cancel()
        except (OSError, WebSocketException) as exc:
            raise ConnectionError(f"telephony stream: {exc}") from exc
        raise ConnectionError("telephony stream closed")

    @staticmethod
    async def _send_acks(ws, queue: asyncio.Queue) -> None:
        while True:
            seq = await queue.get()
            await ws.send(json.dumps({"type": "ack", "seq": seq}))
