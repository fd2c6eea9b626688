import datetime as dt

import pytest

from allo.routing.hours import OpeningHours, holiday_name

LINE = OpeningHours.from_dict({d: [["08:00", "19:00"]] for d in ["mon", "tue", "wed", "thu", "fri"]}
                              | {"sat": [["09:00", "14:00"]]})


def test_weekly_ranges():
    assert LINE.is_open(dt.datetime(2026, 12, 2, 8, 0))
    assert not LINE.is_open(dt.datetime(2026, 12, 2, 19, 0))  # closing time is exclusive
    assert LINE.is_open(dt.datetime(2026, 12, 5, 13, 59))
    assert not LINE.is_open(dt.datetime(2026, 12, 6, 10, 0))  # Sunday


def test_public_holidays_and_local_calendar():
    assert not LINE.is_open(dt.datetime(2026, 12, 25, 10, 0))
    assert holiday_name(dt.date(2026, 4, 3)) is None
    assert holiday_name(dt.date(2026, 4, 3), "57")  # Good Friday, Alsace-Moselle only
    always = OpeningHours({d: [(dt.time(8), dt.time(19))] for d in range(7)}, public_holidays=False)
    assert always.is_open(dt.datetime(2026, 12, 25, 10, 0))


def test_next_opening_skips_nights_weekends_holidays_and_closures():
    assert LINE.next_opening(dt.datetime(2026, 12, 2, 7, 0)) == dt.datetime(2026, 12, 2, 8, 0)
    assert LINE.next_opening(dt.datetime(2026, 12, 2, 10, 0)) == dt.datetime(2026, 12, 2, 10, 0)
    assert LINE.next_opening(dt.datetime(2026, 12, 5, 15, 0)) == dt.datetime(2026, 12, 7, 8, 0)
    assert LINE.next_opening(dt.datetime(2026, 12, 24, 20, 0)) == dt.datetime(2026, 12, 26, 9, 0)
    closed = OpeningHours(LINE.weekly, closures=[(dt.date(2026, 12, 7), dt.date(2026, 12, 8))])
    assert closed.next_opening(dt.datetime(2026, 12, 5, 15, 0)) == dt.datetime(2026, 12, 9, 8, 0)
    assert closed.closed_reason(dt.date(2026, 12, 7)) == "Fermeture exceptionnelle"


def test_invalid_input_is_named():
    with pytest.raises(ValueError, match="unknown weekday 'lun'"):
        OpeningHours.from_dict({"lun": [["08:00", "19:00"]]})
    with pytest.raises(ValueError, match="ends before it starts"):
        OpeningHours.from_dict({"mon": [["19:00", "08:00"]]})
