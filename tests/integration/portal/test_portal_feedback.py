"""« Cette réponse vous a-t-elle aidé ? »: stored anonymously, rate-limited, shown to editors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from allo.kb.models import Fiche
from allo.portal.models import Feedback

pytestmark = pytest.mark.django_db


@pytest.fixture
def fiche(demo):
    return Fiche.objects.published().order_by("id").first()


def test_feedback_is_stored_without_anything_about_the_client(client, fiche, settings):
    url = reverse("portal-feedback", args=[fiche.id])
    response = client.post(url, {"helpful": "non", "comment": "  Il manque le délai.  "}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302 and response["Location"].endswith("?avis=merci#avis")
    stored = Feedback.objects.get(fiche=fiche)
    assert stored.helpful is False and stored.comment == "Il manque le délai." and stored.fiche_version == fiche.version
    fields = {f.name for f in Feedback._meta.get_fields()}
    assert fields == {"id", "fiche", "fiche_version", "helpful", "comment", "created_at"}
    assert "203.0.113.9" not in str(Feedback.objects.values().get())
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # no session for an anonymous vote
    page = client.get(response["Location"]).content.decode()
    assert "votre avis a bien été enregistré" in page


def test_the_fiche_page_asks_without_a_form_and_the_answer_brings_it(client, fiche):
    page = client.get(reverse("portal-fiche", args=[fiche.id])).content.decode()
    # the same page for every visitor (it is cached): no form, no token, two links
    assert "csrfmiddlewaretoken" not in page and "<form method=\"post\"" not in page
    url = reverse("portal-feedback", args=[fiche.id])
    assert f'href="{url}?utile=oui#avis"' in page and f'hx-get="{url}?utile=non"' in page
    fragment = client.get(url, {"utile": "non"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'name="csrfmiddlewaretoken"' in fragment
    assert 'value="non" checked autofocus' in fragment and 'value="oui">' in fragment
    full = client.get(url, {"utile": "oui"}).content.decode()  # without JavaScript: the fiche with the form
    assert "<html" in full and fiche.title in full and 'value="oui" checked autofocus' in full


def test_feedback_requires_an_answer(client, fiche):
    response = client.post(reverse("portal-feedback", args=[fiche.id]), {"comment": "bof"})
    assert response.status_code == 200
    assert "Indiquez si cette réponse vous a aidé" in response.content.decode()
    assert not Feedback.objects.exists()


def test_htmx_feedback_gets_the_fragment(client, fiche):
    response = client.post(reverse("portal-feedback", args=[fiche.id]), {"helpful": "oui"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="avis"' in html
    assert "bien été enregistré" in html


def test_one_vote_per_fiche_per_client_and_a_rate_limit(client, demo):
    fiches = list(Fiche.objects.published().order_by("id")[:22])
    url = reverse("portal-feedback", args=[fiches[0].id])
    client.post(url, {"helpful": "oui"})
    second = client.post(url, {"helpful": "non"})
    assert second["Location"].endswith("?avis=deja#avis")
    assert Feedback.objects.count() == 1
    for fiche in fiches[1:20]:
        client.post(reverse("portal-feedback", args=[fiche.id]), {"helpful": "oui"})
    assert Feedback.objects.count() == 20
    refused = client.post(reverse("portal-feedback", args=[fiches[21].id]), {"helpful": "oui"})
    assert refused.status_code == 429
    assert "beaucoup d&#x27;avis en peu de temps" in refused.content.decode()
    assert Feedback.objects.count() == 20
    # another client is not affected
    other = client.post(reverse("portal-feedback", args=[fiches[21].id]), {"helpful": "oui"}, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302


def test_editors_see_feedback_beside_the_fiche(login_as, fiche):
    Feedback.objects.create(fiche=fiche, helpful=False, comment="Le montant a changé en 2026.")
    Feedback.objects.create(fiche=fiche, helpful=True)
    html = login_as("redacteur").get(reverse("kb-fiche", args=[fiche.id])).content.decode()
    assert "Avis des usagers" in html and "Le montant a changé en 2026." in html and "50 %" in html
    html = login_as("operateur").get(reverse("kb-fiche", args=[fiche.id])).content.decode()
    assert "Avis des usagers" not in html
