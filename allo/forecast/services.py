"""Forecast and staffing from the stored history (the database side; docs/forecast.md).

- `history_counts`: calls offered per local day and slot, read from the history's stored bins;
- `forecast`: expected arrivals per interval for a day range, with prediction intervals (model.py);
- `staffing`: agents needed per interval for that forecast (staffing.py), with the handle time and the
  callers' patience measured in the same history.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np

from allo.forecast import calendar as cal
from allo.forecast import model
from allo.forecast.model import ForecastError

INTERVALS = (15, 30, 60)
MAX_DAYS = 366
LEVEL = 0.9  # the prediction intervals' level
MEASURE_WEEKS = 8  # the recent history that gives the handle time and the patience
KIND_LABELS = {cal.NORMAL: "", cal.HOLIDAY: "jour férié", cal.BRIDGE: "pont"}


def _today() -> dt.date:
    from allo.org.hours import local_now

    return local_now().date()


def _dimension(queue: str | None) -> tuple[str, str]:
    from allo.history.models import Queue

    if queue:
        if not Queue.objects.filter(code=queue).exists():
            known = ", ".join(Queue.objects.values_list("code", flat=True)) or "aucune"
            raise ForecastError(f"File inconnue : « {queue} » (files connues : {known}).")
        return "queue", queue
    return "all", ""


def history_counts(queue: str | None = None, interval: int = 60, today: dt.date | None = None,
                   weeks: int = model.FIT_WEEKS) -> tuple[np.ndarray, dt.date]:
    """(counts[day, slot], first day): calls offered in the last `weeks` weeks of complete days (today,
    still running, is left out), per slot of `interval` minutes of the local day."""
    from allo.history.models import Stat

    if interval not in INTERVALS:
        raise ForecastError(f"Intervalle invalide : {interval} min (15, 30 ou 60 attendu).")
    dim, key = _dimension(queue)
    today = today or _today()
    days = (Stat.objects.filter(grain="1d", dim=dim, key=key, period__lt=today, offered__gt=0)
            .order_by("period").values_list("period", flat=True))
    last = days.last()
    if last is None:
        where = f"la file « {queue} »" if queue else "la ligne"
        raise ForecastError(f"Aucun historique d'appels pour {where} : importez des appels (allo history "
                            f"import FICHIER.csv) ou attendez le calcul des agrégats (allo history rebuild).")
    first = max(days.first(), last - dt.timedelta(days=weeks * 7 - 1))
    grain = "1h" if interval == 60 else "15m"
    slots = 1440 // interval
    per = interval // (60 if grain == "1h" else 15)  # stored slots per interval
    counts = np.zeros(((last - first).days + 1, slots))
    rows = (Stat.objects.filter(grain=grain, dim=dim, key=key, period__gte=first, period__lte=last)
            .values_list("period", "slot", "offered"))
    for period, slot, offered in rows.iterator(chunk_size=5000):
        counts[(period - first).days, slot // per] += offered
    return counts, first


def _slot_start(day: dt.date, slot: int, interval: int) -> str:
    from django.utils import timezone

    minutes = slot * interval
    at = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))
    return at.replace(tzinfo=timezone.get_default_timezone()).isoformat(timespec="minutes")


def check_range(first: dt.date, last: dt.date) -> None:
    if last < first:
        raise ForecastError(f"Période invalide : la fin ({last:%d/%m/%Y}) précède le début ({first:%d/%m/%Y}).")
    if (last - first).days + 1 > MAX_DAYS:
        raise ForecastError(f"Période trop longue : {MAX_DAYS} jours au plus.")


def fitted_model(queue: str | None, interval: int, today: dt.date | None = None) -> model.Fitted:
    counts, start = history_counts(queue, interval, today)
    return model.fit(counts, start)


def forecast(first: dt.date, last: dt.date, queue: str | None = None, interval: int = 60,
             today: dt.date | None = None, fitted: model.Fitted | None = None) -> dict:
    """Expected calls per interval of days first..last (JSON-ready; intervals without any expected call
    are left out), per day, and how the model was fitted."""
    check_range(first, last)
    fitted = fitted or fitted_model(queue, interval, today)
    days = model.predict(fitted, first, last, LEVEL)
    out_days, intervals = [], []
    for d in days:
        out_days.append({"date": d.day.isoformat(), "kind": d.kind, "open": d.open, "expected": round(d.total, 1),
                         "low": int(d.total_low), "high": int(d.total_high), "short_horizon": d.ar_applied})
        for s in np.nonzero(d.mean > 0.005)[0].tolist():
            intervals.append({"start": _slot_start(d.day, s, interval), "expected": round(float(d.mean[s]), 2),
                              "low": int(d.low[s]), "high": int(d.high[s])})
    return {
        "from": first.isoformat(), "to": last.isoformat(), "queue": queue, "interval_minutes": interval,
        "level": LEVEL,
        "history": {"from": fitted.first.isoformat(), "to": fitted.last.isoformat(),
                    "days": (fitted.last - fitted.first).days + 1},
        "model": {"features": fitted.features, "trend_per_year": _round(fitted.trend_per_year, 4),
                  "ar_phi": _round(fitted.ar_phi, 3), "ar_days": model.AR_DAYS if fitted.ar_phi is not None else 0,
                  "closed": sorted(fitted.closed_kinds), "closed_weekdays": sorted(fitted.closed_dows),
                  "holidays_unseen": fitted.unseen_holiday},
        "total": round(sum(d.total for d in days), 1),
        "days": out_days,
        "intervals": intervals,
    }


def _round(x, n):
    return None if x is None else round(x, n)


def shrinkage() -> float:
    """Share of paid time agents are not on the phones (breaks, training, meetings, absence): the
    setting ALLO_SHRINKAGE, 0.30 by default (a common planning figure)."""
    raw = os.environ.get("ALLO_SHRINKAGE", "0.30")
    try:
        value = float(raw)
    except ValueError:
        raise ForecastError(f"ALLO_SHRINKAGE invalide : « {raw} » (une part entre 0 et 0,9 attendue).") from None
    if not 0 <= value <= 0.9:
        raise ForecastError(f"ALLO_SHRINKAGE invalide : {value} (une part entre 0 et 0,9 attendue).")
    return value
