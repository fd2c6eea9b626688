"""The demo's past weeks: call records simulated by the routing engine (allo.simulation, the default
scenario: ~100,000 calls a month), so that a fresh demo's « Bilan », forecast and staffing pages
show figures instead of « aucun historique ». Loaded once, only while no call record exists, so it
never mixes with a real history; recorded as an import (« simulation de démonstration ») that an
admin may delete like any other.

The engine's log is turned into records by the function that turns the live router's journal into
them (records.legs_from_journal): the demo's history is built the way the real one is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os

from django.db import transaction
from django.utils import timezone

from allo.history import services
from allo.history.models import CallRecord, ImportBatch
from allo.history.records import legs_from_journal
from allo.kb.models import Theme
from allo.routing import events as ev

DAYS = 35  # five weeks: the forecast's weekly shape needs several of each weekday
SEED = 1
# what legs_from_journal reads of the engine's log; the rest is left out of memory
_EVENTS = {"ContactArrived"}
_DECISIONS = {"AgentStateChanged", "Queued", "Overflowed", "Assign", "Transferred", "ContactEnded"}
# the default scenario's N2 queues -> the demo organisation's queue codes
_QUEUES = {"impots": "n2-impots", "consommation": "n2-consommation"}


def load_demo_history(days: int | None = None, seed: int = SEED) -> dict:
    """Simulate the `days` before today and store them as call records and their aggregates.
    ALLO_DEMO_HISTORY_DAYS overrides `days` (0: none, as most tests' servers want)."""
    if days is None:
        days = int(os.environ.get("ALLO_DEMO_HISTORY_DAYS", DAYS))
    if days <= 0 or CallRecord.objects.exists():
        return {}
    from allo.simulation.runner import simulate
    from allo.simulation.scenario import load_scenario

    last = timezone.localdate() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=days - 1)
    journal: list[tuple[float, str, dict, list[dict]]] = []

    def keep(record) -> None:
        name = type(record).__name__
        if isinstance(record, ev.EVENT_TYPES):
            journal.append((record.t, name, ev.to_dict(record) if name in _EVENTS else {}, []))
        elif name in _DECISIONS and journal:
            journal[-1][3].append(ev.to_dict(record))

    scenario = dataclasses.replace(load_scenario(), start=first)
    simulate(scenario, seed=seed, days=days, sink=keep)
    local = services.tz()
    midnight = dt.datetime.combine(first, dt.time())

    def at(t: float) -> dt.datetime:  # engine time: seconds of local wall clock since the first midnight
        return (midnight + dt.timedelta(seconds=t)).replace(tzinfo=local)

    # each simulated caller asks about a topic (a demo fiche of the scenario's mix): an operator who
    # answered cites it in the wrap-up, whose theme and first fiche the records keep (as live ones do)
    topics = {str(payload["contact"]): payload.get("topic") for _, name, payload, _ in journal
              if name == "ContactArrived"}
    legs = list(legs_from_journal(journal, at))
    journal.clear()
    theme_of = {t.id: t.theme for t in scenario.topics}
    labels = dict(Theme.objects.filter(slug__in=set(theme_of.values())).values_list("slug", "label"))
    for leg in legs:
        topic = topics.get(leg.key.rsplit(":", 1)[0]) if leg.level == 1 and leg.outcome == "answered" else None
        if topic:
            leg.fiche, leg.theme = topic, labels.get(theme_of.get(topic, ""), "")
        leg.queue = _QUEUES.get(leg.queue, leg.queue)
        leg.key = ""  # simulated calls have no live call id
    digest = hashlib.sha256(f"demo-history:{first}:{days}:{seed}".encode()).hexdigest()
    with transaction.atomic():
        batch = ImportBatch.objects.create(filename="simulation de démonstration (moteur de routage)",
                                           sha256=digest, rows=len(legs), first_day=first, last_day=last)
        services.insert_records(legs, batch)
        stats = services.rebuild(first, last)
    return {"appels": len(legs), "du": first.isoformat(), "au": last.isoformat(), "agrégats": stats}
