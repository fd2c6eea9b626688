"""Per-client rate limits in Django's cache; the client is a keyed hash of its address (as the
trusted proxies report it, allo.web.client) and of what else the limit is kept per, never stored."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from allo.web.client import client_ip


def client_key(request, per: str = "") -> str:
    """A keyed hash of the client's address, and of `per` (e.g. a phone number) when given."""
    subject = client_ip(request) + ("|" + per if per else "")
    return hmac.new(settings.SECRET_KEY.encode(), subject.encode(), hashlib.sha256).hexdigest()[:24]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends (0 when allowed)

    @property
    def retry_minutes(self) -> int:
        return max(1, -(-self.retry_after // 60))


def check(request, scope: str, limit: int, window: int, *, count: bool = True, per: str = "") -> Verdict:
    """Count one event for this client (and `per`) in `scope`, in a fixed window of `window` seconds;
    refuse past `limit`."""
    key = f"portal:rl:{scope}:{client_key(request, per)}"
    now = time.time()
    started = cache.get(key + ":t")
    if started is None or now - started >= window:
        started = now
        cache.set(key + ":t", started, window)
        cache.set(key, 0, window)
    used = cache.get(key, 0)
    if used >= limit:
        return Verdict(False, int(started + window - now) + 1)
    if count:
        try:
            cache.incr(key)
        except ValueError:  # expired between get and incr
            cache.set(key, 1, window)
    return Verdict(True, 0)


def peek(request, scope: str, limit: int, window: int, *, per: str = "") -> Verdict:
    return check(request, scope, limit, window, count=False, per=per)
