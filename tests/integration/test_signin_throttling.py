"""Sign-in throttling (issue 14, finding 7): 25 wrong passwords in a row, then the right one, used to
sign in. After a few failures an account is locked for a while, with a French message."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "allo-demo-2026"


def sign_in(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_repeated_wrong_passwords_lock_the_account_for_a_while(demo):
    client = Client()
    for _ in range(25):
        response = sign_in(client, "operateur", "mauvais-mot-de-passe")
        assert response.status_code in (200, 429)
    response = sign_in(client, "operateur", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Trop de tentatives de connexion" in html and "minutes" in html
    assert "_auth_user_id" not in client.session
    # another browser, the right password: the account is still locked
    assert sign_in(Client(), "operateur", PASSWORD).status_code == 429
    # another account is not
    assert sign_in(Client(), "superviseur", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(demo):
    from axes.models import AccessAttempt

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "redacteur", "mauvais")
    assert sign_in(client, "redacteur", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME
                                 - dt.timedelta(seconds=1))
    response = sign_in(client, "redacteur", PASSWORD)
    assert response.status_code == 302 and client.session["_auth_user_id"]


def test_a_few_mistakes_do_not_lock_and_a_success_clears_them(demo):
    client = Client()
    for _ in range(2):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            response = sign_in(client, "expert-impots", "mauvais")
            assert response.status_code == 200
            assert "Identifiant ou mot de passe incorrect" in response.content.decode()
        assert sign_in(client, "expert-impots", PASSWORD).status_code == 302
        client.logout()
