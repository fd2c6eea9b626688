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


# ---------------------------------------------------------------------------------------------- staffing

def measured(queue: str | None = None, today: dt.date | None = None, weeks: int = MEASURE_WEEKS) -> dict:
    """Handle time and patience in the last `weeks` weeks of history (complete days).

    Patience: callers who are answered leave before their patience ends, so the mean time to abandon
    (the wait of abandoned calls) underestimates it; the estimate of an exponential patience from such
    censored waits is the total wait of all calls / the abandoned calls (the maximum-likelihood
    estimate), the patience Erlang A wants. Both are given."""
    from django.db.models import Count, Sum

    from allo.history.models import CallRecord, Stat

    dim, key = _dimension(queue)
    today = today or _today()
    last = (Stat.objects.filter(grain="1d", dim=dim, key=key, period__lt=today, offered__gt=0)
            .order_by("-period").values_list("period", flat=True).first())
    if last is None:
        where = f"la file « {queue} »" if queue else "la ligne"
        raise ForecastError(f"Aucun historique d'appels pour {where} : importez des appels (allo history "
                            f"import FICHIER.csv) ou attendez le calcul des agrégats (allo history rebuild).")
    earliest = Stat.objects.filter(grain="1d", dim=dim, key=key, offered__gt=0).order_by("period").values_list(
        "period", flat=True).first()
    first = max(earliest, last - dt.timedelta(days=weeks * 7 - 1))
    bins = Stat.objects.filter(grain="1d", dim=dim, key=key, period__gte=first, period__lte=last).aggregate(
        handled=Sum("handled"), talk=Sum("talk_s"), wrap=Sum("wrap_s"), wait=Sum("wait_s"),
        abandoned=Sum("abandoned"), offered=Sum("offered"))
    records = CallRecord.objects.filter(arrived_at__gte=_local_midnight(first),
                                        arrived_at__lt=_local_midnight(last + dt.timedelta(days=1)),
                                        outcome="abandoned")
    records = records.filter(queue__code=queue) if queue else records.filter(level=1)
    ab = records.aggregate(n=Count("id"), wait=Sum("waited_s"))
    from allo.routing import kpi

    aht = kpi.handle_time(bins["talk"] or 0.0, bins["wrap"] or 0.0, bins["handled"] or 0)
    patience = mean_to_abandon = None
    if ab["n"]:
        mean_to_abandon = ab["wait"] / ab["n"]
        patience = ((bins["wait"] or 0.0) + ab["wait"]) / ab["n"]
    return {"from": first.isoformat(), "to": last.isoformat(), "offered": bins["offered"] or 0,
            "aht_s": _round(aht, 1), "patience_s": _round(patience, 1),
            "mean_time_to_abandon_s": _round(mean_to_abandon, 1),
            "abandon_rate": _round((bins["abandoned"] or 0) / bins["offered"], 4) if bins["offered"] else None}


def _local_midnight(day: dt.date) -> dt.datetime:
    from django.utils import timezone

    return dt.datetime.combine(day, dt.time()).replace(tzinfo=timezone.get_default_timezone())


def service_level_target(queue: str | None = None) -> tuple[float, str]:
    """The share to reach within kpi.SERVICE_LEVEL_S: the queue's minimal service level the
    administrator set (« seuils d'alerte des files »), else the default scenario's target (80 %)."""
    from allo.contact_centre.models import QueueThreshold
    from allo.history.models import Queue
    from allo.org.models import Centre

    if queue:
        centre = Queue.objects.filter(code=queue).values_list("centre", flat=True).first()
    else:
        centre = Centre.objects.filter(kind="n1").values_list("code", flat=True).first()
    minimum = (QueueThreshold.objects.filter(centre__code=centre, service_level_min__isnull=False)
               .values_list("service_level_min", flat=True).first()) if centre else None
    if minimum:
        return minimum / 100.0, "seuil de la file (administration)"
    from allo.simulation.scenario import load_scenario

    return load_scenario(None).sl_target, "objectif du scénario par défaut"


def staffing(first: dt.date, last: dt.date, queue: str | None = None, interval: int = 60,
             today: dt.date | None = None, shrink: float | None = None) -> dict:
    """The forecast with, per interval, the agents needed on the phones (Erlang A) and to schedule
    (with shrinkage)."""
    from allo.forecast import staffing as stf
    from allo.routing import kpi

    data = forecast(first, last, queue, interval, today)
    m = measured(queue, today)
    if m["aht_s"] is None:
        raise ForecastError("Aucun appel traité dans l'historique récent : durée de traitement inconnue.")
    target, source = service_level_target(queue)
    inputs = stf.Inputs(aht_s=m["aht_s"], patience_s=m["patience_s"], target=target,
                        target_s=kpi.SERVICE_LEVEL_S, shrinkage=shrinkage() if shrink is None else shrink)
    per_day: dict[str, dict] = {}
    for row in data["intervals"]:
        n = stf.need(row["expected"], interval, inputs)
        row.update(agents=n.agents, scheduled=n.scheduled, load_erlangs=round(n.load_erlangs, 2),
                   service_level=round(n.service_level, 4), asa_s=round(n.asa_s, 1),
                   abandon_rate=round(n.abandon_rate, 4), occupancy=round(n.occupancy, 3))
        day = per_day.setdefault(row["start"][:10], {"peak_agents": 0, "agent_hours": 0.0, "scheduled_hours": 0.0})
        day["peak_agents"] = max(day["peak_agents"], n.agents)
        day["agent_hours"] += n.agents * interval / 60
        day["scheduled_hours"] += n.scheduled * interval / 60
    for d in data["days"]:
        d.update(per_day.get(d["date"], {"peak_agents": 0, "agent_hours": 0.0, "scheduled_hours": 0.0}))
    data["staffing"] = {"model": "erlang_a" if inputs.patience_s else "erlang_c", "target": target,
                        "target_source": source, "target_s": kpi.SERVICE_LEVEL_S, "shrinkage": inputs.shrinkage,
                        "measured": m}
    return data


# ---------------------------------------------------------------------------------------------- shift plan

def templates(interval: int):
    """The active shift templates as the planner's, on intervals they cover in full."""
    from allo.forecast import shifts
    from allo.forecast.models import ShiftTemplate

    out = []
    for t in ShiftTemplate.objects.filter(active=True):
        start = t.start.hour * 60 + t.start.minute
        end = t.end.hour * 60 + t.end.minute
        first, last = -(-start // interval), end // interval
        if last > first:
            out.append(shifts.Template(t.name, first, last, frozenset(t.days()), t.paid_minutes or end - start))
    if not out:
        raise ForecastError("Aucun modèle de vacation actif : créez-en dans l'administration (« Modèles de "
                            "vacation »).")
    return out


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def shift_plan(monday: dt.date, queue: str | None = None, interval: int = 60, today: dt.date | None = None,
               seed: int = 1, shrink: float | None = None) -> dict:
    """The week from `monday`: agents to schedule per interval (staffing), the agents starting each shift
    template each day (CP-SAT), and the plan checked by simulation through the engine."""
    from allo.forecast import shifts

    if monday.weekday() != 0:
        raise ForecastError(f"La semaine commence un lundi : le {monday:%d/%m/%Y} n'en est pas un.")
    tpl = templates(interval)
    data = staffing(monday, monday + dt.timedelta(days=6), queue, interval, today, shrink)
    slots = 1440 // interval
    expected = [np.zeros(slots) for _ in range(7)]
    need = [np.zeros(slots, dtype=int) for _ in range(7)]
    for row in data["intervals"]:
        at = dt.datetime.fromisoformat(row["start"])
        d, s = (at.date() - monday).days, (at.hour * 60 + at.minute) // interval
        expected[d][s], need[d][s] = row["expected"], row["scheduled"]
    plan = shifts.plan_week(need, list(range(7)), tpl)
    shrinkage_ = data["staffing"]["shrinkage"]
    on_phones = [np.floor(c * (1 - shrinkage_) + 1e-9).astype(int) for c in plan.on_shift]
    m = data["staffing"]["measured"]
    check = shifts.simulate_plan(expected, on_phones, interval, m["aht_s"], m["patience_s"], seed)
    days = []
    for d in range(7):
        day = monday + dt.timedelta(days=d)
        covered = [{"start": _slot_start(day, s, interval), "needed": int(need[d][s]),
                    "on_shift": int(plan.on_shift[d][s]), "on_phones": int(on_phones[d][s]),
                    "short": int(plan.short[d][s])}
                   for s in range(slots) if need[d][s] or plan.on_shift[d][s]]
        days.append({"date": day.isoformat(), "shifts": plan.starts[d], "intervals": covered,
                     "simulated": {k: _round(v, 4) for k, v in check.per_day[d].items()}})
    return {"week": monday.isoformat(), "queue": queue, "interval_minutes": interval,
            "templates": [{"name": t.name, "start_slot": t.start_slot, "end_slot": t.end_slot,
                           "covers": f"{_hhmm(t.start_slot * interval)}–{_hhmm(t.end_slot * interval)}",
                           "weekdays": sorted(t.days), "paid_minutes": t.paid_minutes} for t in tpl],
            "status": plan.status, "paid_hours": round(plan.paid_hours, 1), "solve_s": round(plan.wall_s, 2),
            "short_agent_intervals": int(sum(int(s.sum()) for s in plan.short)),
            "target": data["staffing"]["target"], "target_s": data["staffing"]["target_s"],
            "shrinkage": shrinkage_, "measured": m,
            "simulated": {"seed": seed, "offered": check.offered, "service_level": _round(check.service_level, 4),
                          "abandon_rate": _round(check.abandon_rate, 4), "asa_s": _round(check.asa_s, 1)},
            "days": days}
