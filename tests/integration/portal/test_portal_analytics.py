"""Search analytics and fiche views for editors: anonymous logs, statistics page with charts and tables."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from allo.kb.models import Fiche
from allo.portal.analytics import normalise_query
from allo.portal.models import Feedback, FicheViewDaily, SearchLog

pytestmark = pytest.mark.django_db


def test_queries_are_normalised_without_personal_data():
    assert normalise_query("  Mon  NUMÉRO fiscal 12 34 567 890 123  ") == "mon numéro fiscal [nombre]"
    assert normalise_query("écrire à jean.dupont@example.fr") == "écrire à [courriel]"


def test_each_public_search_is_logged(client, demo):
    fiche = Fiche.objects.published().order_by("-popularity", "id").first()
    client.get(reverse("portal-search"), {"q": f"  {fiche.title.upper()} "})
    client.get(reverse("portal-search"), {"q": "zzzqqq xxyyw"})
    client.get(reverse("portal-search"), {"q": ""})  # invalid: not logged
    client.get(reverse("portal-search"))  # no search: not logged
    logs = list(SearchLog.objects.order_by("id"))
    assert len(logs) == 2
    assert logs[0].query == fiche.title.lower() and logs[0].top_hit == fiche.id and logs[0].result_count > 0
    assert logs[0].day == timezone.localdate()
    assert logs[1].result_count == 0 and logs[1].low_confidence and logs[1].top_hit == ""
    assert {f.name for f in SearchLog._meta.get_fields()} == {"id", "day", "query", "theme", "result_count", "searches",
                                                            "top_hit", "low_confidence"}


def test_fiche_views_are_daily_counters(client, demo):
    fiche = Fiche.objects.published().order_by("id").first()
    for _ in range(3):
        client.get(reverse("portal-fiche", args=[fiche.id]))
    counter = FicheViewDaily.objects.get(fiche=fiche)
    assert counter.views == 3 and counter.day == timezone.localdate()
    client.get(reverse("portal-fiche", args=["nexiste-pas"]))
    assert FicheViewDaily.objects.count() == 1


def test_statistics_page_for_editors(client, login_as, demo):
    fiche = Fiche.objects.published().order_by("id").first()
    for q in ["carte grise", "carte grise", "zzzqqq xxyyw"]:
        client.get(reverse("portal-search"), {"q": q})
    client.get(reverse("portal-fiche", args=[fiche.id]))
    Feedback.objects.create(fiche=fiche, helpful=False, comment="Pas clair sur les délais.")
    response = login_as("redacteur").get(reverse("portal-statistics"), {"jours": 7})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Recherches les plus fréquentes" in html and "carte grise" in html
    assert "Recherches sans bonne réponse" in html and "zzzqqq xxyyw" in html
    assert "Fiches les plus consultées" in html and fiche.title.replace("'", "&#x27;") in html
    assert "Pas clair sur les délais." in html
    assert html.count('<svg') >= 3 and 'role="img"' in html and "<title id=" in html  # accessible charts
    assert html.count("<table>") >= 4  # the data behind each chart
    assert " style=" not in html and "<script>" not in html


def test_statistics_are_for_editors_only(client, login_as, demo):
    assert client.get(reverse("portal-statistics")).status_code == 302
    assert login_as("operateur").get(reverse("portal-statistics")).status_code == 403


def test_statistics_count_searches_written_as_one_row_per_batch(demo):
    from allo.portal.analytics import editor_stats

    today = timezone.localdate()
    SearchLog.objects.create(day=today, query="prime de noel", result_count=4, top_hit="", low_confidence=False,
                             searches=3)
    SearchLog.objects.create(day=today, query="prime de noel", result_count=0, top_hit="", low_confidence=True,
                             searches=1)
    stats = editor_stats(7)
    assert stats["total_searches"] == 4 and stats["low_searches"] == 1 and stats["low_share"] == 25
    row = next(r for r in stats["top_queries"] if r["query"] == "prime de noel")
    assert row["n"] == 4 and row["low"] == 1 and row["results"] == 3.0  # (3 x 4 + 1 x 0) / 4
    gap = next(r for r in stats["gaps"] if r["query"] == "prime de noel")
    assert gap["n"] == 1 and gap["none"] == 1
    assert stats["daily"][-1][1] == 4
