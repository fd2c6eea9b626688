"""rtpengine's ng control protocol: `<cookie> <bencoded dictionary>` datagrams over UDP.

Kamailio's rtpengine module does the offer/answer of every call; the adapter uses the same
protocol for what happens outside a SIP message: a health check at start (`ping`) and deleting a
call's media session when Allô ends the call (`delete`), so no session leaks.
"""

from __future__ import annotations

import asyncio
import secrets


def bencode(value) -> bytes:
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list | tuple):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def bdecode(data: bytes):
    value, end = _decode(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes after the bencoded value")
    return value


def _decode(data: bytes, i: int):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c in (b"l", b"d"):
        i += 1
        items = []
        while data[i:i + 1] != b"e":
            if i >= len(data):
                raise ValueError("unterminated list or dictionary")
            item, i = _decode(data, i)
            items.append(item)
        if c == b"l":
            return items, i + 1
        return {items[k].decode(): items[k + 1] for k in range(0, len(items), 2)}, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def _text(value):
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    return value


class NgClient(asyncio.DatagramProtocol):
    """Requests to one rtpengine, matched to their answers by cookie."""

    def __init__(self, address: tuple[str, int]):
        self.address = address
        self.waiting: dict[bytes, asyncio.Future] = {}
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, address: tuple[str, int]) -> NgClient:
        loop = asyncio.get_running_loop()
        _, client = await loop.create_datagram_endpoint(lambda: cls(address), local_addr=(address[0], 0))
        return client

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        cookie, _, body = data.partition(b" ")
        future = self.waiting.pop(cookie, None)
        if future is not None and not future.done():
            try:
                future.set_result(_text(bdecode(body)))
            except ValueError as exc:
                future.set_exception(exc)

    async def request(self, command: str, timeout: float = 2.0, **params) -> dict:
        """Send one command (`ping`, `delete`, `query`...); its answer as a dict of str."""
        cookie = secrets.token_hex(8).encode()
        future = asyncio.get_running_loop().create_future()
        self.waiting[cookie] = future
        self.transport.sendto(cookie + b" " + bencode({"command": command, **params}), self.address)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.waiting.pop(cookie, None)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
