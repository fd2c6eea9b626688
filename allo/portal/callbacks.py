"""Callback requests from the website: slots when the N1 platform is open, capacity, retention.

Settings (all optional): CALLBACK_SLOT_MINUTES (60), CALLBACK_SLOT_CAPACITY (requests per slot, 20),
CALLBACK_DAYS (days with slots offered, 3), CALLBACK_LEAD_MINUTES (earliest slot start from now, 30),
CALLBACK_RATE_LIMIT (valid requests per client address and phone number per hour, 5),
CALLBACK_RATE_LIMIT_PER_ADDRESS (valid requests per client address per hour, 30); RETENTION_DAYS for
the purge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from allo.org.hours import WEEKDAY_LABELS, local_now
from allo.org.models import ServiceLine
from allo.portal.models import CallbackRequest, Feedback, SearchLog

ACTIVE = [CallbackRequest.Status.PENDING, CallbackRequest.Status.FORWARDED]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def slot_minutes() -> int:
    return setting("CALLBACK_SLOT_MINUTES", 60)


def slot_capacity() -> int:
    return setting("CALLBACK_SLOT_CAPACITY", 20)


def french_day(day: dt.date) -> str:
    return f"{WEEKDAY_LABELS[day.weekday()]} {day.day}{'er' if day.day == 1 else ''} {MONTHS[day.month - 1]}"


def hm(t: dt.time) -> str:
    return f"{t:%H}h{t:%M}"


@dataclass(frozen=True)
class Slot:
    start: dt.datetime  # naive local wall-clock time, as the routing core reasons
    end: dt.datetime

    @property
    def key(self) -> str:
        return self.start.strftime("%Y-%m-%dT%H:%M")

    @property
    def day_label(self) -> str:
        return french_day(self.start.date())

    @property
    def label(self) -> str:
        return f"de {hm(self.start.time())} à {hm(self.end.time())}"

    @property
    def long_label(self) -> str:
        return f"{self.day_label}, {self.label}"

    def aware(self) -> tuple[dt.datetime, dt.datetime]:
        zone = ZoneInfo(settings.TIME_ZONE)
        return self.start.replace(tzinfo=zone), self.end.replace(tzinfo=zone)


def upcoming_slots(now: dt.datetime | None = None, line: ServiceLine | None = None) -> list[Slot]:
    """Slots of the next CALLBACK_DAYS days on which the N1 platform opens (holidays and closures excluded)."""
    line = line or ServiceLine.current()
    if line is None or not line.platform.active:
        return []
    hours = line.platform.opening_hours()
    now = now or local_now()
    earliest = now + dt.timedelta(minutes=setting("CALLBACK_LEAD_MINUTES", 30))
    step = dt.timedelta(minutes=slot_minutes())
    slots: list[Slot] = []
    days = 0
    for offset in range(60):
        day = now.date() + dt.timedelta(days=offset)
        found = False
        for opens, closes in hours.ranges_on(day):
            start, stop = dt.datetime.combine(day, opens), dt.datetime.combine(day, closes)
            while start < stop:
                end = min(start + step, stop)
                if start >= earliest:
                    slots.append(Slot(start, end))
                    found = True
                start = end
        days += found
        if days >= setting("CALLBACK_DAYS", 3):
            break
    return slots


def slot_load(slots: list[Slot]) -> dict[str, int]:
    """Active requests per slot key."""
    if not slots:
        return {}
    first, last = slots[0].aware()[0], slots[-1].aware()[1]
    rows = (CallbackRequest.objects.filter(status__in=ACTIVE, slot_start__gte=first, slot_start__lt=last)
            .values("slot_start").annotate(n=Count("id")))
    zone = ZoneInfo(settings.TIME_ZONE)
    return {row["slot_start"].astimezone(zone).strftime("%Y-%m-%dT%H:%M"): row["n"] for row in rows}


class SlotFull(Exception):
    """The chosen slot has no capacity left."""


class AlreadyRequested(Exception):
    """This number already has a callback request waiting."""

    def __init__(self, existing: CallbackRequest):
        super().__init__(existing)
        self.existing = existing


def book(phone_number: str, slot: Slot, subject: str, theme: str = "") -> CallbackRequest:
    """Store a callback request if the slot still has room; atomic against concurrent bookings."""
    start, end = slot.aware()
    with transaction.atomic():
        # the line's row serialises bookings (SQLite's immediate transactions do it by themselves)
        list(ServiceLine.objects.select_for_update().values_list("pk", flat=True))
        existing = CallbackRequest.objects.filter(
            phone_number=phone_number, status__in=ACTIVE, slot_end__gt=timezone.now()).first()
        if existing:
            raise AlreadyRequested(existing)
        if CallbackRequest.objects.filter(status__in=ACTIVE, slot_start=start).count() >= slot_capacity():
            raise SlotFull(slot)
        request = CallbackRequest.objects.create(
            phone_number=phone_number, slot_start=start, slot_end=end, subject=subject, theme=theme,
            consent_at=timezone.now())
    purge_expired()
    return request


def purge_expired(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete callback requests, blank feedback comments and drop logged search texts older than
    settings.RETENTION_DAYS (free text typed by citizens may hold personal data despite the masking)."""
    now = now or timezone.now()
    limit = now - dt.timedelta(days=settings.RETENTION_DAYS)
    callbacks, _ = CallbackRequest.objects.filter(created_at__lt=limit).delete()
    comments = Feedback.objects.filter(created_at__lt=limit).exclude(comment="").update(comment="")
    searches, _ = SearchLog.objects.filter(day__lt=timezone.localdate(now) - dt.timedelta(days=settings.RETENTION_DAYS)).delete()
    return {"callbacks": callbacks, "comments": comments, "searches": searches}
