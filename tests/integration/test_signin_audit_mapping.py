"""The ProConnect mapping rule (e-mail and organisation SIRET to an existing account), the ID token
checks, the callback's refusals that need no provider, and the sign-in audit of password sign-ins.
The whole flow against a real provider: tests/e2e/test_proconnect_browser.py."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from allo.accounts.proconnect import LEVEL_TOO_LOW, NOT_VERIFIED, Refused, check_id_token, matching_accounts

pytestmark = pytest.mark.django_db

ROUEN, GIRONDE, N1, LINE = "21760540700019", "17330001200017", "13000000000012", "11000101300017"


@pytest.fixture
def sirets(demo):
    from allo.accounts.models import User
    from allo.partners.models import Partner

    Partner.objects.filter(code="mairie-rouen").update(siret=ROUEN)
    Partner.objects.filter(code="prefecture-gironde").update(siret=GIRONDE)
    centre = User.objects.get(username="operateur").centre
    centre.siret = N1
    centre.save()


def usernames(email, siret):
    return [user.username for user in matching_accounts(email, siret)]


def test_mapping_by_email_and_organisation_siret(sirets):
    from allo.accounts.models import User
    from allo.partners.models import Partner

    assert usernames("PARTENAIRE-ROUEN@allo.example", ROUEN) == ["partenaire-rouen"]  # case ignored
    assert usernames("partenaire-rouen@allo.example", GIRONDE) == []  # another administration's SIRET
    assert usernames("operateur@allo.example", N1) == ["operateur"]  # a State agent: its centre's SIRET
    assert usernames("operateur@allo.example", ROUEN) == []
    assert usernames("inconnu@allo.example", ROUEN) == []
    assert usernames("", "") == [] and usernames("operateur@allo.example", "") == []
    # a partner agent is matched by its partner only, even if its account names a centre with that SIRET
    agent = User.objects.get(username="partenaire-rouen")
    agent.centre = User.objects.get(username="operateur").centre
    agent.save()
    assert usernames("partenaire-rouen@allo.example", N1) == []
    # no centre (editors, supervisors): the line's operator's SIRET; never an administrator
    from allo.org.models import ServiceLine

    assert usernames("redacteur@allo.example", N1) == []
    ServiceLine.objects.update(siret=LINE)
    assert usernames("redacteur@allo.example", LINE) == ["redacteur"]
    assert usernames("superviseur@allo.example", LINE) == ["superviseur"]
    assert usernames("operateur@allo.example", LINE) == []  # it has a centre: the centre's SIRET
    assert usernames("admin@allo.example", LINE) == []
    # an inactive account or partner matches nothing
    Partner.objects.filter(code="mairie-rouen").update(active=False)
    assert usernames("partenaire-rouen@allo.example", ROUEN) == []
    User.objects.filter(username="operateur").update(is_active=False)
    assert usernames("operateur@allo.example", N1) == []


def test_id_token_issuer_audience_and_acr_checked():
    good = {"iss": "https://idp.example/api/v2", "aud": "client", "acr": "eidas1", "sub": "x"}
    check_id_token(good, "https://idp.example/api/v2/", "client", "eidas1")
    check_id_token({**good, "aud": ["other", "client"]}, "https://idp.example/api/v2", "client", "eidas1")
    check_id_token({**good, "acr": "eidas3"}, "https://idp.example/api/v2", "client", "")  # not asked for
    for bad, message in [({"iss": "https://evil.example"}, NOT_VERIFIED), ({"aud": "other"}, NOT_VERIFIED),
                         ({"acr": "eidas0"}, LEVEL_TOO_LOW), ({"acr": None}, LEVEL_TOO_LOW)]:
        with pytest.raises(Refused) as refused:
            check_id_token({**good, **bad}, "https://idp.example/api/v2", "client", "eidas1")
        assert refused.value.message == message


def test_callback_without_a_state_of_this_session_is_refused_and_audited(demo, settings):
    from allo.accounts.models import SignInEvent

    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "client", "secret"
    settings.PROCONNECT_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"  # never reached
    client = Client()
    response = client.get(reverse("proconnect-callback"), {"code": "c", "state": "s" * 64})
    assert response.status_code == 400
    assert "n'a pas pu être vérifiée" in html.unescape(response.content.decode())
    assert "_auth_user_id" not in client.session
    response = client.get(reverse("proconnect-callback"), {"error": "access_denied", "state": "s" * 64})
    assert response.status_code == 403 and "annulée" in html.unescape(response.content.decode())
    assert list(SignInEvent.objects.order_by("created").values_list("outcome", "reason")) == [
        ("refused", "unknown state"), ("refused", "provider error 'access_denied'")]
    # the button shows with the configuration, not without
    assert 'href="/connexion/proconnect/"' in client.get(reverse("login")).content.decode()
    settings.OIDC_RP_CLIENT_ID = ""
    assert "/connexion/proconnect/" not in client.get(reverse("login")).content.decode()


def test_password_sign_ins_are_audited(demo):
    from allo.accounts.models import SignInEvent

    assert Client().post(reverse("login"), {"username": "operateur", "password": "faux"}).status_code == 200
    assert Client().post(reverse("login"), {"username": "operateur", "password": "allo-demo-2026"}).status_code == 302
    events = list(SignInEvent.objects.order_by("created").values_list("method", "outcome", "username", "user__username"))
    assert events == [("password", "refused", "operateur", None), ("password", "accepted", "operateur", "operateur")]


def test_sign_in_audit_is_purged_with_the_personal_data(demo):
    import datetime as dt

    from django.utils import timezone

    from allo.accounts.audit import record
    from allo.accounts.models import SignInEvent
    from allo.contact_centre import services

    old = record("proconnect", "refused", reason="no account", claims={"email": "a@b.example"})
    recent = record("password", "refused", username="operateur")
    SignInEvent.objects.filter(pk=old.pk).update(created=timezone.now() - dt.timedelta(days=400))
    assert services.purge(days=365)["sign_ins"] == 1
    assert list(SignInEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_a_locked_account_is_offered_proconnect(demo, settings):
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "client", "secret"
    settings.PROCONNECT_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"  # never reached
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "operateur", "password": "faux"})
    response = client.post(reverse("login"), {"username": "operateur", "password": "allo-demo-2026"})
    assert response.status_code == 429
    page = html.unescape(response.content.decode())
    assert "Trop de tentatives de connexion" in page and 'href="/connexion/proconnect/"' in page
