"""A shared cache for public pages, in front of Django (an ASGI middleware).

Every anonymous citizen gets the same fiche page, and at a peak (a topical question in the news)
thousands of them read the same few fiches. A view opts in with `@shared_cache(seconds)`, which
says so in standard HTTP (`Cache-Control: public, max-age=0, s-maxage=N`); this middleware keeps
such a response in the process's memory and serves it again, without entering Django, to any GET
or HEAD of the same URL that carries no session cookie and no Authorization header, until it is N
seconds old or `clear()` is called (the knowledge base changed in this process). Logged-in staff
always get a fresh page. With `stale-while-revalidate=M`, when a page expires one request renders
it again while the others keep getting the previous copy for at most M seconds more: at a peak,
an expiry costs one rendering, not one per waiting visitor. Static files, public for a year
(WhiteNoise), are kept the same way, one copy per Accept-Encoding.

Per response, the CSP nonce is renewed on every hit (a fresh one in the header and in the page),
and such a page leaves as `Cache-Control: private, max-age=0`: this is the last shared cache.
A response that sets a cookie, holds a CSRF token or varies on anything but the cookie, the
language and the encoding is never stored. A view may attach one analytics event to a page
(`Allo-Replay` header, JSON, always stripped before sending): on a hit the cache hands it to
`on_hit`, so a page served from the cache still counts as a view; `on_hit` runs on the event loop
and must not block.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

REPLAY_HEADER = "Allo-Replay"
_REPLAY = REPLAY_HEADER.lower().encode()
_S_MAXAGE = re.compile(rb"s-maxage=(\d+)")
_MAXAGE = re.compile(rb"(?<![-\w])max-age=(\d+)")
_SWR = re.compile(rb"stale-while-revalidate=(\d+)")
_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/=]+)'")
# the session cookie bypasses the cache; one language; the encoding is part of the key
_VARY_OK = {b"cookie", b"accept-language", b"accept-encoding"}
MAX_ENTRY_BYTES = 1 << 20
_generation = 0  # bumped by clear(), from any thread; an entry of an older generation is stale


def clear() -> None:
    """Forget every cached page of this process (the knowledge base or the line changed)."""
    global _generation
    _generation += 1


def shared_cache(seconds: int, stale: int = 0) -> Callable:
    """View decorator: the page is the same for every anonymous visitor for `seconds`; for `stale`
    seconds more, one request renders it again while the others still get the previous copy."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code == 200:
                patch_cache_control(response, public=True, max_age=0, s_maxage=seconds,
                                    **({"stale_while_revalidate": stale} if stale else {}))
            return response

        return wrapped

    return decorator


def replay_on_hit(response, event: dict) -> None:
    """Attach the analytics event a cached copy of this page must replay on each hit."""
    response.headers[REPLAY_HEADER] = json.dumps(event, separators=(",", ":"))


@dataclass(slots=True)
class Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored: float
    expires: float
    stale_until: float
    generation: int
    nonce: bytes | None
    event: dict | None


_instances: list[SharedPageCache] = []


def stats() -> dict:
    """This process's page cache figures (shown by /healthz)."""
    return {"hits": sum(c.hits for c in _instances), "misses": sum(c.misses for c in _instances),
            "pages": sum(len(c.entries) for c in _instances), "bytes": sum(c.size for c in _instances)}


class SharedPageCache:
    def __init__(self, app, *, session_cookie: str = "sessionid", bypass_cookies: tuple[str, ...] = ("messages",),
                 on_hit: Callable[[dict], None] | None = None, max_bytes: int = 64 << 20,
                 clock: Callable[[], float] = time.monotonic):
        self.app = app
        # a visitor with a session (staff) or a pending message gets a page of their own
        self.private_cookies = tuple(name.encode() + b"=" for name in (session_cookie, *bypass_cookies))
        self.on_hit = on_hit
        self.max_bytes = max_bytes
        self.clock = clock
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.refreshing: set[tuple] = set()  # keys one request is rendering again
        self.size = 0
        self.hits = 0
        self.misses = 0
        _instances.append(self)

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        key = self._key(scope)
        if key is None:  # a logged-in or authenticated request: never from the cache
            return await self.app(scope, receive, _stripping(send))
        entry = self.entries.get(key)
        if entry is not None and entry.generation == _generation:
            now = self.clock()
            # fresh; or stale while another request renders it again (no stampede at expiry)
            if entry.expires > now or (entry.stale_until > now and (key in self.refreshing
                                                                    or scope["method"] != "GET")):
                self.entries.move_to_end(key)
                self.hits += 1
                await self._serve(entry, now, send)
                if entry.event is not None and self.on_hit is not None:
                    try:
                        self.on_hit(entry.event)
                    except Exception:  # analytics must never break a page
                        logger.exception("page cache: on_hit failed")
                return
        self.misses += 1
        if scope["method"] != "GET":
            return await self.app(scope, receive, _stripping(send))
        self.refreshing.add(key)
        try:
            await self._fetch(scope, receive, send, key)
        finally:
            self.refreshing.discard(key)

    def _key(self, scope) -> tuple | None:
        extra = b""
        for name, value in scope["headers"]:
            if name == b"cookie":
                if any(cookie in value for cookie in self.private_cookies):
                    return None
            elif name == b"authorization":
                return None
            elif name == b"hx-request" or name == b"hx-target" or name == b"accept-encoding":
                extra += name + b"=" + value + b";"
        return scope["path"], scope.get("query_string", b""), extra

    async def _serve(self, entry: Entry, now: float, send) -> None:
        headers = entry.headers
        body = entry.body
        if entry.nonce is not None:  # a fresh nonce per response, as Django would have made
            fresh = base64.b64encode(os.urandom(16))
            body = body.replace(entry.nonce, fresh)
            headers = [(n, v.replace(entry.nonce, fresh) if n == b"content-security-policy" else v)
                       for n, v in headers]
        headers = [*headers, (b"age", str(int(now - entry.stored)).encode())]
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _fetch(self, scope, receive, send, key: tuple) -> None:
        start: dict = {}
        chunks: list[bytes] = []
        event: list = [None]
        size = 0
        length = -1  # the declared Content-Length
        stored = False

        async def capture(message):
            nonlocal size, length, stored
            if message["type"] == "http.response.start":
                start.update(message)
                for name, value in message.get("headers", []):
                    if name.lower() == _REPLAY:
                        event[0] = value
                    elif name.lower() == b"content-length" and value.isdigit():
                        length = int(value)
                message = {**message, "headers": _outbound(message.get("headers", []))}
            elif message["type"] == "http.response.body" and size <= MAX_ENTRY_BYTES and not stored:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                # stored before the client has it all: its next request finds it (the final empty
                # message of a WSGI response may come after the client has read the whole body)
                if size == length or not message.get("more_body", False):
                    stored = True
                    self._store(key, start, b"".join(chunks), event[0])
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, key: tuple, start: dict, body: bytes, event: bytes | None) -> None:
        if start.get("status") != 200 or len(body) > MAX_ENTRY_BYTES or b"csrfmiddlewaretoken" in body:
            return
        seconds = stale = 0
        nonce = None
        for name, value in start["headers"]:
            name = name.lower()
            if name == b"set-cookie":
                return
            if name == b"vary" and {v.strip().lower() for v in value.split(b",")} - _VARY_OK:
                return
            if name == b"cache-control":
                # a shared cache honours s-maxage, else max-age (static files: a year, immutable)
                match = _S_MAXAGE.search(value) or _MAXAGE.search(value)
                if b"public" not in value or match is None:
                    return
                seconds = int(match.group(1))
                swr = _SWR.search(value)
                stale = int(swr.group(1)) if swr else 0
            elif name == b"content-security-policy":
                found = _NONCE.search(value)
                nonce = found.group(1) if found else None
        if seconds <= 0:
            return
        now = self.clock()
        try:
            replay = json.loads(event) if event else None
        except ValueError:
            replay = None
        self._drop(key)
        headers = [(name.lower(), value) for name, value in _outbound(start["headers"])]  # lower-case: see _serve
        self.entries[key] = Entry(start["status"], headers, body, now, now + seconds, now + seconds + stale, _generation,
                                  nonce, replay)
        self.size += len(body)
        while self.size > self.max_bytes and self.entries:
            self._drop(next(iter(self.entries)))

    def _drop(self, key: tuple) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry.body)


def _outbound(headers: list) -> list:
    """Headers as clients get them: without the internal replay header; a page with a CSP nonce is
    `private` beyond this cache (a CDN would hand the same nonce to everyone)."""
    nonce = any(n.lower() == b"content-security-policy" and b"'nonce-" in v for n, v in headers)
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower == _REPLAY:
            continue
        if nonce and lower == b"cache-control" and b"s-maxage" in value:
            value = b"private, max-age=0"
        out.append((name, value))
    return out


def _stripping(send):
    """Outbound headers for a response that bypasses the cache."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": _outbound(message.get("headers", []))}
        await send(message)

    return wrapped
