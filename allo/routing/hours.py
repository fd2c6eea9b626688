"""Opening hours of a centre: weekly ranges, French public holidays, exceptional closures.

Pure and deterministic: times are naive local (Europe/Paris) datetimes given by the caller.
The Django organisation models and the simulator both build this object, so the engine, the
desks and the website agree on when a centre is open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import lru_cache

import holidays

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Range = tuple[dt.time, dt.time]


# French public holidays are read here only (the routing engine's hours, the portal's list of the
# next closed days, the forecast's calendar features): one calendar, one local-subdivision rule.
@lru_cache(maxsize=64)
def french_holidays(year: int, subdivision: str | None = None) -> dict[dt.date, str]:
    """{day: French name} of that year's public holidays (with the local calendar, e.g. '57' Moselle)."""
    return dict(holidays.France(years=year, subdiv=subdivision or None, language="fr"))


def holiday_name(day: dt.date, subdivision: str | None = None) -> str | None:
    """The French public holiday on that day (with the local calendar, e.g. '57' Moselle), if any."""
    return french_holidays(day.year, subdivision).get(day)


def next_holidays(start: dt.date, count: int, subdivision: str | None = None) -> list[tuple[dt.date, str]]:
    """The next `count` public holidays from `start` (included), within this year and the next."""
    days = {**french_holidays(start.year, subdivision), **french_holidays(start.year + 1, subdivision)}
    return sorted((day, name) for day, name in days.items() if day >= start)[:count]


class OpeningHours:
    __slots__ = ("weekly", "closures", "public_holidays", "subdivision")

    def __init__(
        self,
        weekly: Mapping[int, Iterable[Range]],
        closures: Iterable[tuple[dt.date, dt.date]] = (),
        public_holidays: bool = True,
        subdivision: str | None = None,
    ):
        self.weekly: dict[int, list[Range]] = {}
        for day, ranges in weekly.items():
            ordered = sorted(ranges)
            for start, end in ordered:
                if end <= start:
                    raise ValueError(f"opening range {start}-{end} ends before it starts")
            self.weekly[int(day)] = ordered
        self.closures = sorted(closures)
        self.public_holidays = public_holidays
        self.subdivision = subdivision

    @classmethod
    def from_dict(cls, data: Mapping[str, Iterable[Iterable[str]]], **kwargs) -> OpeningHours:
        """{"mon": [["08:00", "19:00"]], ..., "sat": [["09:00", "14:00"]]}."""
        weekly = {}
        for name, ranges in data.items():
            if name not in DAY_NAMES:
                raise ValueError(f"unknown weekday {name!r} (expected one of {', '.join(DAY_NAMES)})")
            weekly[DAY_NAMES.index(name)] = [
                (dt.time.fromisoformat(start), dt.time.fromisoformat(end)) for start, end in ranges
            ]
        return cls(weekly, **kwargs)

    def weekly_dict(self) -> dict[str, list[list[str]]]:
        """The weekly ranges as from_dict reads them (the routing configuration, JSON)."""
        return {DAY_NAMES[day]: [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in ranges]
                for day, ranges in self.weekly.items()}

    def closed_reason(self, day: dt.date) -> str | None:
        """Why the centre is closed all that day (holiday or closure), else None."""
        for start, end in self.closures:
            if start <= day <= end:
                return "Fermeture exceptionnelle"
        if self.public_holidays:
            name = holiday_name(day, self.subdivision)
            if name:
                return f"Jour férié ({name})"
        return None

    def ranges_on(self, day: dt.date) -> list[Range]:
        if self.closed_reason(day):
            return []
        return self.weekly.get(day.weekday(), [])

    def is_open(self, when: dt.datetime) -> bool:
        moment = when.time()
        return any(start <= moment < end for start, end in self.ranges_on(when.date()))

    def next_opening(self, when: dt.datetime, horizon_days: int = 60) -> dt.datetime | None:
        """The first moment at or after `when` when the centre is open (None if not within the horizon)."""
        for offset in range(horizon_days + 1):
            day = when.date() + dt.timedelta(days=offset)
            for start, end in self.ranges_on(day):
                opening = dt.datetime.combine(day, start)
                if offset == 0 and when.time() >= end:
                    continue
                return max(opening, when) if offset == 0 else opening
        return None

    def closing_time(self, when: dt.datetime) -> dt.datetime | None:
        """When the current opening range ends, or None if closed now."""
        moment = when.time()
        for start, end in self.ranges_on(when.date()):
            if start <= moment < end:
                return dt.datetime.combine(when.date(), end)
        return None
