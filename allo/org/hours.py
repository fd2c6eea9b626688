"""Adapter from the organisation models to the routing core's opening hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings

from allo.routing.hours import OpeningHours

WEEKDAY_LABELS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def local_now() -> dt.datetime:
    """Naive local time: the routing core reasons in the service's wall-clock time."""
    return dt.datetime.now(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)


def opening_hours_for(centre, line_closures=None) -> OpeningHours:
    """A centre's hours: its weekly timetable, the line's closures and its own, public holidays
    (`line_closures`: the line's, when the caller has them already)."""
    if line_closures is None:
        from allo.org.models import Closure

        line_closures = Closure.objects.filter(centre__isnull=True)
    return build_hours(centre.opening_periods.all(), [*line_closures, *centre.closures.all()],
                       centre.closed_on_public_holidays, centre.holiday_subdivision)


def hours_config(centre, line_closures) -> dict:
    """The same hours as the routing engine's centre configuration reads them (routing.model.CentreConfig:
    JSON, journaled by the router), so the engine, the desks and the website agree."""
    hours = opening_hours_for(centre, line_closures)
    return {"hours": hours.weekly_dict(), "public_holidays": hours.public_holidays,
            "subdivision": hours.subdivision,
            "closures": [[start.isoformat(), end.isoformat()] for start, end in hours.closures]}


def build_hours(periods, closures, public_holidays: bool, subdivision: str = "") -> OpeningHours:
    """The routing core's hours from rows of a weekly timetable and of closures (org.models.WeeklyRange,
    DatedClosure): a centre's, or a partner administration's (allo/partners)."""
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for period in periods:
        weekly.setdefault(period.weekday, []).append((period.opens, period.closes))
    return OpeningHours(
        weekly=weekly,
        closures=[(closure.start, closure.end) for closure in closures],
        public_holidays=public_holidays,
        subdivision=subdivision or None,
    )


def _fmt(ranges: list[tuple[dt.time, dt.time]]) -> str:
    return ", ".join(f"{a:%H}h{a:%M}–{b:%H}h{b:%M}" for a, b in ranges)


@dataclass(frozen=True)
class CentreStatus:
    centre: object
    is_open: bool
    reason: str
    closes_at: dt.time | None
    next_opening: dt.datetime | None
    today: str
    weekly: list[str]


def centre_status(centre, now: dt.datetime | None = None) -> CentreStatus:
    return status_from_hours(centre, opening_hours_for(centre), now)


def status_from_hours(centre, hours: OpeningHours, now: dt.datetime | None = None) -> CentreStatus:
    """A centre's status from hours already built (callers may cache the hours, not the status)."""
    now = now or local_now()
    ranges = sorted(hours.weekly.get(now.weekday(), []))
    is_open = centre.active and hours.is_open(now)
    closing = hours.closing_time(now) if is_open else None
    reason = "" if is_open else hours.closed_reason(now.date()) or ""
    weekly = [
        f"{WEEKDAY_LABELS[day]} : {_fmt(sorted(hours.weekly[day]))}" for day in range(7) if hours.weekly.get(day)
    ]
    return CentreStatus(
        centre=centre,
        is_open=is_open,
        reason=reason,
        closes_at=closing.time() if closing else None,
        next_opening=None if is_open else hours.next_opening(now),
        today=_fmt(ranges) if ranges and not reason else "",
        weekly=weekly,
    )
