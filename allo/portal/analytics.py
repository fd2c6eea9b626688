"""Search and view analytics for editors: anonymous by construction.

A search is logged as its normalised query (lower case, spaces folded, long digit runs and e-mail
addresses masked so a tax number or an address typed by mistake is not kept), its result count,
top hit and low-confidence flag, on a day (no time, no client). Fiche views are daily counters.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Q, Sum
from django.utils import timezone

from allo.kb.models import Fiche
from allo.portal.models import Feedback, FicheViewDaily, SearchLog

_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\d[\d .\-/]{3,}\d")
_SPACES = re.compile(r"\s+")


def normalise_query(query: str) -> str:
    text = _EMAIL.sub("[courriel]", query or "")
    text = _DIGITS.sub("[nombre]", text)
    return _SPACES.sub(" ", text).strip().lower()[:200]


def log_search(query: str, theme: str, response) -> None:
    hits = response.hits
    SearchLog.objects.create(
        day=timezone.localdate(), query=normalise_query(query), theme=(theme or "")[:60],
        result_count=min(len(hits), 32767), top_hit=hits[0].id if hits else "",
        low_confidence=bool(response.low_confidence) or not hits,
    )


def log_fiche_view(fiche_id: str) -> None:
    day = timezone.localdate()
    counters = FicheViewDaily.objects.filter(fiche_id=fiche_id, day=day)
    if counters.update(views=F("views") + 1):
        return
    try:
        with transaction.atomic():
            FicheViewDaily.objects.create(fiche_id=fiche_id, day=day, views=1)
    except IntegrityError:  # created concurrently
        counters.update(views=F("views") + 1)


def popular_fiche_ids(days: int = 30, limit: int = 8) -> list[str]:
    since = timezone.localdate() - dt.timedelta(days=days)
    return list(
        FicheViewDaily.objects.filter(day__gte=since, fiche__status=Fiche.Status.PUBLISHED)
        .values("fiche_id").annotate(n=Sum("views")).order_by("-n", "fiche_id").values_list("fiche_id", flat=True)[:limit]
    )


def editor_stats(days: int = 30) -> dict:
    """Everything the editors' statistics page shows, over the last `days` days (today included)."""
    today = timezone.localdate()
    since = today - dt.timedelta(days=days - 1)
    searches = SearchLog.objects.filter(day__gte=since)
    total = searches.count()
    low = searches.filter(low_confidence=True).count()
    top_queries = list(
        searches.values("query").annotate(
            n=Count("id"), results=Avg("result_count"), low=Count("id", filter=Q(low_confidence=True)))
        .order_by("-n", "query")[:20]
    )
    gaps = list(
        searches.filter(low_confidence=True).values("query").annotate(
            n=Count("id"), none=Count("id", filter=Q(result_count=0)))
        .order_by("-n", "query")[:20]
    )
    gap_top = dict(searches.filter(low_confidence=True).exclude(top_hit="").values_list("query", "top_hit"))
    for row in gaps:
        row["top_hit"] = gap_top.get(row["query"], "")
    views = FicheViewDaily.objects.filter(day__gte=since)
    viewed = list(
        views.values("fiche_id", "fiche__title").annotate(n=Sum("views")).order_by("-n", "fiche_id")[:15]
    )
    feedback = Feedback.objects.filter(created_at__date__gte=since)
    per_fiche = list(
        feedback.values("fiche_id", "fiche__title").annotate(
            yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)))
        .order_by("-no", "yes", "fiche_id")[:20]
    )
    for row in per_fiche:
        row["share"] = round(100 * row["yes"] / (row["yes"] + row["no"])) if row["yes"] + row["no"] else None
    daily_searches = dict(searches.values_list("day").annotate(n=Count("id")))
    daily_views = dict(views.values_list("day").annotate(n=Sum("views")))
    daily = [
        (since + dt.timedelta(days=i), daily_searches.get(since + dt.timedelta(days=i), 0),
         daily_views.get(since + dt.timedelta(days=i), 0))
        for i in range(days)
    ]
    return {
        "days": days, "since": since, "today": today,
        "total_searches": total, "low_searches": low,
        "low_share": round(100 * low / total) if total else 0,
        "distinct_queries": searches.values("query").distinct().count(),
        "total_views": views.aggregate(n=Sum("views"))["n"] or 0,
        "feedback_yes": feedback.filter(helpful=True).count(),
        "feedback_no": feedback.filter(helpful=False).count(),
        "top_queries": top_queries, "gaps": gaps, "viewed": viewed, "per_fiche": per_fiche,
        "comments": list(feedback.exclude(comment="").select_related("fiche")[:20]),
        "daily": daily,
    }


def fiche_feedback_summary(fiche_id: str, comments: int = 5) -> dict:
    rows = Feedback.objects.filter(fiche_id=fiche_id)
    counts = rows.aggregate(yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)))
    total = counts["yes"] + counts["no"]
    return {
        "yes": counts["yes"], "no": counts["no"], "total": total,
        "share": round(100 * counts["yes"] / total) if total else None,
        "comments": list(rows.exclude(comment="")[:comments]),
    }
