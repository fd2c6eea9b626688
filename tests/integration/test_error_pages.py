"""Error pages (issue 14, finding 10): French pages in the State's design system, inside the site's
own layout, instead of Django's bare English ones; the API answers its errors in JSON."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _is_a_site_page(html: str) -> None:
    assert '<html lang="fr"' in html
    assert "fr-header" in html and "fr-footer" in html  # the site's own header and footer (DSFR)
    assert "Not Found" not in html and "Forbidden" not in html and "Server Error" not in html


def test_an_unknown_page_gets_a_french_404(client, demo):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    html = response.content.decode()
    _is_a_site_page(html)
    assert "Page non trouvée" in html and "Erreur 404" in html
    assert f'href="{reverse("portal-search")}"' in html  # a way on: search, home


def test_a_page_the_role_may_not_see_gets_a_french_403(login_as):
    response = login_as("redacteur").get(reverse("space-operator"))
    assert response.status_code == 403
    html = response.content.decode()
    _is_a_site_page(html)
    assert "Accès refusé" in html and "Erreur 403" in html


def test_a_server_error_gets_a_french_500_page(demo, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("allo.web.views.ServiceLine.current", broken)
    client = Client(raise_request_exception=False)
    response = client.get(reverse("staff-home"))
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="fr"' in html and "Erreur 500" in html and "fr-header" in html
    assert "boom" not in html and "Traceback" not in html


def test_api_errors_stay_json(demo, monkeypatch):
    from allo.contact_centre.tokens import create_token

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("allo.contact_centre.services.create_call", broken)
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {create_token('telephony')}"}
    response = client.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939"},
                           content_type="application/json", headers=headers)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json") and "erreur" in response.json()
    missing = client.get("/api/telephony/inconnue", headers=headers)
    assert missing.status_code == 404 and "erreur" in missing.json()
