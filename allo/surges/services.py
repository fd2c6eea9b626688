"""Topical surges, the database side (docs/surges.md).

`scan()` runs every minute in each server process (allo/project/asgi.py) and from `allo surges scan`:

1. it counts what came since the last scan, per quarter hour, fiche and theme (`Tally`): the wrap-ups'
   fiches and themes (calls), the portal's searches (their first result and theme filter) and views
   (the difference of the portal's daily counters since the previous scan, in the scan's quarter);
2. for each signal and key it compares the last hour with the same hour of the previous weeks
   (allo/surges/detector.py) and opens, updates or ends `Surge` records.

Every scan first updates the `lock` cursor row and does all its work in that transaction: a second
process waits for it, then reads the cursors it moved, so no row is counted twice and no surge is
opened twice (a partial unique constraint stands behind that too).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone

from allo.forecast import staffing as stf
from allo.surges import detector
from allo.surges.models import Cursor, Dim, SeenViews, Signal, Surge, Tally

QUARTER = dt.timedelta(minutes=15)
WINDOW_QUARTERS = 4  # the last hour, to the quarter: the running quarter and the three before it
BASELINE_WEEKS = 4  # the same hour in the last four weeks (a month: a monthly deadline weighs once)
BATCH = 20_000  # wrap-ups read per query
KEEP_WEEKS = BASELINE_WEEKS + 1  # tallies older than the baseline's reach are deleted
RULES = {Signal.CALLS: detector.CALLS, Signal.SEARCHES: detector.SEARCHES, Signal.VIEWS: detector.VIEWS}


def quarter(at: dt.datetime) -> dt.datetime:
    """The start of the quarter hour `at` falls in (the time zone's offset is whole quarters)."""
    at = at.astimezone(dt.UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _weeks_before(at: dt.datetime, weeks: int) -> dt.datetime:
    """The same local wall-clock time `weeks` weeks earlier: across a change to or from summer time
    the same hour of the day, not the same UTC instant."""
    zone = _zone()
    local = at.astimezone(zone).replace(tzinfo=None) - dt.timedelta(weeks=weeks)
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


# ------------------------------------------------------------------------------------------ counting

def _cursor(name: str) -> Cursor:
    return Cursor.objects.get_or_create(name=name)[0]


def _add(counts: Counter) -> None:
    """Add counts {(signal, dim, key, start): n} to the tallies."""
    if not counts:
        return
    starts = {c[3] for c in counts}
    keys = {c[2] for c in counts}
    existing = {(t.signal, t.dim, t.key, t.start): t
                for t in Tally.objects.filter(start__in=starts, key__in=keys)}
    changed, new = [], []
    for bin_, n in counts.items():
        row = existing.get(bin_)
        if row is None:
            new.append(Tally(signal=bin_[0], dim=bin_[1], key=bin_[2], start=bin_[3], count=n))
        else:
            row.count += n
            changed.append(row)
    Tally.objects.bulk_update(changed, ["count"], batch_size=1000)
    Tally.objects.bulk_create(new, batch_size=1000)


def _count_wrapups(now: dt.datetime) -> int:
    """Wrap-ups since the last scan: each cited fiche, its chosen theme node and that node's top theme,
    in the quarter the wrap-up was written. The first scan reads the last weeks the baseline needs."""
    from allo.contact_centre.models import WrapUp

    cursor = _cursor("wrapups")
    rows = WrapUp.objects.order_by("pk")
    if cursor.since is None:
        rows = rows.filter(created__gte=now - dt.timedelta(weeks=BASELINE_WEEKS + 1))
        earliest = rows.aggregate(at=Min("created"))["at"]
        cursor.since = quarter(earliest or now)  # counted from there: a week before it is unknown
    read = 0
    while True:
        batch = list(rows.filter(pk__gt=cursor.value).values_list("pk", "created", "fiches", "theme_id",
                                                                   "top_theme_id")[:BATCH])
        if not batch:
            break
        counts: Counter = Counter()
        for _, created, fiches, theme, top_theme in batch:
            start = quarter(created)
            for fiche in set(fiches or []):
                counts[(Signal.CALLS, Dim.FICHE, str(fiche)[:80], start)] += 1
            for slug in {theme, top_theme} - {None}:
                counts[(Signal.CALLS, Dim.THEME, slug, start)] += 1
        _add(counts)
        cursor.value = batch[-1][0]
        read += len(batch)
    cursor.save()
    return read


def _themes_of(fiche_ids) -> dict[str, str]:
    from allo.kb.models import Fiche

    return dict(Fiche.objects.filter(pk__in=set(fiche_ids)).values_list("pk", "theme_id"))


def _count_searches(now: dt.datetime) -> int:
    """Portal searches written since the last scan, in the scan's quarter (the portal keeps no time of
    day; its writes are at most seconds old): the fiche found first, and the theme filter."""
    from allo.portal.models import SearchLog

    cursor = _cursor("searches")
    if cursor.since is None:  # the portal's past has no time of day: counted from now on
        cursor.value = SearchLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        cursor.since = quarter(now)
        cursor.save()
        return 0
    rows = list(SearchLog.objects.filter(pk__gt=cursor.value).order_by("pk")
                .values_list("pk", "top_hit", "theme", "searches"))
    if not rows:
        return 0
    start = quarter(now)
    counts: Counter = Counter()
    for _, top, theme, n in rows:
        if top:
            counts[(Signal.SEARCHES, Dim.FICHE, top[:80], start)] += n
        if theme:
            counts[(Signal.SEARCHES, Dim.THEME, theme[:80], start)] += n
    _add(counts)
    cursor.value = rows[-1][0]
    cursor.save()
    return sum(n for *_, n in rows)


def _count_views(now: dt.datetime) -> int:
    """Portal views since the last scan: each fiche's daily counter (today's and yesterday's, which
    may still grow for a few seconds after midnight) against what the last scan read."""
    from allo.portal.models import FicheViewDaily

    cursor = _cursor("views")
    first = cursor.since is None
    today = now.astimezone(_zone()).date()
    days = (today - dt.timedelta(days=1), today)
    current = {(f, d): v for f, d, v in FicheViewDaily.objects.filter(day__in=days)
               .values_list("fiche_id", "day", "views")}
    seen = {(s.fiche_id, s.day): s for s in SeenViews.objects.filter(day__in=days)}
    deltas: Counter = Counter()
    changed, new = [], []
    for (fiche, day), views in current.items():
        row = seen.get((fiche, day))
        if row is None:
            new.append(SeenViews(fiche_id=fiche, day=day, views=views))
            if not first:
                deltas[fiche] += views
        elif views > row.views:
            deltas[fiche] += views - row.views
            row.views = views
            changed.append(row)
    SeenViews.objects.bulk_update(changed, ["views"], batch_size=1000)
    SeenViews.objects.bulk_create(new, batch_size=1000)
    SeenViews.objects.filter(day__lt=days[0]).delete()
    if first:
        cursor.since = quarter(now)
        cursor.save()
        return 0
    start = quarter(now)
    themes = _themes_of(deltas)
    counts: Counter = Counter()
    for fiche, n in deltas.items():
        counts[(Signal.VIEWS, Dim.FICHE, fiche, start)] += n
        if themes.get(fiche):
            counts[(Signal.VIEWS, Dim.THEME, themes[fiche], start)] += n
    _add(counts)
    return sum(deltas.values())


# ------------------------------------------------------------------------------------------ detection

def _window_sums(signal: str, dim: str, first: dt.datetime, last: dt.datetime, keys=None) -> dict[str, int]:
    rows = Tally.objects.filter(signal=signal, dim=dim, start__gte=first, start__lte=last)
    if keys is not None:
        rows = rows.filter(key__in=keys)
    return dict(rows.values("key").annotate(n=Sum("count")).values_list("key", "n"))


def readings(signal: str, dim: str, now: dt.datetime, active: set[str]) -> list[detector.Reading]:
    """The detector's reading of every key seen in the last hour or surging before, for one signal."""
    rule = RULES[signal]
    last = quarter(now)
    first = last - QUARTER * (WINDOW_QUARTERS - 1)
    observed = _window_sums(signal, dim, first, last)
    # a key under half the minimum can neither start nor go on: its baseline is not read
    candidates = {k for k, n in observed.items() if n >= rule.min_count / 2} | active
    since = _cursor({Signal.CALLS: "wrapups", Signal.SEARCHES: "searches", Signal.VIEWS: "views"}[signal]).since
    past: dict[str, list[float]] = defaultdict(list)
    side = dt.timedelta(hours=(detector.SPAN_HOURS - 1) / 2)  # the hours either side of the same hour
    for week in range(1, BASELINE_WEEKS + 1):
        week_first = _weeks_before(first - side, week)
        if since is None or week_first < since:
            break  # not counted that far back: an unknown week is not a week of zeros
        sums = _window_sums(signal, dim, week_first, _weeks_before(last + side, week), candidates)
        for key in candidates:
            past[key].append(sums.get(key, 0) / detector.SPAN_HOURS)
    return detector.scan({k: observed.get(k, 0) for k in candidates}, past, active, rule)


def staffing_inputs() -> stf.Inputs:
    """What Erlang A needs for the extra agents: handle time and patience measured in the history
    (allo/forecast), else the default scenario's; the N1 queue's service-level target; no shrinkage
    (the agents are needed on the phones now, not in a plan)."""
    from allo.forecast import services as forecast
    from allo.forecast.model import ForecastError
    from allo.routing import kpi
    from allo.simulation.scenario import load_scenario
    from allo.simulation.traffic import lognormal_mean

    try:
        measured = forecast.measured()
    except ForecastError:
        measured = {}
    scenario = load_scenario(None)
    aht = measured.get("aht_s") or lognormal_mean(scenario.talk1_median, scenario.talk1_p90) + scenario.wrap1
    patience = measured.get("patience_s") or scenario.patience1
    target, _ = forecast.service_level_target()
    return stf.Inputs(aht_s=aht, patience_s=patience, target=target, target_s=kpi.SERVICE_LEVEL_S, shrinkage=0.0)


def _calls_last_hour(now: dt.datetime) -> int:
    from allo.contact_centre.models import Contact

    return Contact.objects.filter(created__gte=now - dt.timedelta(hours=1), created__lte=now, level=1).count()


@dataclass
class ScanResult:
    counted: dict[str, int]
    started: list[Surge]
    ended: list[Surge]
    open: int


def scan(now: dt.datetime | None = None) -> ScanResult:
    """Count what came since the last scan and open, update or end the surges (see the module's
    docstring)."""
    now = now or timezone.now()
    with transaction.atomic():
        # a write first, held until the transaction ends (on SQLite, a read first would make a second
        # process's write fail at once instead of waiting its turn)
        if not Cursor.objects.filter(name="lock").update(since=now):
            Cursor.objects.get_or_create(name="lock", defaults={"since": now})
        counted = {"calls": _count_wrapups(now), "searches": _count_searches(now), "views": _count_views(now)}
        for signal in Signal:  # per signal and dim: the index's prefix
            for dim in Dim:
                Tally.objects.filter(signal=signal, dim=dim, start__lt=now - dt.timedelta(weeks=KEEP_WEEKS)).delete()
        started, ended = [], []
        inputs = base = None
        for signal in Signal:
            for dim in Dim:
                open_surges = {s.key: s for s in Surge.objects.filter(signal=signal, dim=dim, ended__isnull=True)}
                for r in readings(signal, dim, now, set(open_surges)):
                    extra = None
                    if signal == Signal.CALLS and r.surging:
                        if inputs is None:
                            inputs, base = staffing_inputs(), _calls_last_hour(now)
                        extra = detector.extra_agents(base, r.observed - r.expected, inputs)
                    surge = open_surges.get(r.key)
                    if r.started:
                        surge = Surge(signal=signal, dim=dim, key=r.key, started=now)
                        started.append(surge)
                    elif surge is None:
                        continue
                    surge.observed, surge.expected, surge.ratio, surge.updated = r.observed, r.expected, r.ratio, now
                    if r.surging:
                        surge.extra_agents = extra
                        if r.ratio >= surge.peak_ratio:
                            surge.peak_ratio, surge.peak_observed = r.ratio, r.observed
                    if r.ended:
                        surge.ended = now
                        ended.append(surge)
                    surge.save()
        return ScanResult(counted, started, ended, Surge.objects.filter(ended__isnull=True).count())


# ------------------------------------------------------------------------------------------ reading

SIGNAL_PHRASES = {  # (count noun, plural, « attendu » agreed with it: singular under 2, as French has it)
    Signal.CALLS: ("appel", "appels", "attendu", "attendus"),
    Signal.SEARCHES: ("recherche sur le portail", "recherches sur le portail", "attendue", "attendues"),
    Signal.VIEWS: ("consultation sur le portail", "consultations sur le portail", "attendue", "attendues"),
}


def french_number(x: float) -> str:
    """« 3 », « 2,5 »: one decimal at most, French decimal comma."""
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


@dataclass
class Alert:
    surge: Surge
    label: str  # the fiche's title or the theme's label
    url: str  # where an editor reviews the fiche, or empty
    summary: str  # « 42 appels dans la dernière heure pour 6 attendus (× 7) »
    includes: list[str] = field(default_factory=list)  # a theme's: its fiches surging on the same signal
    read_url: str = ""  # the fiche as every staff member reads it (supervisors included)

    @property
    def is_fiche(self) -> bool:
        return self.surge.dim == Dim.FICHE


def _summary(s: Surge) -> str:
    one, many, expected_one, expected_many = SIGNAL_PHRASES[s.signal]
    noun = one if s.observed < 2 else many
    expected = expected_one if s.expected < 2 else expected_many
    return (f"{s.observed} {noun} dans la dernière heure pour {french_number(s.expected)} {expected} "
            f"(× {french_number(detector.window_ratio(s.observed, s.expected))})")


def alerts(dim: str | None = None, signal: str | None = None) -> list[Alert]:
    """The open surges, the strongest first, with what a person reads about each."""
    from django.urls import reverse

    from allo.kb.models import Fiche, Theme

    surges = Surge.objects.filter(ended__isnull=True)
    if dim:
        surges = surges.filter(dim=dim)
    if signal:
        surges = surges.filter(signal=signal)
    surges = sorted(surges, key=lambda s: (s.signal != Signal.CALLS, -s.ratio, s.key))
    fiches = {f.pk: f for f in Fiche.objects.filter(pk__in={s.key for s in surges if s.dim == Dim.FICHE})
              .only("pk", "title", "collection", "theme_id")}
    # a theme's surge often is its fiche's: said on the theme's line, so its agents are not added twice
    in_theme: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in surges:
        if s.dim == Dim.FICHE and s.key in fiches:
            in_theme[(s.signal, fiches[s.key].theme_id)].append(f"la fiche « {fiches[s.key].title} »")
    themes = dict(Theme.objects.filter(pk__in={s.key for s in surges if s.dim == Dim.THEME})
                  .values_list("pk", "label"))
    out = []
    for s in surges:
        if s.dim == Dim.FICHE:
            fiche = fiches.get(s.key)
            if fiche is None:
                continue  # an unknown id in a wrap-up or a deleted fiche: nothing to show or review
            view = "kb-fiche" if fiche.is_official else "kb-edit"  # official text: reviewed with the DILA
            out.append(Alert(s, fiche.title, reverse(view, args=[fiche.pk]), _summary(s),
                             read_url=reverse("kb-fiche", args=[fiche.pk])))
        else:
            out.append(Alert(s, themes.get(s.key, s.key), "", _summary(s), in_theme.get((s.signal, s.key), [])))
    return out


def labels(surges) -> dict[tuple[str, str], str]:
    """(dim, key) -> the fiche's title or the theme's label, for a list of surges."""
    from allo.kb.models import Fiche, Theme

    fiches = dict(Fiche.objects.filter(pk__in={s.key for s in surges if s.dim == Dim.FICHE}).values_list("pk", "title"))
    themes = dict(Theme.objects.filter(pk__in={s.key for s in surges if s.dim == Dim.THEME}).values_list("pk", "label"))
    return {(s.dim, s.key): (fiches if s.dim == Dim.FICHE else themes).get(s.key, s.key) for s in surges}


def fiche_alerts(fiche_id: str) -> list[Alert]:
    return [a for a in alerts(Dim.FICHE) if a.surge.key == fiche_id]


def surging_fiche_ids(limit: int = 5) -> list[str]:
    """The fiches of the open surges, any signal, the strongest first (each once)."""
    ratios: dict[str, float] = {}
    for key, ratio in Surge.objects.filter(ended__isnull=True, dim=Dim.FICHE).values_list("key", "ratio"):
        ratios[key] = max(ratio, ratios.get(key, 0.0))
    return sorted(ratios, key=lambda k: (-ratios[k], k))[:limit]
