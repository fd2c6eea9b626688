"""Kamailio's evapi: JSON messages framed as netstrings (`<length>:<bytes>,`) over TCP.

Kamailio sends events (an INVITE to a service number parked, a phone's answer, a BYE...) to every
connected client; the client sends commands that `event_route[evapi:message-received]` executes
(templates/kamailio.cfg.tmpl). evapi gives no delivery guarantee: what is sent while no client is
connected is lost (docs/voice.md, what is left).
"""

from __future__ import annotations

import asyncio
import json

MAX_MESSAGE = 1 << 20


class NetstringError(ValueError):
    pass


def encode(message: dict) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode()
    return b"%d:%s," % (len(data), data)


class Decoder:
    """Incremental netstring decoder: feed bytes, get the complete messages so far."""

    def __init__(self):
        self.buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        out = []
        while True:
            head, sep, rest = self.buffer.partition(b":")
            if not sep:
                if len(head) > 10:
                    raise NetstringError("length prefix too long")
                return out
            if not head.isdigit() or int(head) > MAX_MESSAGE:
                raise NetstringError(f"bad netstring length {head[:20]!r}")
            n = int(head)
            if len(rest) < n + 1:
                return out
            if rest[n:n + 1] != b",":
                raise NetstringError("netstring not terminated by a comma")
            out.append(rest[:n])
            self.buffer = rest[n + 1:]


class EvapiConnection:
    """One TCP connection to Kamailio's evapi."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.decoder = Decoder()
        self.pending: list[bytes] = []

    @classmethod
    async def open(cls, host: str, port: int, timeout: float = 5.0) -> EvapiConnection:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        return cls(reader, writer)

    async def send(self, message: dict) -> None:
        self.writer.write(encode(message))
        await self.writer.drain()

    async def receive(self) -> dict:
        """The next event (raises ConnectionError when Kamailio closes the connection)."""
        while not self.pending:
            chunk = await self.reader.read(65536)
            if not chunk:
                raise ConnectionError("evapi connection closed")
            self.pending.extend(self.decoder.feed(chunk))
        return json.loads(self.pending.pop(0))

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass
