"""API tokens: only a SHA-256 digest is stored; the token itself is shown once at creation."""

from __future__ import annotations

import hashlib
import secrets
import time

from allo.contact_centre.models import ApiToken


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(role: str, label: str = "") -> str:
    if role not in ApiToken.Role.values:
        raise ValueError(f"rôle inconnu : {role}")
    token = f"allo_{role[:4]}_{secrets.token_urlsafe(32)}"
    ApiToken.objects.create(role=role, digest=digest(token), label=label)
    _cache.pop(digest(token), None)
    return token


CACHE_SECONDS = 10.0  # a revoked token stops working in every worker within this delay
_cache: dict[str, tuple[float, str | None]] = {}


def token_role(token: str) -> str | None:
    """The role of a valid token, else None (answers cached briefly: the connector calls many times a second)."""
    if not token:
        return None
    key = digest(token)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    role = ApiToken.objects.filter(digest=key, revoked=False).values_list("role", flat=True).first()
    if len(_cache) > 1000:
        _cache.clear()
    _cache[key] = (now + CACHE_SECONDS, role)
    return role


def forget_cached() -> None:
    _cache.clear()
