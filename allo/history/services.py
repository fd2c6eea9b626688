"""History and the « bilan »: import, stored aggregates, reports (docs/reports.md).

- `import_csv`: a previous system's call records, all or nothing, then the aggregates of their days;
- `record_live`: the live router's ended calls, derived from its journal, as records (idempotent);
- `rebuild`: the stored bins of a day range, from the records (idempotent);
- `report` / `series`: figures read from the stored bins only.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from allo.history import aggregate as agg
from allo.history.models import CallRecord, ImportBatch, Queue, Stat
from allo.history.records import Leg, RowError, check_header, legs_from_journal, parse_row, settle_level

Progress = Callable[[str, int, int], None]  # (phase, done, total)
MAX_ERRORS_SHOWN = 50
CHUNK = 20_000
RECORD_COLUMNS = ("arrived_at", "queue_id", "level", "outcome", "waited_s", "talk_s", "wrap_s", "agent", "theme",
                  "origin", "fiche", "destination", "source", "batch_id", "key")
STAT_COLUMNS = ("grain", "dim", "key", "period", "slot", *agg.COUNTERS)


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class ImportFailed(Exception):
    def __init__(self, errors: list[str], count: int | None = None):
        super().__init__("\n".join(errors))
        self.errors = errors
        self.count = len(errors) if count is None else count


@dataclass
class ImportResult:
    rows: int
    first_day: dt.date | None
    last_day: dt.date | None
    new_queues: list[str] = field(default_factory=list)
    stats: int = 0


# ---------------------------------------------------------------------------------------------- queues

def _live_queues() -> dict[str, tuple[int, str, str]]:
    """The live system's queue ids -> (level, centre code, name), as the router names them."""
    from allo.contact_centre.router.config import N1_QUEUE
    from allo.org.models import Centre

    out: dict[str, tuple[int, str, str]] = {}
    for centre in Centre.objects.order_by("code"):
        if centre.kind == "n1":
            out.setdefault(N1_QUEUE, (1, centre.code, "Plateforme de niveau 1"))
        else:
            out[centre.code] = (2, centre.code, centre.name)
    return out


class _Queues:
    """Queue code -> id, creating the unknown ones (history-only unless the live system has them)."""

    def __init__(self):
        self.ids = dict(Queue.objects.values_list("code", "id"))
        self.levels = dict(Queue.objects.values_list("code", "level"))
        self.live: dict | None = None
        self.created: list[str] = []

    def _live(self) -> dict:
        if self.live is None:
            self.live = _live_queues()
        return self.live

    def id(self, code: str, level: int = 1) -> int:
        qid = self.ids.get(code)
        if qid is None:
            known = self._live().get(code)
            if known is not None:
                q = Queue.objects.create(code=code, level=known[0], centre=known[1], name=known[2])
            else:
                q = Queue.objects.create(code=code, level=level, history_only=True)
                self.created.append(code)
            qid = self.ids[code] = q.id
            self.levels[code] = q.level
        return qid

    def level(self, code: str, stated: int) -> int:
        """A CSV row's level: the one it states, else its queue's (stored, or the live system's: an N2
        centre's code is level 2), else 1. Raises RowError when the row contradicts its queue: a queue's
        legs are of one level (its figures use that level's threshold)."""
        known = self.levels.get(code)
        if known is None and code in self._live():
            known = self._live()[code][0]
        if stated and known is not None and stated != known:
            raise RowError(f"level {stated} pour la file « {code} », qui est de niveau {known}")
        level = stated or known or 1
        self.levels.setdefault(code, level)  # a new queue's next rows in the file agree with its first
        return level


# ---------------------------------------------------------------------------------------------- writing

def _insert(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk insert: COPY on PostgreSQL (1.2 M records in seconds), executemany elsewhere."""
    if not rows:
        return
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            ops = connection.ops
            adapted = [tuple(ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime)
                             else ops.adapt_datefield_value(v) if isinstance(v, dt.date) else v for v in row)
                       for row in rows]
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", adapted)


def _record_row(leg: Leg, queue_id: int, source: str, batch_id: int | None) -> tuple:
    return (leg.arrived_at, queue_id, leg.level, leg.outcome, leg.waited_s, leg.talk_s, leg.wrap_s, leg.agent,
            leg.theme, leg.origin, leg.fiche, leg.destination, source, batch_id, leg.key or None)


def insert_records(legs: list[Leg], batch: ImportBatch) -> None:
    """Store legs as records of an import batch (the demo's simulated weeks, allo.history.demo)."""
    queues = _Queues()
    _insert(CallRecord._meta.db_table, RECORD_COLUMNS,
            [_record_row(leg, queues.id(leg.queue, leg.level), "import", batch.id) for leg in legs])


# ---------------------------------------------------------------------------------------------- import

def import_csv(path, progress: Progress | None = None) -> ImportResult:
    """Load a previous system's call records (docs/reports.md); all or nothing. Raises ImportFailed with
    French messages naming each bad row's line."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    done = ImportBatch.objects.filter(sha256=digest).first()
    if done is not None:
        raise ImportFailed([f"Ce fichier a déjà été importé le {done.created.astimezone(tz()):%d/%m/%Y à %H:%M} "
                            f"({done.rows} appels, « {done.filename} ») : rien n'a été écrit."], count=0)
    size = os.path.getsize(path)
    local = tz()
    errors: list[str] = []
    n_errors = 0
    with transaction.atomic():
        batch = ImportBatch.objects.create(filename=str(path)[-255:], sha256=digest)
        queues = _Queues()
        first = last = None
        rows: list[tuple] = []
        count = 0
        with open(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            try:
                header = next(reader, None)
                if header is None:
                    raise ImportFailed(["ligne 1 : le fichier est vide (en-tête attendu : "
                                        "arrived_at,queue,outcome,waited_s,talk_s,agent,theme,origin,fiche,level,destination)."])
                try:
                    columns = check_header(header)
                except RowError as e:
                    raise ImportFailed([f"ligne 1 : {e}."]) from None
                for row in reader:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue
                    try:
                        leg = parse_row(row, columns)
                        settle_level(leg, queues.level(leg.queue, leg.level))
                    except RowError as e:
                        n_errors += 1
                        if len(errors) < MAX_ERRORS_SHOWN:
                            errors.append(f"ligne {reader.line_num} : {e}.")
                        continue
                    count += 1
                    if n_errors:
                        continue  # nothing will be written: check the rest only
                    day = leg.arrived_at.astimezone(local).date()
                    if first is None or day < first:
                        first = day
                    if last is None or day > last:
                        last = day
                    rows.append(_record_row(leg, queues.id(leg.queue, leg.level), "import", batch.id))
                    if len(rows) >= CHUNK:
                        _insert(CallRecord._meta.db_table, RECORD_COLUMNS, rows)
                        rows = []
                        if progress:
                            progress("lecture", raw.tell(), size)
            except UnicodeDecodeError:
                n_errors += 1
                errors.append(f"ligne {reader.line_num + 1} : le fichier n'est pas en UTF-8.")
            if n_errors:
                more = n_errors - len(errors)
                raise ImportFailed(errors + ([f"… et {more} autre(s) ligne(s) en erreur."] if more > 0 else []),
                                   n_errors)
            if not count:
                raise ImportFailed(["Le fichier ne contient aucun appel : rien n'a été écrit."], count=0)
            _insert(CallRecord._meta.db_table, RECORD_COLUMNS, rows)
            if progress:
                progress("lecture", size, size)
        batch.rows, batch.first_day, batch.last_day = count, first, last
        batch.save(update_fields=["rows", "first_day", "last_day"])
        stats = rebuild(first, last, progress)
    return ImportResult(count, first, last, queues.created, stats)


# ---------------------------------------------------------------------------------------------- live

def record_live(first: dt.date, last: dt.date) -> int:
    """Records of the calls the live router ended, for calls that arrived from `first` to `last` (local
    days), derived again from its journal: a call already recorded is replaced (idempotent). Days the
    journal no longer holds (purged) keep their records."""
    from allo.contact_centre.models import Contact, RouterInput, WrapUp
    from allo.contact_centre.router import config as cfg

    local = tz()
    t0 = cfg.t_of(dt.datetime.combine(first, dt.time()))
    t1 = cfg.t_of(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))
    margin = (cfg.lost_after() or 7200) + 3600  # a call's end, and its wrap-up, come after its arrival
    inputs = (RouterInput.objects.filter(seq__isnull=False, t__gte=t0, t__lt=t1 + margin).order_by("seq")
              .values_list("t", "type", "payload", "decisions"))

    def at(t: float) -> dt.datetime:
        return (cfg.EPOCH_DT + dt.timedelta(seconds=t)).replace(tzinfo=local)

    legs = [leg for leg in legs_from_journal(inputs.iterator(chunk_size=5000), at)
            if first <= leg.arrived_at.date() <= last]
    calls = sorted({leg.key.rsplit(":", 1)[0] for leg in legs})
    dialed: dict[str, str] = {}
    themes: dict[str, str] = {}
    fiches: dict[str, str] = {}  # a call's main fiche: the first its level-1 wrap-up cites (docs/reports.md)
    for i in range(0, len(calls), 500):
        part = calls[i:i + 500]
        dialed.update(Contact.objects.filter(call_id__in=part).values_list("call_id", "dialed"))
        for cid, label, cited in (WrapUp.objects.filter(contact_id__in=part, level=1).order_by("created", "id")
                                  .values_list("contact_id", "top_theme__label", "fiches")):
            if label:
                themes[cid] = label
            first = next((str(f).strip() for f in cited if str(f).strip()), "") if isinstance(cited, list) else ""
            if first:
                fiches[cid] = first
    queues = _Queues()
    rows = []
    for leg in legs:
        cid = leg.key.rsplit(":", 1)[0]
        leg.origin = (dialed.get(cid) or "")[:32]
        if leg.level == 1:
            leg.theme = (themes.get(cid) or "")[:120]
            leg.fiche = (fiches.get(cid) or "")[:80]
        rows.append(_record_row(leg, queues.id(leg.queue, leg.level), "live", None))
    keys = [leg.key for leg in legs]
    with transaction.atomic():
        for i in range(0, len(keys), 500):
            CallRecord.objects.filter(key__in=keys[i:i + 500]).delete()
        _insert(CallRecord._meta.db_table, RECORD_COLUMNS, rows)
    return len(rows)


# ---------------------------------------------------------------------------------------------- aggregates

def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _month_end(d: dt.date) -> dt.date:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def _bounds(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()).replace(tzinfo=tz())


def collect(first: dt.date, last: dt.date, progress: Progress | None = None) -> agg.Columns:
    """The records of local days first..last as columns (what `rebuild` aggregates)."""
    local = tz()
    queues = {qid: (code, centre) for qid, code, centre in Queue.objects.values_list("id", "code", "centre")}
    qs = (CallRecord.objects.filter(arrived_at__gte=_bounds(first), arrived_at__lt=_bounds(last + dt.timedelta(days=1)))
          .values_list("arrived_at", "level", "outcome", "waited_s", "talk_s", "wrap_s", "queue_id", "destination",
                       "theme", "origin", "fiche", "agent"))
    total = qs.count() if progress else 0
    cols = agg.Columns()
    add = cols.add
    for i, (at, level, outcome, waited, talk, wrap, qid, dest, theme, origin, fiche, agent) in enumerate(
            qs.iterator(chunk_size=CHUNK)):
        code, centre = queues[qid]
        add(at.astimezone(local), level, outcome, waited, talk, wrap, queue=code, centre=centre, destination=dest,
            theme=theme, origin=origin, fiche=fiche, agent=agent)
        if progress and not i % CHUNK:
            progress("agrégats", i, total)
    return cols


def rebuild(first: dt.date, last: dt.date, progress: Progress | None = None) -> int:
    """Compute again the stored bins of local days first..last (and of the weeks and months they touch,
    read in full) from the records. Idempotent; returns the number of bins written."""
    lo = min(_monday(first), first.replace(day=1))
    hi = max(_monday(last) + dt.timedelta(days=6), _month_end(last))
    cols = collect(lo, hi, progress)
    weeks = (_monday(first), _monday(last))
    months = (first.replace(day=1), last.replace(day=1))
    ranges = {"15m": (first, last), "1h": (first, last), "1d": (first, last), "1w": weeks, "1M": months}
    rows = [r for r in agg.aggregate(cols) if ranges[r[0]][0] <= r[3] <= ranges[r[0]][1]]
    with transaction.atomic():
        for grain, (a, b) in ranges.items():
            Stat.objects.filter(grain=grain, period__gte=a, period__lte=b).delete()
        for i in range(0, len(rows), CHUNK):
            _insert(Stat._meta.db_table, STAT_COLUMNS, rows[i:i + CHUNK])
            if progress:
                progress("écriture", min(i + CHUNK, len(rows)), len(rows))
    return len(rows)


# ---------------------------------------------------------------------------------------------- reports

class UnknownQueue(ValueError):
    pass


def series(first: dt.date, last: dt.date, *, grain: str = "1d", dim: str = "all", key: str = "") -> dict:
    """Stored counters of the bins of a dimension's key between two days: {(period, slot): counters}."""
    rows = (Stat.objects.filter(dim=dim, key=key, grain=grain, period__gte=first, period__lte=last)
            .values_list("period", "slot", *agg.COUNTERS))
    return {(r[0], r[1]): list(r[2:]) for r in rows}


def rounded(figures: dict) -> dict:
    out = {}
    for k, v in figures.items():
        if isinstance(v, float):
            v = round(v, 2) if k.endswith("_s") else round(v, 4)
        out[k] = v
    return out


def report(first: dt.date, last: dt.date, queue: str | None = None) -> dict:
    """Per day (every day of the range) and in total: offered, answered, abandoned, asa_s, service_level,
    aht_s, and Asterisk's servicelevel_perf / servicelevel_perf2, from the stored day bins. `level` and
    `threshold_s`: the line's or the queue's level and its service level's T (an N2 queue's bins count its
    calls within the N2 threshold, aggregate.threshold)."""
    level = 1
    if queue:
        level = Queue.objects.filter(code=queue).values_list("level", flat=True).first()
        if level is None:
            known = ", ".join(Queue.objects.values_list("code", flat=True)) or "aucune"
            raise UnknownQueue(f"File inconnue : « {queue} » (files connues : {known}).")
    bins = series(first, last, dim="queue" if queue else "all", key=queue or "")
    days, total = [], [0.0] * len(agg.COUNTERS)
    day = first
    while day <= last:
        counters = bins.get((day, 0)) or [0] * len(agg.COUNTERS)
        agg.add(total, counters)
        days.append({"date": day.isoformat(), **rounded(agg.figures(counters))})
        day += dt.timedelta(days=1)
    return {"from": first.isoformat(), "to": last.isoformat(), "queue": queue, "level": level,
            "threshold_s": agg.threshold(level), "days": days, "total": rounded(agg.figures(total))}


def breakdown(first: dt.date, last: dt.date, dim: str, level: int | None = None) -> list[dict]:
    """The figures of each key of a dimension (queue, destination, theme, origin, fiche, agent) summed over the
    day bins of a range, the busiest first: {"key", **figures, "counters"} (counters: the summed bins, for a
    total). `level` (dim queue only): the queues of that level (Queue.level), e.g. 2 for the N2 centres'."""
    from django.db.models import Sum

    stats = Stat.objects.filter(grain="1d", dim=dim, period__gte=first, period__lte=last)
    if level is not None:
        if dim != "queue":
            raise ValueError("a level selects queues: dim must be 'queue'")
        stats = stats.filter(key__in=Queue.objects.filter(level=level).values("code"))
    rows = stats.values("key").annotate(**{f"sum_{c}": Sum(c) for c in agg.COUNTERS})
    out = []
    for r in rows:
        counters = [r[f"sum_{c}"] for c in agg.COUNTERS]
        out.append({"key": r["key"], **rounded(agg.figures(counters)), "counters": counters})
    return sorted(out, key=lambda r: (-r["offered"], r["key"]))
