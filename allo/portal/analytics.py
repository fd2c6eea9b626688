"""Search and view analytics for editors: anonymous by construction.

A search is logged as its normalised query (lower case, spaces folded, long digit runs and e-mail
addresses masked so a tax number or an address typed by mistake is not kept), its result count,
top hit and low-confidence flag, on a day (no time, no client). Fiche views are daily counters.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections import Counter

from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from allo.kb.models import Fiche
from allo.portal.models import Feedback, FicheViewDaily, SearchLog

logger = logging.getLogger(__name__)
_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\d[\d .\-/]{3,}\d")
_SPACES = re.compile(r"\s+")
# Control characters (PostgreSQL refuses NUL in text) and lone surrogates (not encodable as UTF-8)
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without what a database refuses to store: control characters become spaces."""
    return _UNSTORABLE.sub(" ", text or "")


def normalise_query(query: str) -> str:
    text = _EMAIL.sub("[courriel]", storable(query))
    text = _DIGITS.sub("[nombre]", text)
    return _SPACES.sub(" ", text).strip().lower()[:200]


def search_event(query: str, theme: str, response) -> dict:
    """What a public search leaves for analytics (a cached results page replays it on each hit)."""
    hits = response.hits
    return {"search": {"q": normalise_query(query), "theme": storable(theme).strip()[:60],
                       "n": min(len(hits), 32767), "top": hits[0].id if hits else "",
                       "low": bool(response.low_confidence) or not hits}}


def view_event(fiche_id: str) -> dict:
    return {"view": fiche_id}


# ---------------------------------------------------------------------- batching in the server
#
# One database write per page view would make every citizen's page wait on the database (and, on
# SQLite, on its single writer). In the server, events are queued in memory and written every
# FLUSH_SECONDS by one thread, views summed per fiche and day: the `Batcher` the composition root
# (allo.bootstrap) builds for a server process and its lifespan starts; elsewhere (tests, commands)
# they are written at once. A kill -9 loses at most the last FLUSH_SECONDS of counts; a normal stop
# flushes them (ASGI lifespan shutdown).

FLUSH_SECONDS = 2.0
MAX_PENDING_SEARCHES = 200_000  # distinct searches kept while the database is unreachable
# A batch refused this many times in a row is written one row at a time, and the rows the database
# still refuses are dropped: one bad event must not stop a process's analytics (issue 14: a search
# for "impot%00" was retried forever, PostgreSQL refusing NUL).
MAX_ATTEMPTS = 3


class _Pending:
    """Events not yet written, already summed: views per fiche and day, searches per day and outcome."""

    def __init__(self):
        self.lock = threading.Lock()
        self.views: Counter = Counter()  # (fiche id, day) -> views
        self.searches: Counter = Counter()  # (day, query, theme, results, top hit, low) -> searches
        self.failures = 0  # writes refused in a row

    def add(self, day: dt.date, event: dict) -> None:
        with self.lock:
            if "view" in event:
                self.views[(event["view"], day)] += 1
            elif "search" in event:
                s = event["search"]
                key = (day, s["q"], s["theme"], s["n"], s["top"], s["low"])
                if key in self.searches or len(self.searches) < MAX_PENDING_SEARCHES:
                    self.searches[key] += 1

    def take(self) -> tuple[Counter, Counter]:
        with self.lock:
            views, searches = self.views, self.searches
            self.views, self.searches = Counter(), Counter()
        return views, searches

    def put_back(self, views: Counter, searches: Counter) -> None:
        """Events a write did not take, summed again with those that came since (within the cap)."""
        with self.lock:
            self.views.update(views)
            for key, n in searches.items():
                if key in self.searches or len(self.searches) < MAX_PENDING_SEARCHES:
                    self.searches[key] += n


_pending = _Pending()  # the events queued in this process, whoever writes them
_batcher: Batcher | None = None  # the one running in this process (started by allo.bootstrap's services)


class Batcher:
    """Writes the queued events every `seconds` from a thread of its own while it runs, and what is
    left when it stops. Built by allo.bootstrap, started and stopped by the ASGI lifespan."""

    def __init__(self, seconds: float = FLUSH_SECONDS):
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Batch events from now on (each server process, at startup; it flushes before stopping)."""
        global _batcher
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="allo-analytics", daemon=True)
        self._thread.start()
        _batcher = self

    def stop(self) -> None:
        """Write what is pending and go back to writing each event at once (server shutdown, tests)."""
        global _batcher
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=self.seconds + 5)
            self._thread = None
        if _batcher is self:
            _batcher = None
        flush()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            flush()


def record(event: dict) -> None:
    """Count one analytics event: {"view": fiche_id} or {"search": {...}} (see search_event)."""
    if _batcher is None:
        one = _Pending()
        one.add(timezone.localdate(), event)
        write(*one.take())
    else:
        _pending.add(timezone.localdate(), event)


def record_later(event: dict) -> None:
    """Queue one event, never touching the database here: for the event loop (page cache hits). The
    running batcher writes it; without one (a test calling the application), the next `flush()`."""
    _pending.add(timezone.localdate(), event)


def stop_batching() -> None:
    """Stop this process's batcher, if one runs, and write what is pending (tests' clean-up)."""
    batcher = _batcher
    if batcher is not None:
        batcher.stop()
    else:
        flush()


def flush() -> int:
    """Write what is pending; returns events written.

    A refused write is kept for the next flush; after MAX_ATTEMPTS refusals in a row the events
    are written one row at a time and those the database still refuses are dropped (logged). While
    the database is unreachable (OperationalError, InterfaceError) events are kept, within the cap.
    """
    views, searches = _pending.take()
    if not views and not searches:
        return 0
    try:
        if not connection.in_atomic_block:  # the flusher thread; a caller's transaction is left alone
            close_old_connections()
        write(views, searches)
    except Exception:
        _pending.failures += 1
        if _pending.failures < MAX_ATTEMPTS:
            logger.exception("analytics: write failed, events kept for the next attempt",
                             extra={"attempt": _pending.failures})
            _pending.put_back(views, searches)
            return 0
        logger.exception("analytics: write failed again, writing the events one by one",
                         extra={"attempt": _pending.failures})
        return _write_each(views, searches)
    _pending.failures = 0
    return sum(views.values()) + sum(searches.values())


def _write_each(views: Counter, searches: Counter) -> int:
    """Write each row in its own transaction; drop the rows refused, keep the rest if the database
    is gone. Returns events written."""
    written = dropped = 0
    rows = [(Counter({key: n}), Counter()) for key, n in searches.items()]
    rows += [(Counter(), Counter({key: n})) for key, n in views.items()]
    for i, (one_search, one_view) in enumerate(rows):
        try:
            write(one_view, one_search)
        except (OperationalError, InterfaceError):
            logger.exception("analytics: database unreachable, events kept for the next attempt")
            for later_search, later_view in rows[i:]:
                _pending.put_back(later_view, later_search)
            break
        except Exception:
            dropped += sum(one_search.values()) + sum(one_view.values())
            continue
        written += sum(one_search.values()) + sum(one_view.values())
    else:
        _pending.failures = 0
    if dropped:
        logger.error("analytics: events refused by the database, dropped", extra={"dropped": dropped})
    return written


def write(views: Counter, searches: Counter) -> None:
    rows = [SearchLog(day=day, query=query, theme=theme, result_count=results, top_hit=top, low_confidence=low,
                      searches=n) for (day, query, theme, results, top, low), n in searches.items()]
    existing = set(Fiche.objects.filter(pk__in={f for f, _ in views}).values_list("pk", flat=True)) if views else set()
    with transaction.atomic():
        if rows:
            SearchLog.objects.bulk_create(rows, batch_size=500)
        for (fiche_id, day), n in views.items():
            if fiche_id in existing:  # a fiche deleted since it was read has no counter left
                _add_views(fiche_id, day, n)


def _add_views(fiche_id: str, day: dt.date, n: int) -> None:
    counters = FicheViewDaily.objects.filter(fiche_id=fiche_id, day=day)
    if counters.update(views=F("views") + n):
        return
    try:
        with transaction.atomic():
            FicheViewDaily.objects.create(fiche_id=fiche_id, day=day, views=n)
    except IntegrityError:  # created concurrently
        counters.update(views=F("views") + n)


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
    total = searches.aggregate(n=Sum("searches"))["n"] or 0
    low = searches.filter(low_confidence=True).aggregate(n=Sum("searches"))["n"] or 0
    top_queries = list(
        searches.values("query").annotate(
            n=Sum("searches"), result_sum=Sum(F("result_count") * F("searches")),
            low=Coalesce(Sum("searches", filter=Q(low_confidence=True)), 0))
        .order_by("-n", "query")[:20]
    )
    for row in top_queries:
        row["results"] = row.pop("result_sum") / row["n"]
    gaps = list(
        searches.filter(low_confidence=True).values("query").annotate(
            n=Sum("searches"), none=Coalesce(Sum("searches", filter=Q(result_count=0)), 0))
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
    daily_searches = dict(searches.values_list("day").annotate(n=Sum("searches")))
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
