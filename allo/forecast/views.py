"""The « Prévisions et effectifs » page (supervisors): the forecast of a few days per interval with its
90 % interval and the agents needed, its chart, its data table and its CSV export (docs/forecast.md)."""

from __future__ import annotations

import csv
import datetime as dt

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.forecast import services
from allo.forecast.charts import forecast_chart
from allo.forecast.models import WEEKDAY_NAMES
from allo.history.models import Queue

PERIODS = (1, 7, 14)  # days shown (the page computes them as it renders: a week ~0.3 s, see docs)
COLUMNS = ("start", "expected", "low", "high", "agents", "scheduled", "service_level", "asa_s", "abandon_rate",
           "occupancy")


def _choice(request) -> tuple[dt.date, int, str, int, str]:
    """?du=AAAA-MM-JJ (default tomorrow), ?jours= (1, 7, 14), ?file= (empty: the line), ?intervalle=."""
    errors = []
    tomorrow = services._today() + dt.timedelta(days=1)
    try:
        first = dt.date.fromisoformat(request.GET.get("du", ""))
    except ValueError:
        if request.GET.get("du"):
            errors.append("Date invalide : choisissez un jour.")
        first = tomorrow
    try:
        days = int(request.GET.get("jours", "7"))
    except ValueError:
        days = 0
    if days not in PERIODS:
        errors.append("Durée invalide : 1, 7 ou 14 jours.")
        days = 7
    try:
        interval = int(request.GET.get("intervalle", "60"))
    except ValueError:
        interval = 0
    if interval not in services.INTERVALS:
        errors.append("Intervalle invalide : 15, 30 ou 60 minutes.")
        interval = 60
    queue = request.GET.get("file", "")
    if queue and not Queue.objects.filter(code=queue).exists():
        errors.append(f"File inconnue : « {queue} ».")
        queue = ""
    return first, days, queue, interval, " ".join(errors)


def _compute(first: dt.date, days: int, queue: str, interval: int) -> tuple[dict | None, str]:
    try:
        return services.staffing(first, first + dt.timedelta(days=days - 1), queue or None, interval), ""
    except services.ForecastError as e:
        return None, str(e)


@roles(Role.SUPERVISOR)
@require_GET
def forecast(request):
    first, days, queue, interval, error = _choice(request)
    data, failure = _compute(first, days, queue, interval)
    by_day = []
    if data:
        rows: dict[str, list] = {}
        for r in data["intervals"]:
            r["time"] = r["start"][11:16]
            rows.setdefault(r["start"][:10], []).append(r)
        for d in data["days"]:
            d["day"] = dt.date.fromisoformat(d["date"])
            d["label"] = services.KIND_LABELS[d["kind"]]
            by_day.append((d, rows.get(d["date"], [])))
        data["history"]["first"] = dt.date.fromisoformat(data["history"]["from"])  # shown as French dates
        data["history"]["last"] = dt.date.fromisoformat(data["history"]["to"])
    query = f"du={first:%Y-%m-%d}&jours={days}&intervalle={interval}" + (f"&file={queue}" if queue else "")
    return render(request, "forecast/forecast.html", {
        "data": data, "error": error, "failure": failure, "first": first, "days": days,
        "last": first + dt.timedelta(days=days - 1), "periods": PERIODS,
        "queue": queue, "queues": Queue.objects.all(), "interval": interval, "intervals": services.INTERVALS,
        "by_day": by_day, "csv_query": query,
        "chart": forecast_chart(data["intervals"], "previsions-titre-graphique") if data else "",
    })


@roles(Role.SUPERVISOR)
@require_GET
def forecast_csv(request):
    first, days, queue, interval, _ = _choice(request)
    data, _ = _compute(first, days, queue, interval)  # no forecast (no history): the header row alone
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"previsions-{first:%Y-%m-%d}-{days}j{'-' + queue if queue else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # a spreadsheet then reads UTF-8
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    for r in data["intervals"] if data else []:
        writer.writerow([r[c] for c in COLUMNS])
    return response


@roles(Role.SUPERVISOR)
@require_GET
def shift_plan(request):
    """The week's shift plan from the admin's templates and its simulated service level (~1.3 s for a week
    of 6,000 calls: rendered directly, see docs/forecast.md)."""
    error = ""
    today = services._today()
    next_monday = today + dt.timedelta(days=7 - today.weekday())
    try:
        monday = dt.date.fromisoformat(request.GET.get("semaine", ""))
    except ValueError:
        if request.GET.get("semaine"):
            error = "Date invalide : choisissez le lundi de la semaine."
        monday = next_monday
    monday -= dt.timedelta(days=monday.weekday())  # the week of the chosen day
    queue = request.GET.get("file", "")
    if queue and not Queue.objects.filter(code=queue).exists():
        error, queue = f"File inconnue : « {queue} ».", ""
    data, failure = None, ""
    try:
        data = services.shift_plan(monday, queue or None)
    except services.ForecastError as e:
        failure = str(e)
    if data:
        for d in data["days"]:
            d["day"] = dt.date.fromisoformat(d["date"])
            d["short"] = [r for r in d["intervals"] if r["short"]]
            d["short_total"] = sum(r["short"] for r in d["intervals"])
        for t in data["templates"]:
            t["days_label"] = ", ".join(WEEKDAY_NAMES[w] for w in t["weekdays"])
        sl = data["simulated"]["service_level"]
        data["reached"] = sl is not None and sl >= data["target"]
    return render(request, "forecast/shift_plan.html", {
        "data": data, "error": error, "failure": failure, "monday": monday, "queue": queue,
        "queues": Queue.objects.all(),
    })
