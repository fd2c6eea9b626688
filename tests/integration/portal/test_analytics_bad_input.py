"""Portal analytics against text the database refuses (issue 14, finding 3): one search for
`impot%00` used to stop all analytics of the process (PostgreSQL refuses NUL; the batch was put back
and retried forever, growing in memory)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from allo.kb.models import Fiche
from allo.portal import analytics
from allo.portal.models import FicheViewDaily, SearchLog

pytestmark = [pytest.mark.django_db, pytest.mark.any_db]


@pytest.fixture(autouse=True)
def _empty_batch():
    analytics._pending.take()
    analytics._pending.failures = 0
    yield
    analytics._pending.take()
    analytics._pending.failures = 0


def test_a_search_with_nul_is_logged_without_it(client, demo):
    response = client.get(reverse("portal-search") + "?q=impot%00")
    assert response.status_code == 200
    response = client.get(reverse("portal-search") + "?q=carte%00grise&theme=%00")
    assert response.status_code == 200
    assert set(SearchLog.objects.values_list("query", flat=True)) == {"impot", "carte grise"}
    assert set(SearchLog.objects.values_list("theme", flat=True)) == {""}


def test_normalised_queries_hold_no_control_character_nor_lone_surrogate():
    assert analytics.normalise_query("impot\x00") == "impot"
    assert analytics.normalise_query("a\x00b\x1fc\x7fd") == "a b c d"
    assert analytics.normalise_query("impôt\ud800 sur le revenu") == "impôt sur le revenu"


def test_a_batch_the_database_refuses_is_split_after_a_few_attempts_and_never_grows(demo):
    fiche = Fiche.objects.published().order_by("id").first()
    today = timezone.localdate()
    poisoned = {"search": {"q": "impot\ud800", "theme": "", "n": 0, "top": "", "low": True}}  # bypasses normalise
    good = {"search": {"q": "carte grise", "theme": "", "n": 3, "top": "", "low": False}}
    for event in (poisoned, good, {"view": fiche.id}):
        analytics._pending.add(today, event)

    for attempt in range(1, analytics.MAX_ATTEMPTS):
        assert analytics.flush() == 0  # refused as a whole: kept for another attempt...
        assert analytics._pending.failures == attempt
        analytics._pending.add(today, good)
        with analytics._pending.lock:  # ...summed with what came since, never one more row per attempt
            assert len(analytics._pending.searches) == 2 and len(analytics._pending.views) == 1
    assert not SearchLog.objects.exists()

    # the last attempt writes what the database accepts, one by one, and drops the rest
    written = analytics.flush()
    assert written == analytics.MAX_ATTEMPTS + 1  # the good searches and the view
    assert list(SearchLog.objects.values_list("query", "searches")) == [("carte grise", analytics.MAX_ATTEMPTS)]
    assert FicheViewDaily.objects.get(fiche=fiche).views == 1
    with analytics._pending.lock:
        assert not analytics._pending.searches and not analytics._pending.views
    assert analytics._pending.failures == 0

    # and analytics go on
    analytics._pending.add(today, good)
    assert analytics.flush() == 1
    assert SearchLog.objects.filter(query="carte grise").count() == 2
