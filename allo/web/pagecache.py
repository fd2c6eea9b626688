"""A shared cache for public pages, in front of Django (an ASGI middleware), stored in Django's
cache framework so that every web process shares it.

Every anonymous citizen gets the same fiche page, and at a peak (a topical question in the news)
thousands of them read the same few fiches. A view opts in with `@shared_cache(seconds)`, which
says so in standard HTTP (`Cache-Control: public, max-age=0, s-maxage=N`); this middleware keeps
such a response in the `pages` cache (settings.CACHES: Redis when REDIS_URL is set, else files
under ALLO_DATA_DIR/cache/pages) and serves it again, without entering Django, to any GET or HEAD of
the same URL that carries no session cookie and no Authorization header, until it is N seconds old
or `clear()` is called (the knowledge base or the line changed, in any process: a web worker, an
`allo kb` command). Logged-in staff always get a fresh page. With `stale-while-revalidate=M`, when
a page expires one request of the process renders it again while the others keep getting the
previous copy for at most M seconds more: at a peak, an expiry costs one rendering per process, not
one per waiting visitor. Static files, public for a year (WhiteNoise), are kept the same way, one
copy per Accept-Encoding.

Invalidation is a generation: a random token stored in the same cache and part of every page's
key; `clear()` draws a new one, so every process's next lookup misses, whichever process changed
the data (the in-process dictionary this replaces only forgot the pages of the process that saved
the change). Pages of an old generation are never read again and expire on their own. Keys also
carry the database's identity, so two sites (or two test runs) sharing a Redis or a data folder
never see each other's pages. Each process keeps a local copy of the pages it served (bounded by
max_bytes) and reads the generation again at most every GENERATION_CHECK_S: a hit is a dictionary
lookup, as fast as the in-process cache this replaces; another process's change reaches this one
within half a second, the saving process's own at once.

Per response, the CSP nonce is renewed on every hit (a fresh one in the header and in the page),
and such a page leaves as `Cache-Control: private, max-age=0`: this is the last shared cache. The
exception is a trusted reverse proxy (ALLO_TRUSTED_PROXIES) that says what it does for Allô in
`X-Allo-Shared-Cache` (docs/deploy.md: nginx as `allo deploy nginx` configures it): `renews-nonce`,
it renews the nonce itself, so it gets the view's `s-maxage` and `stale-while-revalidate` and
becomes the last shared cache in its turn; `logs-views`, it logs the analytics event of every page
it serves (the `Allo-Replay` header, left to it), so Allô counts none of the pages it asks for.
A response that sets a cookie, holds a CSRF token or varies on anything but the cookie, the
language and the encoding is never stored. A view may attach one analytics event to a page
(`Allo-Replay` header, JSON, always stripped before sending): on a hit the cache hands it to
`on_hit`, so a page served from the cache still counts as a view; `on_hit` runs on the event loop
and must not block.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import math
import os
import re
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable

from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

REPLAY_HEADER = "Allo-Replay"
_REPLAY = REPLAY_HEADER.lower().encode()
# what a trusted reverse proxy caching pages in front does for Allô (docs/deploy.md: nginx)
_CONTRACT = b"x-allo-shared-cache"
RENEWS_NONCE = "renews-nonce"  # a fresh CSP nonce per response of a cached page: it may share pages
LOGS_VIEWS = "logs-views"  # it logs every page's analytics event (Allo-Replay) for allo portal_nginx_views
_S_MAXAGE = re.compile(rb"s-maxage=(\d+)")
_MAXAGE = re.compile(rb"(?<![-\w])max-age=(\d+)")
_SWR = re.compile(rb"stale-while-revalidate=(\d+)")
_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/=]+)'")
# the session cookie bypasses the cache; one language; the encoding is part of the key
_VARY_OK = {b"cookie", b"accept-language", b"accept-encoding"}
MAX_ENTRY_BYTES = 1 << 20
CACHE_ALIAS = "pages"  # settings.CACHES


def _store():
    from django.core.cache import caches

    return caches[CACHE_ALIAS]


def _namespace() -> str:
    """This site's pages: the database's identity (a test run's database is its own)."""
    from django.db import connections

    db = connections["default"].settings_dict
    ident = f"{db['ENGINE']}|{db.get('HOST', '')}|{db.get('PORT', '')}|{db['NAME']}"
    return hashlib.blake2b(ident.encode(), digest_size=8).hexdigest()


def _generation_key() -> str:
    return f"{_namespace()}:generation"


def current_generation(store=None) -> str:
    store = store if store is not None else _store()
    key = _generation_key()
    generation = store.get(key)
    if generation is None:  # first use, or evicted: a new one (an evicted one must not come back)
        generation = uuid.uuid4().hex
        if not store.add(key, generation, None):
            generation = store.get(key) or generation
    return generation


def clear(store=None) -> None:
    """Forget every cached page, in every process (the knowledge base or the line changed): at once
    in this one, within GENERATION_CHECK_S in the others."""
    (store if store is not None else _store()).set(_generation_key(), uuid.uuid4().hex, None)
    for cache in list(_instances):
        cache.forget_generation()


def shared_cache(seconds: int, stale: int = 0) -> Callable:
    """View decorator: the page is the same for every anonymous visitor for `seconds`; for `stale`
    seconds more, one request renders it again while the others still get the previous copy. An answer
    the view marks `response.shared = False` is left uncached."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            # a view may say that this answer is not for everyone (response.shared = False)
            if response.status_code == 200 and getattr(response, "shared", True):
                patch_cache_control(response, public=True, max_age=0, s_maxage=seconds,
                                    **({"stale_while_revalidate": stale} if stale else {}))
            return response

        return wrapped

    return decorator


def replay_on_hit(response, event: dict) -> None:
    """Attach the analytics event a cached copy of this page must replay on each hit."""
    response.headers[REPLAY_HEADER] = json.dumps(event, separators=(",", ":"))


# a stored page: (status, headers, body, stored, expires, stale_until, nonce, event); times are
# wall-clock seconds, compared across processes
E_STATUS, E_HEADERS, E_BODY, E_STORED, E_EXPIRES, E_STALE_UNTIL, E_NONCE, E_EVENT = range(8)
_stats = {"hits": 0, "misses": 0}
_instances: weakref.WeakSet[SharedPageCache] = weakref.WeakSet()
# How long a process trusts the generation it last read: a change made in another process reaches
# this one within that time; the saving process's own pages go at once. Reading it on every request
# cost a Redis round trip per page served (50 us on a quiet machine, 0.6 ms with the 2 cores busy).
GENERATION_CHECK_S = 0.5


def stats() -> dict:
    """This process's page cache figures (shown by /healthz): hits and misses, and the pages and
    bytes of its local copy (the shared pages themselves are in the `pages` cache)."""
    return {**_stats, "pages": sum(len(c.local) for c in _instances),
            "bytes": sum(c.size for c in _instances)}


class SharedPageCache:
    def __init__(self, app, *, session_cookie: str = "sessionid", bypass_cookies: tuple[str, ...] = ("messages",),
                 on_hit: Callable[[dict], None] | None = None, store=None, max_bytes: int = 64 << 20,
                 clock: Callable[[], float] = time.time):
        self.app = app
        # a visitor with a session (staff) or a pending message gets a page of their own
        self.private_cookies = tuple(name.encode() + b"=" for name in (session_cookie, *bypass_cookies))
        self.on_hit = on_hit
        self._fixed_store = store  # a Django cache backend; default: the `pages` alias of this thread
        self.clock = clock
        self.refreshing: set[str] = set()  # keys a request of this process is rendering again
        # A local copy of the shared pages this process served, least recently used out first past
        # max_bytes: a hit costs no transfer of the page from Redis (or a file) and no unpickling.
        # Its keys hold the generation, so a change empties it in effect.
        self.local: OrderedDict[str, tuple] = OrderedDict()
        self.size = 0
        self.max_bytes = max_bytes
        self._generation: str | None = None
        self._generation_read = 0.0
        self.hits = 0
        self.misses = 0
        _instances.add(self)

    def forget_generation(self) -> None:
        """Read the generation again at the next request (this process has just changed it)."""
        self._generation = None

    def _current_generation(self, store) -> str:
        now = time.monotonic()
        if self._generation is None or now - self._generation_read >= GENERATION_CHECK_S:
            generation = current_generation(store)
            if generation != self._generation:
                self.local.clear()
                self.size = 0
            self._generation, self._generation_read = generation, now
        return self._generation

    def _lookup(self, store, key: str, now: float) -> tuple | None:
        entry = self.local.get(key)
        if entry is not None and entry[E_EXPIRES] > now:
            self.local.move_to_end(key)
            return entry
        shared = store.get(key)  # another process may have rendered it (again)
        if shared is not None:
            self._keep(key, shared)
            return shared
        return entry

    def _keep(self, key: str, entry: tuple) -> None:
        self._drop(key)
        self.local[key] = entry
        self.size += len(entry[E_BODY])
        while self.size > self.max_bytes and self.local:
            self._drop(next(iter(self.local)))

    def _drop(self, key: str) -> None:
        entry = self.local.pop(key, None)
        if entry is not None:
            self.size -= len(entry[E_BODY])

    @property
    def store(self):
        return self._fixed_store if self._fixed_store is not None else _store()

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        proxy = _proxy_contract(scope)
        variant = self._variant(scope)
        if variant is None:  # a logged-in or authenticated request: never from the cache
            return await self.app(scope, receive, _stripping(send, proxy))
        store = self.store
        now = self.clock()
        try:
            key = self._key(store, variant)
            entry = self._lookup(store, key, now)
        except Exception:  # the cache is down (Redis restarting): serve from Django, uncached
            logger.exception("page cache: lookup failed")
            return await self.app(scope, receive, _stripping(send, proxy))
        if entry is not None:
            # fresh; or stale while another request renders it again (no stampede at expiry)
            if entry[E_EXPIRES] > now or (entry[E_STALE_UNTIL] > now and (key in self.refreshing
                                                                      or scope["method"] != "GET")):
                self._count("hits")
                await self._serve(entry, now, send, proxy)
                if entry[E_EVENT] is not None and self.on_hit is not None and LOGS_VIEWS not in proxy:
                    try:
                        self.on_hit(entry[E_EVENT])
                    except Exception:  # analytics must never break a page
                        logger.exception("page cache: on_hit failed")
                return
        self._count("misses")
        if scope["method"] != "GET":
            return await self.app(scope, receive, _stripping(send, proxy))
        self.refreshing.add(key)
        try:
            await self._fetch(scope, receive, send, store, key, proxy)
        finally:
            self.refreshing.discard(key)

    def _count(self, name: str) -> None:
        if name == "hits":
            self.hits += 1
        else:
            self.misses += 1
        _stats[name] += 1

    def _variant(self, scope) -> bytes | None:
        """What tells one copy of a page from another (None: not from the cache at all)."""
        extra = b""
        for name, value in scope["headers"]:
            if name == b"cookie":
                if any(cookie in value for cookie in self.private_cookies):
                    return None
            elif name == b"authorization":
                return None
            elif name == b"hx-request" or name == b"hx-target" or name == b"accept-encoding":
                extra += name + b"=" + value + b";"
        return scope["path"].encode("utf-8", "surrogateescape") + b"?" + scope.get("query_string", b"") + b"|" + extra

    def _key(self, store, variant: bytes) -> str:
        digest = hashlib.blake2b(variant, digest_size=16).hexdigest()
        return f"{_namespace()}:{self._current_generation(store)}:{digest}"

    def key_for(self, path: str, query: bytes = b"", headers: tuple = ()) -> str:
        """The cache key of a page as a request of these headers would look it up (tests)."""
        return self._key(self.store, self._variant({"path": path, "query_string": query, "headers": headers}))

    async def _serve(self, entry: tuple, now: float, send, proxy: frozenset = frozenset()) -> None:
        headers = entry[E_HEADERS]
        body = entry[E_BODY]
        nonce = entry[E_NONCE]
        if nonce is not None:  # a fresh nonce per response, as Django would have made
            fresh = base64.b64encode(os.urandom(16))
            body = body.replace(nonce, fresh)
            headers = [(n, v.replace(nonce, fresh) if n == b"content-security-policy" else v)
                       for n, v in headers]
        headers = [*_outbound(headers, proxy), (b"age", str(max(0, int(now - entry[E_STORED]))).encode())]
        if LOGS_VIEWS in proxy and entry[E_EVENT] is not None:  # the proxy counts this view
            headers.append((_REPLAY, json.dumps(entry[E_EVENT], separators=(",", ":")).encode()))
        await send({"type": "http.response.start", "status": entry[E_STATUS], "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _fetch(self, scope, receive, send, store, key: str, proxy: frozenset = frozenset()) -> None:
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
                message = {**message, "headers": _outbound(message.get("headers", []), proxy)}
            elif message["type"] == "http.response.body" and size <= MAX_ENTRY_BYTES and not stored:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                # stored before the client has it all: its next request finds it (the final empty
                # message of a WSGI response may come after the client has read the whole body)
                if size == length or not message.get("more_body", False):
                    stored = True
                    try:
                        self._store(store, key, start, b"".join(chunks), event[0])
                    except Exception:  # a page that cannot be kept is still served
                        logger.exception("page cache: store failed")
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, store, key: str, start: dict, body: bytes, event: bytes | None) -> None:
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
        # lower-case (see _serve); the view's Cache-Control kept, made private per response by _serve
        headers = [(name.lower(), value) for name, value in start["headers"] if name.lower() != _REPLAY]
        entry = (start["status"], headers, body, now, now + seconds, now + seconds + stale, nonce, replay)
        store.set(key, entry, math.ceil(seconds + stale) + 1)
        self._keep(key, entry)


def _tokens(value: bytes) -> frozenset:
    return frozenset(value.decode("latin-1").replace(",", " ").replace(";", " ").split())


def _proxy_contract(scope) -> frozenset:
    """What the trusted reverse proxy in front does for Allô (X-Allo-Shared-Cache: RENEWS_NONCE,
    LOGS_VIEWS); nothing when the request comes from anyone else."""
    value = next((v for name, v in scope.get("headers", ()) if name == _CONTRACT), None)
    if value is None:
        return frozenset()
    from django.conf import settings

    from allo.web.client import is_trusted_proxy

    client = scope.get("client")
    if not client or not is_trusted_proxy(client[0], settings.ALLO_TRUSTED_PROXIES):
        return frozenset()
    return _tokens(value)


def views_logged_by_proxy(request) -> bool:
    """A view's page asked for by the trusted proxy that logs (and so counts) every page it serves:
    the view must not count it too."""
    value = request.META.get("HTTP_X_ALLO_SHARED_CACHE")
    if not value or LOGS_VIEWS not in _tokens(value.encode("latin-1")):
        return False
    from django.conf import settings

    from allo.web.client import is_trusted_proxy

    return is_trusted_proxy(request.META.get("REMOTE_ADDR", ""), settings.ALLO_TRUSTED_PROXIES)


def _outbound(headers: list, proxy: frozenset = frozenset()) -> list:
    """Headers as clients get them: without the internal replay header; a page with a CSP nonce is
    `private` beyond this cache (a CDN would hand the same nonce to everyone). A trusted proxy that
    renews the nonce itself keeps the shared lifetime; one that logs views keeps the replay header."""
    nonce = RENEWS_NONCE not in proxy and any(
        n.lower() == b"content-security-policy" and b"'nonce-" in v for n, v in headers)
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower == _REPLAY and LOGS_VIEWS not in proxy:
            continue
        if nonce and lower == b"cache-control" and b"s-maxage" in value:
            value = b"private, max-age=0"
        out.append((name, value))
    return out


def _stripping(send, proxy: frozenset = frozenset()):
    """Outbound headers for a response that bypasses the cache."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": _outbound(message.get("headers", []), proxy)}
        await send(message)

    return wrapped
