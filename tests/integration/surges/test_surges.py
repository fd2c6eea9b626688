"""Topical surges end to end in the database (issue 12, item 6): wrap-ups and portal events become
tallies, a surge, and the alert on the supervisors', the editors' and the portal's pages; it ends when
the rate falls back."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from allo.surges import detector, services
from allo.surges.models import Surge, Tally


def _wrap_ups(fiche, n: int, at: dt.datetime | None = None) -> None:
    """`n` wrap-ups citing `fiche` and its theme, written at `at` (now by default)."""
    from allo.contact_centre.models import Contact, WrapUp

    for _ in range(n):
        contact = Contact.objects.create(call_id=f"surge-{uuid.uuid4().hex[:12]}", state="ended", level=1)
        wrap_up = WrapUp.objects.create(contact=contact, fiches=[fiche.pk], theme=fiche.theme,
                                        top_theme=fiche.theme, outcome="answered")
        if at is not None:
            WrapUp.objects.filter(pk=wrap_up.pk).update(created=at)


@pytest.fixture
def fiche(demo):
    from allo.kb.models import Fiche

    return Fiche.objects.published().local().order_by("id").first()


def test_calls_surge_reaches_supervisors_editors_and_the_portal_then_ends(fiche, login_as, client):
    now = timezone.now()
    # around the same hour in the previous weeks: 6 calls a week about this fiche, 2 an hour over the
    # three hours the baseline reads; the earliest wrap-up tells how far back the count goes (the
    # third week's span starts before it: two weeks are known)
    for week in (1, 2, 3):
        _wrap_ups(fiche, 6, services._weeks_before(now, week) - dt.timedelta(minutes=5))
    _wrap_ups(fiche, 30, now - dt.timedelta(minutes=2))

    result = services.scan(now)
    assert result.counted["calls"] == 48
    assert Tally.objects.filter(signal="calls", dim="fiche", key=fiche.pk).count() >= 4
    surge = Surge.objects.get(signal="calls", dim="fiche", key=fiche.pk, ended__isnull=True)
    assert (surge.observed, surge.expected, surge.ratio) == (30, 2.0, 15.0)
    theme = Surge.objects.get(signal="calls", dim="theme", key=fiche.theme_id, ended__isnull=True)
    assert theme.observed == 30
    # the extra agents: Erlang A on the line's arrivals in the last hour with and without the excess
    base = services._calls_last_hour(now)
    assert surge.extra_agents == detector.extra_agents(base, 28, services.staffing_inputs()) >= 1

    # a second scan counts nothing twice
    again = services.scan(now)
    assert again.counted == {"calls": 0, "searches": 0, "views": 0} and not again.started
    assert Surge.objects.get(pk=surge.pk).observed == 30

    summary = "30 appels dans la dernière heure pour 2 attendus (× 15)"
    supervisor = login_as("superviseur")
    for url in ("/supervision/", reverse("supervision-floor"), reverse("surges-supervisor") + "?partiel=1",
                reverse("surges-supervisor")):
        page = supervisor.get(url).content.decode()
        assert "Pics d'actualité" in page and f"« <a href=\"{reverse('kb-fiche', args=[fiche.pk])}\">{fiche.title}</a> »" \
            in page, url
        assert summary in page
        assert f"{surge.extra_agents} agent" in page and "de plus</strong> au téléphone" in page

    editor = login_as("redacteur")
    for url in ("/redaction/", reverse("portal-statistics")):
        page = editor.get(url).content.decode()
        assert "Fiches très demandées en ce moment" in page, url
        assert "Cette fiche est très demandée : est-elle à jour ?" in page
        assert reverse("kb-edit", args=[fiche.pk]) in page and summary in page
    page = editor.get(reverse("kb-edit", args=[fiche.pk])).content.decode()
    assert "Cette fiche est très demandée : est-elle à jour ?" in page and summary in page
    page = editor.get(reverse("kb-fiche", args=[fiche.pk])).content.decode()
    assert "Relire la fiche" in page

    client.logout()
    home = client.get("/").content.decode()
    assert "Les questions du moment" in home
    moment = home.split("Les questions du moment")[1].split("</section>")[0]
    assert f'href="{reverse("portal-fiche", args=[fiche.pk])}">{fiche.title}</a>' in moment
    assert "appels" not in moment  # the public sees the questions, not the figures

    # two hours later, nothing new: the rate fell back, the surge ends with its peak kept
    later = services.scan(now + dt.timedelta(hours=2))
    assert {(s.signal, s.dim) for s in later.ended} == {("calls", "fiche"), ("calls", "theme")}
    surge.refresh_from_db()
    assert surge.ended is not None and surge.peak_observed == 30 and surge.peak_ratio == 15.0
    recent = login_as("superviseur").get(reverse("surges-supervisor")).content.decode()
    assert f"<td>Fiche « {fiche.title} »</td><td>Appels</td>" in recent and "30 en une heure (× 15,0)" in recent
    assert "Pics d'actualité" not in login_as("superviseur").get("/supervision/").content.decode()
    client.logout()
    assert "Les questions du moment" not in client.get("/").content.decode()


def test_three_calls_instead_of_one_is_not_a_surge(fiche):
    now = timezone.now()
    for week in (1, 2, 3, 4):
        _wrap_ups(fiche, 3, services._weeks_before(now, week))
    _wrap_ups(fiche, 4, now)
    services.scan(now)
    assert not Surge.objects.exists()


def test_a_ratio_that_chance_explains_is_not_a_surge(fiche):
    """12 calls for 2 expected is 6 times the usual, over the minimum, but with two weeks of 2 an
    hour behind it (12 calls over 6 hours) chance explains it too often (p = 3.6e-5 > 1e-5)."""
    now = timezone.now()
    for week in (1, 2, 3):
        _wrap_ups(fiche, 6, services._weeks_before(now, week) - dt.timedelta(minutes=5))
    _wrap_ups(fiche, 12, now)
    services.scan(now)
    assert not Surge.objects.filter(dim="fiche").exists()
    _wrap_ups(fiche, 18, now)  # 30: no longer chance
    services.scan(now)
    assert Surge.objects.filter(dim="fiche", key=fiche.pk, observed=30).exists()


def test_portal_views_and_searches_surge(fiche, login_as):
    from allo.portal import analytics

    now = timezone.now()
    services.scan(now)  # the first scan starts counting the portal from now (its past has no time of day)
    for _ in range(40):
        analytics.record(analytics.view_event(fiche.pk))
    for _ in range(25):
        analytics.record({"search": {"q": "question du moment", "theme": "", "n": 3, "top": fiche.pk, "low": False}})
    result = services.scan(now + dt.timedelta(seconds=30))
    assert result.counted["views"] == 40 and result.counted["searches"] == 25
    views = Surge.objects.get(signal="views", dim="fiche", key=fiche.pk)
    searches = Surge.objects.get(signal="searches", dim="fiche", key=fiche.pk)
    # no past week counted yet: against the floor
    assert (views.observed, views.expected, searches.observed, searches.expected) == (40, 3.0, 25, 2.0)
    assert views.extra_agents is None  # agents are for calls
    assert Surge.objects.filter(signal="views", dim="theme", key=fiche.theme_id).exists()
    # the views counted once: a scan with no new view leaves the count as it was
    services.scan(now + dt.timedelta(seconds=60))
    assert Tally.objects.get(signal="views", dim="fiche", key=fiche.pk).count == 40
    page = login_as("redacteur").get("/redaction/").content.decode()
    assert "40 consultations sur le portail dans la dernière heure pour 3 attendues" in page
    assert "25 recherches sur le portail dans la dernière heure pour 2 attendues" in page


def test_command_scans_and_lists(fiche):
    _wrap_ups(fiche, 15)
    out = io.StringIO()
    call_command("surges", "scan", stdout=out)
    assert "15 clôtures d'appel" in out.getvalue() and "Pics ouverts : 2" in out.getvalue()
    out = io.StringIO()
    call_command("surges", "list", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert {(r["dim"], r["key"], r["observed"]) for r in rows} == {("fiche", fiche.pk, 15),
                                                                 ("theme", fiche.theme_id, 15)}


def test_tallies_past_the_baselines_reach_are_deleted(demo):
    now = timezone.now()
    old = Tally.objects.create(signal="calls", dim="fiche", key="x", start=services.quarter(now - dt.timedelta(weeks=6)),
                               count=3)
    kept = Tally.objects.create(signal="calls", dim="fiche", key="x",
                                start=services.quarter(now - dt.timedelta(weeks=4, hours=2)), count=3)
    services.scan(now)
    assert not Tally.objects.filter(pk=old.pk).exists() and Tally.objects.filter(pk=kept.pk).exists()
