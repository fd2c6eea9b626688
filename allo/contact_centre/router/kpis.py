"""The live router's KPIs: its journal (the events it applied and the decisions it stored) fed to
`allo.routing.kpi.KpiCollector`, the one computation of the figures. The simulator feeds the same
collector the same records (`KpiCollector.arrived` for arrivals, `feed_many` for decisions), so a
figure on the wallboard and in a simulation means the same thing (tested on one event stream:
tests/integration/contact_centre/test_kpi_equality.py).

`today()` keeps one collector per process for the current day and reads only the journal inputs
applied since its last call: the wallboard asks every second or so, each time for a few rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.db.models import Max, Min

from allo.contact_centre.models import RouterInput
from allo.contact_centre.router import config as cfg
from allo.contact_centre.router.service import journal_event
from allo.routing import events as ev
from allo.routing.kpi import KpiCollector

DAY = 86400.0  # engine time is naive local time: local midnights are its multiples of a day
_DECISIONS = {cls.__name__ for cls in ev.DECISION_TYPES}  # not the router's own "Reconfigured"
_FIELDS = ("seq", "key", "type", "payload", "t", "decisions", "rejected")


def feed(kpi: KpiCollector, rows: Iterable[tuple]) -> None:
    """Feed the collector journal rows (seq, key, type, payload, t, decisions, rejected) in application
    order: each applied arrival, then every decision, as the simulator does."""
    arrived, feed_many, from_dict = kpi.arrived, kpi.feed_many, ev.from_dict
    for _seq, _key, type_, payload, t, decisions, rejected in rows:
        if rejected:
            continue  # never applied: the engine did not see it
        if type_ == "ContactArrived":
            arrived(journal_event(type_, payload, t))
        if decisions:
            feed_many([from_dict(d) for d in decisions if d.get("type") in _DECISIONS])


def first_seq_from(t0: float) -> int | None:
    """The first applied input at engine time t0 or later (None: none yet). Engine time never goes
    back along `seq`, so a binary search on its unique index finds it in ~log2(journal) queries."""
    applied = RouterInput.objects.filter(seq__isnull=False)
    bounds = applied.aggregate(lo=Min("seq"), hi=Max("seq"))
    if bounds["hi"] is None:
        return None
    lo, hi = bounds["lo"], bounds["hi"] + 1
    while lo < hi:
        mid = (lo + hi) // 2
        t = applied.filter(seq__gte=mid).order_by("seq").values_list("t", flat=True).first()
        if t is not None and t >= t0:
            hi = mid
        else:
            lo = mid + 1
    return lo if lo <= bounds["hi"] else None


class TodayKpis:
    """The day's collector of this process, brought up to date from the journal on each read."""

    def __init__(self):
        self.lock = threading.Lock()
        self.day: int | None = None
        self.kpi = KpiCollector()
        # the last journal input read (seq, idempotency key): a journal without it is not the one read
        # (another database, a test's): start over
        self.seq = 0
        self.key: str | None = None

    def _current(self) -> bool:
        return self.key is None or RouterInput.objects.filter(seq=self.seq, key=self.key).exists()

    def _last(self) -> None:
        row = RouterInput.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "key").first()
        self.seq, self.key = row if row is not None else (0, None)

    def collector(self, now_t: float | None = None) -> tuple[KpiCollector, float]:
        """The collector of the day of `now_t` (default: now) and that day's start in engine time."""
        now_t = cfg.now_t() if now_t is None else now_t
        day = int(now_t // DAY)
        with self.lock:
            if day != self.day or not self._current():
                self.day, self.kpi = day, KpiCollector()
                first = first_seq_from(day * DAY)
                if first is None:  # nothing applied today yet: read from the journal's last input on
                    self._last()
                    return self.kpi, day * DAY
                query = RouterInput.objects.filter(seq__gte=first)
            else:
                query = RouterInput.objects.filter(seq__gt=self.seq)
            rows = list(query.order_by("seq").values_list(*_FIELDS))
            feed(self.kpi, rows)
            if rows:
                self.seq, self.key = rows[-1][0], rows[-1][1]
            return self.kpi, day * DAY


_today = TodayKpis()


def today(now_t: float | None = None) -> dict:
    """Today's KPIs (allo.routing.kpi's summary) of the calls that started waiting today."""
    kpi, start = _today.collector(now_t)
    return kpi.summary(kpi.keys_from(start))
