"""The demo's past weeks (allo.history.demo): the routing engine's simulation of the days before today,
stored as an import of call records with their aggregates, so that a fresh demo's « Bilan » and
forecast have figures; loaded once, never over a real history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from allo.history.demo import load_demo_history
from allo.history.models import CallRecord, ImportBatch, Stat
from allo.kb.models import Fiche
from allo.org.models import Centre

pytestmark = pytest.mark.django_db


def test_a_week_of_simulated_calls_fills_the_history_once(demo, login_as):
    assert load_demo_history(days=0) == {} and not CallRecord.objects.exists()
    loaded = load_demo_history(days=7)

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    first = yesterday - dt.timedelta(days=6)
    assert (loaded["du"], loaded["au"]) == (first.isoformat(), yesterday.isoformat())
    records = CallRecord.objects.all()
    # the default scenario: about 100,000 calls a month, none on Sundays
    assert 10_000 < records.count() == loaded["appels"] < 40_000
    batch = ImportBatch.objects.get()
    assert batch.filename.startswith("simulation de démonstration") and batch.rows == records.count()
    assert set(records.values_list("batch", flat=True).distinct()) == {batch.id}
    local_days = {timezone.localtime(t).date() for t in records.values_list("arrived_at", flat=True)}
    assert min(local_days) >= first and max(local_days) == yesterday
    # every queue the engine used is N1 or one of the organisation's centres, N2 legs included
    used = set(records.values_list("queue__code", flat=True).distinct())
    assert used - {"n1"} <= set(Centre.objects.values_list("code", flat=True)) and {"n1", "n2-impots"} <= used
    assert records.filter(level=2).exists() and records.filter(outcome="answered").count() > records.count() / 2
    # an answered call cites its caller's topic (a demo fiche) and that fiche's theme, as a wrap-up does
    answered = records.filter(level=1, outcome="answered")
    assert not answered.filter(fiche="").exists() and not records.exclude(level=1, outcome="answered").exclude(
        fiche="").exists()
    cited = set(answered.values_list("fiche", flat=True).distinct())
    assert cited <= set(Fiche.objects.values_list("id", flat=True)) and len(cited) > 20
    some = answered.first()
    assert some.theme == Fiche.objects.select_related("theme").get(pk=some.fiche).theme.label

    # the aggregates count every call once (its N1 leg) and every leg per queue: the Bilan reads them
    def offered(dim: str) -> int:
        return Stat.objects.filter(grain="1d", dim=dim).aggregate(n=Sum("offered"))["n"]

    assert offered("all") == records.filter(level=1).count() and offered("queue") == records.count()
    assert offered("fiche") == answered.count() and offered("theme") == answered.count()

    # a second load, or a load over a real history, leaves it as it is
    assert load_demo_history(days=7) == {} and CallRecord.objects.count() == loaded["appels"]

    html = login_as("superviseur").get("/supervision/previsions/").content.decode()
    first_day = "1er" if first.day == 1 else first.day
    assert f"Appris de l'historique du {first_day} " in html and "Pas de prévision" not in html
