"""The portal's side of the live routing engine.

The live router (built elsewhere) plugs in here; the portal never guesses a number:

- `register_wait_provider(fn)`: the composition root (allo.bootstrap) gives the in-process router's
  callable returning the expected wait in seconds of a newcomer on the N1 line, or
  `publish_wait_estimate(seconds)`: a router in another process publishes it to the shared cache,
  at least every `WAIT_TTL` seconds; a stale figure disappears by itself.
- `estimated_wait_seconds()`: what the contact page shows; None when no live router is running.
- `pending_callbacks()`: the callback requests citizens made on the website, for the router to turn
  into contacts (channel "callback", due at the slot start); `mark_forwarded()` once it has.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from allo.portal.models import CallbackRequest

logger = logging.getLogger(__name__)

WAIT_KEY = "portal:live:n1-wait"
WAIT_TTL = 60  # seconds a published estimate stays valid

_wait_provider: Callable[[], float | None] | None = None  # set by allo.bootstrap only


def register_wait_provider(provider: Callable[[], float | None] | None) -> None:
    """Called by allo.bootstrap when it builds an in-process router (and with None when it stops)."""
    global _wait_provider
    _wait_provider = provider


def publish_wait_estimate(seconds: float | None, ttl: int = WAIT_TTL) -> None:
    """Called periodically by a live router running in another process (shared cache needed)."""
    if seconds is None:
        cache.delete(WAIT_KEY)
    else:
        cache.set(WAIT_KEY, float(seconds), ttl)


def _valid(value) -> int | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return int(round(seconds))


def estimated_wait_seconds() -> int | None:
    """The live estimate of a newcomer's wait on the line, or None when no live router is running."""
    provider = _wait_provider
    if provider is not None:
        try:
            value = _valid(provider())
        except Exception:  # a failing router must not break the contact page
            logger.exception("live wait provider failed")
            value = None
        if value is not None:
            return value
    return _valid(cache.get(WAIT_KEY))


@dataclass(frozen=True)
class CallbackContact:
    """What the router needs to schedule a web callback: no more personal data than that."""

    request_id: int
    phone_number: str  # E.164
    due: dt.datetime  # aware; the start of the slot the citizen chose
    until: dt.datetime  # aware; the end of that slot
    theme: str
    subject: str
    channel: str = "callback"


def pending_callbacks(until: dt.datetime | None = None, limit: int = 500) -> list[CallbackContact]:
    """Web callback requests not yet handed to the router, earliest slot first (optionally due before `until`)."""
    queryset = CallbackRequest.objects.filter(status=CallbackRequest.Status.PENDING)
    if until is not None:
        queryset = queryset.filter(slot_start__lt=until)
    return [
        CallbackContact(r.pk, r.phone_number, r.slot_start, r.slot_end, r.theme, r.subject)
        for r in queryset.order_by("slot_start", "pk")[:limit]
    ]


def mark_forwarded(request_id: int, contact_ref: str = "") -> bool:
    """The router created its contact for this request; False if it was not pending any more."""
    return bool(
        CallbackRequest.objects.filter(pk=request_id, status=CallbackRequest.Status.PENDING).update(
            status=CallbackRequest.Status.FORWARDED, contact_ref=str(contact_ref)[:60], forwarded_at=timezone.now()
        )
    )


def mark_done(request_id: int) -> bool:
    return bool(
        CallbackRequest.objects.filter(pk=request_id).exclude(status=CallbackRequest.Status.DONE)
        .update(status=CallbackRequest.Status.DONE)
    )
