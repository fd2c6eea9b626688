"""The desk's knowledge-base panel: a fiche opens inside the desk, with Allô's notes first and
DILA's text whose links stay in the panel; the call and its wrap-up form are never left."""

from __future__ import annotations

import re

import pytest
from conftest import drain
from django.test import Client
from django.urls import reverse

from allo.accounts.models import User
from allo.kb.models import Fiche, FicheNotes

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true", "HX-Target": "zone-kb"}


def staff(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_a_hit_opens_in_the_panel_with_allos_notes_before_dilas_text(dila_sample):
    FicheNotes.objects.create(fiche_id="F1", script="Dites : les formulaires 2024 arrivent en avril.")
    response = staff("operateur").get(reverse("desk-fiche", args=["F1"]) + "?q=cotisations", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html  # the panel alone
    assert response["HX-Replace-Url"] == reverse("desk-fiche", args=["F1"]) + "?q=cotisations"
    notes = html.index("Notes Allô pour le téléphone")
    assert html.index('id="panneau-titre"') < notes < html.index("les formulaires 2024 arrivent en avril")
    assert notes < html.index("Impôt sur le revenu : déclaration 2024 des revenus de 2023")  # DILA's warning
    assert re.search(r'<h2 class="[^"]*" id="panneau-titre" tabindex="-1" autofocus>', html)  # focus moves here
    assert '<h3 class="fr-alert__title">Impôt sur le revenu : déclaration 2024' in html  # h3 under the panel's h2
    # links to other fiches and dossiers stay in the desk; never the portal's pages
    assert re.search(r'href="/poste/base/(fiches|themes)/', html)
    assert not re.search(r'href="/(fiches|themes)/', html)
    assert 'data-use-fiche="F1"' in html  # the button that fills the wrap-up's « Fiche(s) utilisée(s) »
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Vérifié le 1er janvier 2024" in words and "Licence Ouverte" in words  # DILA's date and attribution


def test_the_questionnaire_filters_the_fiche_in_the_panel(dila_sample):
    client = staff("operateur")
    url = reverse("desk-fiche", args=["F10027"])
    html = client.get(url, headers=HTMX).content.decode()
    rsa = int(re.search(r'id="panneau-q(\d+)-legend">Touchez-vous le RSA', html).group(1))
    assert f'<form method="get" action="{url}">' in html  # inside the panel: htmx boosts it there
    assert "Si</span> Vous touchez le RSA" in html
    filtered = client.get(url, {f"q{rsa}": "1"}, headers=HTMX).content.decode()
    assert "Si</span> Vous touchez le RSA" not in filtered and "Texte filtré pour : Vous ne touchez pas le RSA" in filtered


def test_a_guided_search_walks_in_the_panel(dila_sample):
    client = staff("operateur")
    url = reverse("desk-fiche", args=["F34300"])
    html = client.get(url, headers=HTMX).content.decode()
    options = re.findall(r'<li><a href="([^"]+)">(.*?)</a>', html[html.index('id="panneau-parcours"'):])
    href = next(h for h, label in options if "immatriculer à votre nom" in label).replace("&amp;", "&")
    assert href.startswith(url + "?chemin=")
    step = client.get(href, headers=HTMX).content.decode()
    assert "modifier<span" in step and 'id="panneau-question" tabindex="-1" autofocus' in step


def test_without_javascript_the_panel_comes_with_the_whole_desk_and_the_call(router, api, dila_sample):
    operator = staff("operateur")
    operator.post(reverse("desk-state"), {"action": "ready"})
    call = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939"}).json()["call_id"]
    drain(router)
    page = operator.get(reverse("desk-fiche", args=["F10027"])).content.decode()
    assert "<html" in page and "+33611223344" in page  # the call's context
    assert f'action="{reverse("desk-end-call", args=[call])}"' in page and 'id="choix-fiches"' in page  # its wrap-up
    assert 'id="panneau-titre"' in page and "Complémentaire santé solidaire" in page
    assert 'hx-history="false"' in page  # htmx never copies the caller's card into the browser's storage


def test_search_hits_open_in_the_panel_and_the_way_back(dila_sample):
    client = staff("operateur")
    html = client.get(reverse("desk-kb-search"), {"q": "complémentaire santé solidaire"}, headers=HTMX).content.decode()
    assert re.search(r'href="/poste/base/fiches/F10027/\?q=', html)
    assert "/base/fiches/F10027/\"" not in html  # not the staff page, which would leave the desk
    assert "Licence Ouverte" in html  # DILA's titles and snippets: its attribution
    hits = html.count("<li>")
    assert hits > 1 and html.count("confiance") == 1  # the first hit's alone is calibrated
    assert 'hx-swap-oob="innerHTML:#annonce-kb"' in html  # the count, said by the persistent live region
    back = client.get(reverse("desk-kb-search"), {"q": "complémentaire santé solidaire", "retour": "1"},
                      headers=HTMX).content.decode()
    assert 'id="titre-resultats" tabindex="-1" autofocus' in back  # focus back on the hits
    short = client.get(reverse("desk-kb-search"), {"q": "ca"}, headers=HTMX).content.decode()
    assert "au moins trois caractères" in short


def test_a_dossier_opens_in_the_panel_and_an_unknown_fiche_says_so(dila_sample):
    client = staff("expert-impots")
    html = client.get(reverse("desk-node", args=["n19785"]), headers=HTMX).content.decode()
    assert 'href="/poste/base/fiches/F1/"' in html and 'id="panneau-titre"' in html and "Licence Ouverte" in html
    missing = client.get(reverse("desk-fiche", args=["F404404"]), headers=HTMX)
    assert missing.status_code == 200 and "Fiche introuvable" in missing.content.decode()
    assert client.get(reverse("desk-fiche", args=["F404404"])).status_code == 404
    archived = Fiche.objects.published().local().first()
    Fiche.objects.filter(pk=archived.pk).update(status=Fiche.Status.ARCHIVED)
    assert "Fiche introuvable" in client.get(reverse("desk-fiche", args=[archived.pk]), headers=HTMX).content.decode()


def test_a_local_fiche_opens_in_the_panel_too(demo):
    fiche = Fiche.objects.published().local().exclude(level2="").order_by("id").first()
    html = staff("operateur").get(reverse("desk-fiche", args=[fiche.id]), headers=HTMX).content.decode()
    assert "Réponse courte" in html and "Fiche du 3939" in html and "Notes Allô pour le téléphone" in html
