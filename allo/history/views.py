"""The « Bilan » page (supervisors): a month per day for the line or one queue, its chart, its data
tables, and the same tables as CSV, ODS and XLSX with the monthly PDF report, all read from the stored
aggregates (docs/reports.md)."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.history import exports
from allo.history.charts import daily_chart
from allo.history.models import Queue, Stat
from allo.reports import spreadsheets
from allo.reports.http import download, pdf_download, size_label


def _choice(request) -> tuple[dt.date, dt.date, str, str]:
    """The month (?mois=AAAA-MM, by default default_month()) and queue (?file=, empty: the line)."""
    error = ""
    try:
        first = dt.datetime.strptime(request.GET.get("mois", ""), "%Y-%m").date()
    except ValueError:
        if request.GET.get("mois"):
            error = "Mois invalide : choisissez un mois dans la liste."
        first = default_month()
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    queue = request.GET.get("file", "")
    if queue and not Queue.objects.filter(code=queue).exists():
        error, queue = f"File inconnue : « {queue} ».", ""
    return first, last, queue, error


CLOSING_DAYS = 7  # the previous month's « bilan » is the one written in the first days of a month


def default_month(today: dt.date | None = None) -> dt.date:
    """The latest month with figures; in its first CLOSING_DAYS days, the month before it when that one has
    figures (the monthly « bilan » is reported then, and a month of one or two days says little)."""
    months = list(Stat.objects.filter(grain="1M", dim="all").order_by("-period").values_list("period", flat=True)
                  .distinct()[:2])
    today = today or timezone.localdate()
    if not months:
        return today.replace(day=1)
    if len(months) == 2 and months[0] == today.replace(day=1) and today.day <= CLOSING_DAYS:
        return months[1]
    return months[0]


# format -> (link text, format shown in the link's detail); the report's tables in every one
DOWNLOADS = {"csv": ("Télécharger les données (CSV)", "CSV"), "ods": ("Télécharger les données (ODS)", "ODS"),
             "xlsx": ("Télécharger les données (XLSX)", "XLSX"), "pdf": ("Rapport mensuel (PDF)", "PDF")}


def _files(b: exports.Bilan, fmt: str) -> tuple[bytes, str, str]:
    """(bytes, content type, file name) of the « bilan » in a spreadsheet format."""
    body, content_type = spreadsheets.render(b.tables, fmt)
    return body, content_type, b.filename(fmt)


@roles(Role.SUPERVISOR)
@require_GET
def bilan(request):
    first, last, queue, error = _choice(request)
    b = exports.bilan(first, last, queue or None)
    query = f"mois={first:%Y-%m}" + (f"&file={queue}" if queue else "")
    downloads = []
    for fmt, (text, shown) in DOWNLOADS.items():
        if fmt == "pdf":  # set in pages on demand (a second or more), so what it is, not its size
            name, detail = b.filename("pdf", stem="rapport-mensuel"), "accessible (balisé)"
        else:  # the spreadsheets take milliseconds: their exact size, as DSFR's download links give it
            body, _, name = _files(b, fmt)
            detail = size_label(len(body))
        downloads.append({"url": f"{reverse(f'supervision-bilan-{fmt}')}?{query}", "text": text, "name": name,
                          "detail": f"{shown} – {detail}"})
    return render(request, "history/bilan.html", {
        "data": b.data, "bilan": b, "error": error, "month": first, "month_label": b.label,
        "queue": queue, "queues": Queue.objects.all(), "chart": daily_chart(b.data["days"], "bilan-titre-graphique"),
        "downloads": downloads,
    })


@roles(Role.SUPERVISOR)
@require_GET
def bilan_export(request, fmt: str):
    """The month's « bilan » as a file: its tables (CSV, ODS, XLSX) or the monthly report (PDF)."""
    first, last, queue, _ = _choice(request)
    b = exports.bilan(first, last, queue or None)
    if fmt == "pdf":
        return pdf_download(lambda: exports.report_pdf(b), b.filename("pdf", stem="rapport-mensuel"))
    return download(*_files(b, fmt))
