"""The « Bilan » page (supervisors): a month per day for the line or one queue, its chart, its data table
and its CSV export, all read from the stored aggregates (docs/reports.md)."""

from __future__ import annotations

import csv
import datetime as dt

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.history import services
from allo.history.charts import daily_chart
from allo.history.models import Queue, Stat

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def _choice(request) -> tuple[dt.date, dt.date, str, str]:
    """The month (?mois=AAAA-MM, by default the latest with figures) and queue (?file=, empty: the line)."""
    error = ""
    try:
        first = dt.datetime.strptime(request.GET.get("mois", ""), "%Y-%m").date()
    except ValueError:
        if request.GET.get("mois"):
            error = "Mois invalide : choisissez un mois dans la liste."
        latest = Stat.objects.filter(grain="1M").order_by("-period").values_list("period", flat=True).first()
        first = latest or dt.date.today().replace(day=1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    queue = request.GET.get("file", "")
    if queue and not Queue.objects.filter(code=queue).exists():
        error, queue = f"File inconnue : « {queue} ».", ""
    return first, last, queue, error


@roles(Role.SUPERVISOR)
@require_GET
def bilan(request):
    first, last, queue, error = _choice(request)
    data = services.report(first, last, queue or None)
    for d in data["days"]:
        d["day"] = dt.date.fromisoformat(d["date"])
    return render(request, "history/bilan.html", {
        "data": data, "error": error, "month": first, "month_label": f"{MONTHS[first.month - 1]} {first.year}",
        "queue": queue, "queues": Queue.objects.all(), "chart": daily_chart(data["days"], "bilan-titre-graphique"),
        "csv_query": f"mois={first:%Y-%m}" + (f"&file={queue}" if queue else ""),
    })


@roles(Role.SUPERVISOR)
@require_GET
def bilan_csv(request):
    first, last, queue, _ = _choice(request)
    data = services.report(first, last, queue or None)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"bilan-{first:%Y-%m}{'-' + queue if queue else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # a spreadsheet then reads UTF-8
    writer = csv.writer(response)
    for row in services.report_rows(data):
        writer.writerow(row)
    return response
