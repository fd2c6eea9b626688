"""The forecast model on synthetic histories whose truth is known (allo/forecast/model.py): it recovers the
weekly and intraday shape, public holidays and bridge days, the trend; its intervals hold most of held-out
counts; it beats the seasonal-naive forecast."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from allo.forecast import calendar as cal
from allo.forecast import model

FIRST = dt.date(2025, 1, 6)  # a Monday
WEEKDAY = np.array([1.2, 1.0, 1.0, 1.0, 0.9, 0.3, 0.0])  # Monday +20 %, Friday -10 %, Saturday, Sunday closed
HOURS = np.zeros(24)
HOURS[8:19] = 1.0
HOURS[9:11] = 2.0  # a morning peak
HOURS[14] = 1.5
SHAPE = HOURS / HOURS.sum()


def history(days: int, per_day: float = 400.0, *, holiday: float = 0.0, bridge: float = 1.0, growth: float = 1.0,
            seed: int = 1, first: dt.date = FIRST) -> np.ndarray:
    """Poisson counts per hour: per_day x weekday factor x shape; holidays x `holiday`, bridge days x
    `bridge`, `growth` a year."""
    rng = np.random.default_rng(seed)
    out = np.zeros((days, 24))
    for i in range(days):
        day = first + dt.timedelta(days=i)
        f = WEEKDAY[day.weekday()] * growth ** (i / 365.25)
        if cal.is_holiday(day):
            f *= holiday
        elif cal.is_bridge(day):
            f *= bridge
        out[i] = rng.poisson(per_day * f * SHAPE)
    return out


def test_calendar_knows_french_holidays_and_bridge_days():
    assert cal.kind(dt.date(2026, 7, 14)) == cal.HOLIDAY  # a Tuesday
    assert cal.kind(dt.date(2026, 7, 13)) == cal.BRIDGE  # the Monday before it
    assert cal.kind(dt.date(2026, 5, 15)) == cal.BRIDGE  # the Friday after Ascension
    assert cal.kind(dt.date(2026, 5, 13)) == cal.NORMAL
    assert cal.is_day_after(dt.date(2026, 5, 18))  # Monday after Ascension's Thursday and bridge Friday
    assert not cal.is_day_after(dt.date(2026, 5, 19))


def test_recovers_the_weekly_and_intraday_shape():
    counts = history(18 * 7)  # to Sunday 11 May 2025: the week after has no holiday
    fitted = model.fit(counts, FIRST)
    start = FIRST + dt.timedelta(days=18 * 7)
    days = model.predict(fitted, start, start + dt.timedelta(days=6))
    totals = np.array([d.total for d in days])
    assert np.allclose(totals[:6], 400 * WEEKDAY[:6], rtol=0.08)
    assert totals[6] == 0 and not days[6].open  # Sunday: never a call in the history
    for d in days[:6]:
        assert np.allclose(d.mean / d.total, SHAPE, atol=0.02)
        assert (d.mean[:8] == 0).all() and (d.mean[19:] == 0).all()  # the night, learnt from the data
        assert (d.high[:8] == 0).all()


def test_closed_public_holidays_and_quiet_bridge_days():
    # from January to mid-May 2025: Easter Monday, 1 and 8 May closed; the bridge day of 2 May at half
    first = dt.date(2025, 1, 6)
    counts = history((dt.date(2025, 5, 19) - first).days, holiday=0.0, bridge=0.5, first=first)
    fitted = model.fit(counts, first)
    assert cal.HOLIDAY in fitted.closed_kinds
    # Ascension (Thursday 29 May) and its bridge day, Friday 30 May
    days = {d.day: d for d in model.predict(fitted, dt.date(2025, 5, 26), dt.date(2025, 5, 31))}
    assert days[dt.date(2025, 5, 29)].total == 0 and days[dt.date(2025, 5, 29)].kind == cal.HOLIDAY
    bridge, wednesday = days[dt.date(2025, 5, 30)].total, days[dt.date(2025, 5, 28)].total
    assert bridge < 0.75 * wednesday * WEEKDAY[4] / WEEKDAY[2]  # a Friday, and a bridge: about half of it


def test_an_open_holiday_is_forecast_lower_and_an_unseen_one_like_a_sunday():
    first = dt.date(2025, 1, 6)
    counts = history((dt.date(2025, 6, 2) - first).days, holiday=0.4, first=first)
    fitted = model.fit(counts, first)
    assert cal.HOLIDAY in fitted.features
    days = {d.day: d for d in model.predict(fitted, dt.date(2025, 6, 2), dt.date(2025, 6, 16))}
    pentecost, next_monday = days[dt.date(2025, 6, 9)].total, days[dt.date(2025, 6, 16)].total
    assert 0.25 * next_monday < pentecost < 0.6 * next_monday
    # a month of March: no holiday in it, so a holiday is taken as a Sunday (closed here)
    march = dt.date(2026, 3, 2)
    fitted = model.fit(history(35, first=march), march)
    assert fitted.unseen_holiday
    assert model.predict(fitted, dt.date(2026, 4, 6), dt.date(2026, 4, 6))[0].total == 0  # Easter Monday


def test_learns_a_trend():
    counts = history(52 * 7, growth=1.3)
    fitted = model.fit(counts, FIRST)
    assert 1.2 < fitted.trend_per_year < 1.4


def test_prediction_intervals_hold_most_of_the_held_out_counts_and_beat_seasonal_naive():
    counts = history(30 * 7, seed=5)
    fitted = model.fit(counts[: 26 * 7], FIRST)
    start = FIRST + dt.timedelta(days=26 * 7)
    days = model.predict(fitted, start, start + dt.timedelta(days=27), level=0.9)
    inside = total = 0
    err = naive_err = 0.0
    for d in days:
        actual = counts[(d.day - FIRST).days]
        busy = (d.mean > 0) | (actual > 0)
        inside += int(((actual >= d.low) & (actual <= d.high))[busy].sum())
        total += int(busy.sum())
        err += np.abs(d.mean - actual).sum()
        naive_err += np.abs(model.seasonal_naive(counts[: 26 * 7], FIRST, d.day) - actual).sum()
    assert 0.8 < inside / total < 0.99
    assert err < 0.85 * naive_err  # averaging weeks beats repeating one


def test_no_history_is_refused_in_french():
    with pytest.raises(model.ForecastError, match="Aucun appel"):
        model.fit(np.zeros((14, 24)), FIRST)
