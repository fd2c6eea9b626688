"""`allo shifts --week D`: the week's plan from the admin's shift templates, checked by simulation."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_week_is_planned_on_the_templates_and_simulated(imported):
    from allo.forecast.models import ShiftTemplate

    ShiftTemplate.objects.all().delete()  # the demo's (test_the_demo_templates_plan_a_week): this test sets its own
    with pytest.raises(CommandError, match="Aucun modèle de vacation actif"):
        run("shifts", "--week", "2026-04-13")
    ShiftTemplate.objects.create(name="matin", start=dt.time(8, 30), end=dt.time(12), weekdays="12345")
    ShiftTemplate.objects.create(name="pointe", start=dt.time(9), end=dt.time(11), weekdays="1")
    ShiftTemplate.objects.create(name="inactive", start=dt.time(9), end=dt.time(10), weekdays="12345", active=False)
    data = json.loads(run("shifts", "--week", "2026-04-13", "--json"))
    assert data["status"] == "optimal" and data["short_agent_intervals"] == 0
    assert [t["name"] for t in data["templates"]] == ["matin", "pointe"]
    assert data["templates"][0]["start_slot"] == 9  # 08:30: only the intervals it covers in full
    monday, wednesday, saturday = data["days"][0], data["days"][2], data["days"][5]
    assert saturday["shifts"] == {} and "pointe" not in wednesday["shifts"]
    for d in data["days"]:
        for row in d["intervals"]:
            assert row["on_shift"] >= row["needed"]
            assert row["on_phones"] == int(row["on_shift"] * (1 - data["shrinkage"]) + 1e-9)
    assert sum(r["needed"] for r in monday["intervals"]) > sum(r["needed"] for r in wednesday["intervals"])
    sim = data["simulated"]
    assert sim["offered"] > 300 and sim["service_level"] >= data["target"]
    assert "Simulation (" in run("shifts", "--week", "2026-04-13")
    with pytest.raises(CommandError, match="n'en est pas un"):
        run("shifts", "--week", "2026-04-14")


@pytest.mark.parametrize("username, allowed", [("superviseur", True), ("operateur", False), ("redacteur", False)])
def test_the_plan_page_is_for_supervisors(imported, client, username, allowed):
    from allo.accounts.models import User
    from allo.forecast.models import ShiftTemplate

    ShiftTemplate.objects.all().delete()  # the demo's aside
    client.force_login(User.objects.get(username=username))
    page = client.get("/supervision/previsions/plan/?semaine=2026-04-15")  # a Wednesday: its week
    if not allowed:
        assert page.status_code == 403
        return
    assert "Pas de plan" in page.content.decode() and "Aucun modèle de vacation actif" in page.content.decode()
    ShiftTemplate.objects.create(name="Matin", start=dt.time(9), end=dt.time(12), weekdays="12345")
    ShiftTemplate.objects.create(name="Fin de matinée", start=dt.time(10), end=dt.time(12), weekdays="12")
    html = client.get("/supervision/previsions/plan/?semaine=2026-04-15").content.decode()
    assert 'value="2026-04-13"' in html  # the Monday of that week
    assert "Plan optimal" in html and "tous les besoins couverts" in html
    assert "<caption>Agents par vacation et par jour, et niveau de service simulé</caption>" in html
    assert "× Matin" in html and "Matin : 09:00–12:00, lundi, mardi, mercredi, jeudi, vendredi" in html
    assert "fr-badge--success" in html and "atteint" in html


def test_the_demo_templates_plan_a_week(imported, login_as):
    """`allo init --demo` seeds shift templates covering the demo platform's hours (allo.forecast.demo),
    once: the plan page computes a week from the start, and an administrator's templates are kept."""
    from allo.forecast.demo import TEMPLATES, load_demo_shift_templates
    from allo.forecast.models import ShiftTemplate

    assert sorted(ShiftTemplate.objects.values_list("name", flat=True)) == sorted(t[0] for t in TEMPLATES)
    html = login_as("superviseur").get("/supervision/previsions/plan/?semaine=2026-04-13").content.decode()
    # the imported calls come 09:00-11:00: the cheapest template covering that is the morning reinforcement
    assert "Pas de plan" not in html and "Plan optimal" in html and "tous les besoins couverts" in html
    assert "× Renfort du matin" in html and "Samedi : 09:00–14:00, samedi" in html
    ShiftTemplate.objects.filter(name="Samedi").update(active=False)
    assert load_demo_shift_templates() == {} and not ShiftTemplate.objects.get(name="Samedi").active
