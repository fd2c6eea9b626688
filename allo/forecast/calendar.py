"""French public holidays and bridge days, the calendar features of the forecast (pure: no Django).

A *bridge day* (« pont ») is a working day between a public holiday and the weekend, which many take
off: the Monday before a Tuesday holiday, the Friday after a Thursday one (Ascension's Friday every
year). The *day after* is the first weekday after a holiday or a bridge, when callers who waited call.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from allo.routing.hours import french_holidays

NORMAL, HOLIDAY, BRIDGE = "normal", "holiday", "bridge"


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[dt.date]:
    return frozenset(french_holidays(year))  # the national calendar (no local subdivision)


def is_holiday(day: dt.date) -> bool:
    return day in _holidays(day.year)


def is_bridge(day: dt.date) -> bool:
    wd = day.weekday()
    if wd == 0:
        return is_holiday(day + dt.timedelta(days=1)) and not is_holiday(day)
    if wd == 4:
        return is_holiday(day - dt.timedelta(days=1)) and not is_holiday(day)
    return False


def kind(day: dt.date) -> str:
    if is_holiday(day):
        return HOLIDAY
    if is_bridge(day):
        return BRIDGE
    return NORMAL


def is_day_after(day: dt.date) -> bool:
    """The first weekday after a holiday or a bridge day (weekends in between skipped)."""
    if day.weekday() >= 5 or kind(day) != NORMAL:
        return False
    before = day - dt.timedelta(days=1)
    while before.weekday() >= 5:
        before -= dt.timedelta(days=1)
    return kind(before) != NORMAL
