"""Dates in pages follow French typography: « 1er avril », « 11 avril »."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import engines
from django.utils import timezone


@pytest.mark.parametrize("value, fmt, expected", [
    (dt.date(2026, 4, 1), None, "1er avril 2026"),
    (dt.date(2026, 4, 11), None, "11 avril 2026"),
    (dt.date(2026, 8, 21), None, "21 août 2026"),
    (dt.date(2027, 1, 1), "l j F", "vendredi 1er janvier"),
])
def test_the_first_of_the_month_is_written_1er(value, fmt, expected):
    source = "{{ value|date_fr }}" if fmt is None else f'{{{{ value|date_fr:"{fmt}" }}}}'
    assert engines["django"].from_string(source).render({"value": value}) == expected


def test_a_moment_is_shown_in_the_local_time(settings):
    settings.TIME_ZONE = "Europe/Paris"
    moment = dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC)  # already 1 November in Paris
    with timezone.override("Europe/Paris"):
        text = engines["django"].from_string(r'{{ value|date_fr:"j F Y à H\hi" }}').render({"value": moment})
    assert text == "1er novembre 2026 à 00h30"


@pytest.mark.parametrize("days, expected", [
    (0, "aujourd'hui à 08h00"),
    (1, "demain à 08h00"),
])
def test_a_reopening_today_or_tomorrow_is_said_so(days, expected):
    with timezone.override("Europe/Paris"):
        today = timezone.localdate()
        moment = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=days), dt.time(8, 0)))
        text = engines["django"].from_string("{{ value|when_fr }}").render({"value": moment})
    assert text == expected


def test_a_later_reopening_gives_its_day_and_date():
    with timezone.override("Europe/Paris"):
        moment = timezone.make_aware(dt.datetime(2030, 1, 1, 9, 30))
        text = engines["django"].from_string("{{ value|when_fr }}").render({"value": moment})
        # the opening hours give naive moments, in the line's local time
        naive = engines["django"].from_string("{{ value|when_fr }}").render({"value": dt.datetime(2030, 1, 1, 9, 30)})
    assert text == naive == "le mardi 1er janvier à 09h30"
