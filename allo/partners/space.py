"""The figures of a partner's space: the calls the line absorbed for it, per day and per hour of a month,
answered at N1, transferred to N2 or returned to it (fiche de liaison), its top themes and fiches.

Counted on the contacts the router keeps (`Contact.partner`, the partner the call was taken for:
the routing rules decided it, overflow-only partners included) and computed by `allo.routing.kpi`,
as the wallboard's figures (`contact_centre.services.live_stats`): one definition of each KPI. The
stored bins of `allo/history` are keyed by the dialed number (`origin`), per day at the finest,
and have no cross of origin × destination × fiche de liaison: they cannot tell these figures
(docs/partners.md, « What is left »).

The three outcomes are disjoint: a call with a fiche de liaison to the partner counts as returned;
else a call transferred to N2 as transferred; else a call answered at N1 as answered at N1.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate

from allo.partners.models import Liaison, Partner
from allo.reports.tables import DATE, INT, PERCENT, Column, Table, month_label
from allo.routing import kpi

COLUMNS = [("offered", "Appels reçus"), ("answered_n1", "Répondus au niveau 1"),
           ("transferred", "Transférés au niveau 2"), ("returned", "Transmis au partenaire (fiche de liaison)"),
           ("abandoned", "Abandonnés"), ("service_level", "Taux de service")]


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_of(value: str, today: dt.date | None = None) -> tuple[dt.date, str]:
    """The month asked (`AAAA-MM`), else the current one, with a French error for a bad value."""
    today = today or dt.datetime.now(tz()).date()
    try:
        return dt.datetime.strptime(value or "", "%Y-%m").date(), ""
    except ValueError:
        return today.replace(day=1), ("Mois invalide : choisissez un mois dans la liste." if value else "")


def month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def calls_of(partner: Partner, first: dt.date, last: dt.date):
    from allo.contact_centre.models import Contact

    start = dt.datetime.combine(first, dt.time(), tzinfo=tz())
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz())
    return Contact.objects.filter(partner=partner, channel="call", created__gte=start, created__lt=end)


def _counters() -> dict:
    answered1 = Q(answered=True, waited_s__isnull=False)  # answered at N1, as the wallboard counts it
    abandoned1 = Q(outcome="abandoned", level=1)
    returned = Q(returned=True)
    transferred = ~Q(transferred_to="") & ~returned
    return {
        "n_arrived": Count("pk"),
        "n_closed": Count("pk", filter=Q(outcome="closed", level=1)),
        "n_answered": Count("pk", filter=answered1),
        "n_answered_within": Count("pk", filter=answered1 & Q(waited_s__lte=kpi.SERVICE_LEVEL_S)),
        "n_waited_total": Sum("waited_s", filter=answered1),
        "n_abandoned": Count("pk", filter=abandoned1),
        "n_abandoned_short": Count("pk", filter=abandoned1 & Q(waited_s__lt=kpi.SHORT_ABANDON_S)),
        "n_lost": Count("pk", filter=Q(outcome="lost")),
        "x_returned": Count("pk", filter=returned),
        "x_transferred": Count("pk", filter=transferred),
        "x_answered_n1": Count("pk", filter=answered1 & Q(transferred_to="") & ~returned),
    }


def _figures(row: dict) -> dict:
    counted = kpi.counted_figures(**{k.removeprefix("n_"): row.get(k) or 0 for k in _counters()
                                     if k.startswith("n_")})
    return {"offered": counted["offered"], "answered": counted["answered"], "abandoned": counted["abandoned"],
            "service_level": counted["service_level"], "asa_s": counted["asa_s"],
            "answered_n1": row.get("x_answered_n1") or 0, "transferred": row.get("x_transferred") or 0,
            "returned": row.get("x_returned") or 0}


def report(partner: Partner, first: dt.date) -> dict:
    """The month of `first` for one partner: per day (every day), per hour (0-23), in total."""
    last = month_end(first)
    calls = calls_of(partner, first, last).annotate(
        returned=Exists(Liaison.objects.filter(contact=OuterRef("pk"), partner=partner)))
    local = tz()
    by_day = {r["day"]: r for r in calls.annotate(day=TruncDate("created", tzinfo=local)).values("day")
              .annotate(**_counters())}
    by_hour = {r["hour"]: r for r in calls.annotate(hour=ExtractHour("created", tzinfo=local)).values("hour")
               .annotate(**_counters())}
    total = calls.aggregate(**_counters())
    days = []
    day = first
    while day <= last:
        days.append({"day": day, **_figures(by_day.get(day, {}))})
        day += dt.timedelta(days=1)
    hours = [{"hour": h, **_figures(by_hour.get(h, {}))} for h in range(24)]
    return {"first": first, "last": last, "label": month_label(first), "days": days, "hours": hours,
            "total": _figures(total), "peak": max((h["offered"] for h in hours), default=0)}


def top_questions(partner: Partner, first: dt.date, limit: int = 10) -> dict:
    """The themes and fiches N1 agents noted in their wrap-ups of the partner's calls that month."""
    from allo.contact_centre.models import WrapUp
    from allo.kb.models import Fiche

    wrapups = WrapUp.objects.filter(contact__in=calls_of(partner, first, month_end(first)), level=1)
    themes = list(wrapups.exclude(top_theme=None).values("top_theme__label").annotate(n=Count("pk"))
                  .order_by("-n", "top_theme__label")[:limit])
    fiche_counts = Counter(f for fiches in wrapups.values_list("fiches", flat=True) for f in (fiches or []))
    top = fiche_counts.most_common(limit)
    titles = dict(Fiche.objects.filter(pk__in=[f for f, _ in top]).values_list("pk", "title"))
    return {"themes": [{"label": t["top_theme__label"], "n": t["n"]} for t in themes],
            "fiches": [{"id": f, "title": titles.get(f, f), "n": n} for f, n in top]}


def report_tables(partner: Partner, data: dict) -> list[Table]:
    """The month as tables (CSV, ODS): per day with its total, per local hour; numbers stay numbers, the
    service level a fraction shown as a percentage."""
    columns = [Column(label, PERCENT if k == "service_level" else INT) for k, label in COLUMNS]

    def row(first, d):
        return [first, *(d[k] for k, _ in COLUMNS)]

    return [
        Table("Par jour", f"{partner.name} : appels pris en charge par le 3939, {data['label']}",
              [Column("jour", DATE), *columns], [*(row(d["day"], d) for d in data["days"]), row("total", data["total"])]),
        Table("Par heure", f"{partner.name}, {data['label']} : par heure", [Column("heure"), *columns],
              [row(f"{h['hour']:02d} h", h) for h in data["hours"]]),
    ]
