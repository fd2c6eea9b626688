"""API tokens: only a SHA-256 digest is stored; the token itself is shown once at creation."""

from __future__ import annotations

import hashlib
import secrets

from allo.contact_centre.models import ApiToken


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(role: str, label: str = "") -> str:
    if role not in ApiToken.Role.values:
        raise ValueError(f"rôle inconnu : {role}")
    token = f"allo_{role[:4]}_{secrets.token_urlsafe(32)}"
    ApiToken.objects.create(role=role, digest=digest(token), label=label)
    return token


def token_role(token: str) -> str | None:
    if not token:
        return None
    return ApiToken.objects.filter(digest=digest(token), revoked=False).values_list("role", flat=True).first()
