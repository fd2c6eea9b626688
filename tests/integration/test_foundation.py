from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.urls import reverse

from allo.accounts.demo import DEMO_PASSWORD, DEMO_USERS
from allo.accounts.models import User
from allo.accounts.roles import Role
from allo.org.hours import centre_status
from allo.org.models import Centre, Closure, OpeningPeriod, ServiceLine

pytestmark = pytest.mark.django_db


@pytest.mark.any_db
def test_demo_load_is_idempotent(demo):
    counts = (Centre.objects.count(), OpeningPeriod.objects.count(), User.objects.count(), ServiceLine.objects.count())
    call_command("init", "--demo", verbosity=0)
    assert counts == (
        Centre.objects.count(), OpeningPeriod.objects.count(), User.objects.count(), ServiceLine.objects.count()
    )
    assert Centre.objects.filter(kind=Centre.Kind.INFORMANT).values("city").distinct().count() >= 4
    assert set(Centre.objects.values_list("domain", flat=True)) >= {"impots", "consommation", "cira", "general"}


@pytest.mark.any_db
def test_demo_users_log_in_with_argon2_and_have_their_role(demo):
    for username, _first, _last, role, centre_code in DEMO_USERS:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.password.startswith("argon2")
        assert user.has_role(role)
        assert (user.centre.code if user.centre else None) == centre_code
    operator = User.objects.get(username="operateur")
    assert not operator.has_role(Role.SUPERVISOR)


def test_healthz_reports_database(client, router_beating):
    # the router's part: tests/integration/contact_centre/test_router_health.py
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["router"]["status"]) == ("ok", "ok", "ok")
    assert set(body["page_cache"]) == {"hits", "misses", "pages", "bytes"}


def test_staff_home_links_each_space_and_shows_the_line(client, demo):
    html = client.get(reverse("staff-home")).content.decode()
    for name in ["space-operator", "space-expert", "space-editor", "space-supervisor", "admin:index"]:
        assert f'href="{reverse(name)}"' in html
    assert "39 39" in html
    assert '<html lang="fr"' in html


def test_public_home_shows_the_line_and_links_the_staff_home(client, demo):
    html = client.get(reverse("home")).content.decode()
    assert "39 39" in html
    assert '<html lang="fr"' in html
    assert f'href="{reverse("staff-home")}"' in html


def test_security_headers(client):
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_login_form_posts_with_csrf_and_rejects_bad_password(demo):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    bad = client.post(reverse("login"), {"username": "operateur", "password": "wrong", "csrfmiddlewaretoken": token})
    assert bad.status_code == 200 and "incorrect" in bad.content.decode()
    no_token = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "operateur", "password": DEMO_PASSWORD}
    )
    assert no_token.status_code == 403
    good = client.post(
        reverse("login"), {"username": "operateur", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert good.status_code == 302


# Opening hours: the organisation models, read through the routing core.
WEDNESDAY_10H = dt.datetime(2026, 12, 2, 10, 0)
CHRISTMAS_10H = dt.datetime(2026, 12, 25, 10, 0)
GOOD_FRIDAY_10H = dt.datetime(2026, 4, 3, 10, 0)  # a holiday in Alsace-Moselle only


@pytest.mark.any_db
def test_centre_hours_weekdays_holidays_and_local_calendar(demo):
    platform = Centre.objects.get(code="n1-plateforme")
    assert centre_status(platform, WEDNESDAY_10H).is_open
    assert not centre_status(platform, dt.datetime(2026, 12, 2, 19, 30)).is_open
    assert centre_status(platform, dt.datetime(2026, 12, 5, 10, 0)).is_open  # Saturday morning
    assert not centre_status(platform, dt.datetime(2026, 12, 5, 15, 0)).is_open
    assert not centre_status(platform, CHRISTMAS_10H).is_open
    assert centre_status(Centre.objects.get(code="cira-lyon"), GOOD_FRIDAY_10H).is_open
    assert not centre_status(Centre.objects.get(code="cira-metz"), GOOD_FRIDAY_10H).is_open


@pytest.mark.any_db
def test_exceptional_closure_of_one_centre_and_of_the_whole_line(demo):
    lyon = Centre.objects.get(code="cira-lyon")
    Closure.objects.create(centre=lyon, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 3), reason="Formation")
    status = centre_status(lyon, WEDNESDAY_10H)
    assert not status.is_open and status.next_opening.date() == dt.date(2026, 12, 4)
    assert centre_status(Centre.objects.get(code="cira-lille"), WEDNESDAY_10H).is_open
    Closure.objects.create(start=dt.date(2026, 12, 2), end=dt.date(2026, 12, 2), reason="Panne nationale")
    assert not centre_status(Centre.objects.get(code="cira-lille"), WEDNESDAY_10H).is_open


def test_opening_period_must_close_after_it_opens(demo):
    from django.core.exceptions import ValidationError

    period = OpeningPeriod(centre=Centre.objects.first(), weekday=0, opens=dt.time(12), closes=dt.time(9))
    with pytest.raises(ValidationError) as excinfo:
        period.full_clean()
    assert "postérieure" in str(excinfo.value)
