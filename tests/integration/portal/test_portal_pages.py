"""Public pages: they render, in French, with DSFR markup; only published fiches; no internal field."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from allo.kb.models import CorrectionProposal, Fiche
from allo.kb.sections import LEVEL2

pytestmark = pytest.mark.django_db


def test_home_has_search_themes_popular_fiches_phone_and_hours(client, demo, open_line):
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr"' in html and 'role="search"' in html and 'name="q"' in html
    assert '<label class="fr-label" for="q">' in html
    assert "39 39" in html and "Horaires d'aujourd'hui : 08h00–19h00" in html
    theme = Fiche.objects.published().order_by("id").first().theme
    assert f'href="{reverse("portal-theme", args=[theme.slug])}"' in html
    assert html.count('href="/fiches/') >= 8  # popular fiches
    assert f'href="{reverse("staff-home")}"' in html  # the header's "Espace agents"
    assert 'href="#content"' in html  # skip link


def test_theme_and_subtheme_pages_list_published_fiches_only(client, demo):
    fiche = Fiche.objects.published().exclude(subtheme="").order_by("id").first()
    draft = Fiche.objects.create(id="brouillon-test", theme=fiche.theme, subtheme=fiche.subtheme,
                                 title="Fiche en brouillon secrète", short_answer="Pas encore prête.")
    for url in [reverse("portal-theme", args=[fiche.theme_id]),
                reverse("portal-subtheme", args=[fiche.theme_id, fiche.subtheme_slug])]:
        html = client.get(url).content.decode()
        assert fiche.title in html.replace("&#x27;", "'")
        assert draft.title not in html
        assert 'class="fr-breadcrumb"' in html
    assert client.get(reverse("portal-theme", args=["pas-un-theme"])).status_code == 404
    assert client.get(reverse("portal-subtheme", args=[fiche.theme_id, "pas-un-sous-theme"])).status_code == 404


def test_fiche_page_short_answer_first_then_sections_references_update(client, fiche_with_internals):
    fiche = fiche_with_internals
    html = client.get(reverse("portal-fiche", args=[fiche.id])).content.decode()
    assert html.count("<h1") == 1
    short = html.index("En bref")
    sections = [html.index(f'id="rubrique-{key}"') for key, _, _ in fiche.ordered_sections if key != "service-en-ligne"]
    assert sections and short < min(sections)
    if fiche.references:
        assert html.index('id="rubrique-references"') > max(sections)
        assert fiche.references[0]["url"] in html
    assert "Mise à jour le" in html
    assert "Cette réponse vous a-t-elle aidé ?" in html


def test_fiche_page_leaks_no_internal_field(client, fiche_with_internals):
    fiche = fiche_with_internals
    CorrectionProposal.objects.create(fiche=fiche, author_id=1, reason="NOTE INTERNE : tarif à revoir",
                                      proposed_text="TEXTE PROPOSÉ CONFIDENTIEL")
    html = client.get(reverse("portal-fiche", args=[fiche.id])).content.decode()
    text = re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'")
    for phrasing in fiche.phrasings:
        assert phrasing not in text, f"phrasing leaked: {phrasing}"
    assert LEVEL2[fiche.level2] not in text
    assert "niveau 2" not in text.lower() and "N2" not in text
    assert "NOTE INTERNE" not in text and "TEXTE PROPOSÉ" not in text
    assert "à revoir avant" not in text and "Brouillon" not in text and "Publiée" not in text


@pytest.mark.parametrize("status", [Fiche.Status.DRAFT, Fiche.Status.IN_REVIEW, Fiche.Status.ARCHIVED])
def test_unpublished_fiches_are_not_reachable(client, demo, status):
    fiche = Fiche.objects.published().order_by("id").first()
    Fiche.objects.filter(pk=fiche.pk).update(status=status)
    assert client.get(reverse("portal-fiche", args=[fiche.id])).status_code == 404
    assert client.post(reverse("portal-feedback", args=[fiche.id]), {"helpful": "oui"}).status_code == 404
    search = client.get(reverse("portal-search"), {"q": fiche.title}).content.decode()
    assert f'href="{reverse("portal-fiche", args=[fiche.id])}"' not in search
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("portal-fiche", args=[fiche.id])}"' not in home


def test_unknown_fiche_is_404(client, demo):
    assert client.get(reverse("portal-fiche", args=["nexiste-pas"])).status_code == 404


def test_search_results_highlight_and_filter_by_theme(client, demo):
    fiche = Fiche.objects.published().order_by("-popularity", "id").first()
    response = client.get(reverse("portal-search"), {"q": fiche.title})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{reverse("portal-fiche", args=[fiche.id])}"' in html
    assert "<mark>" in html
    assert "Filtrer par thème" in html
    filtered = client.get(reverse("portal-search"), {"q": fiche.title, "theme": fiche.theme_id}).content.decode()
    assert 'aria-current="true"' in filtered
    for other in re.findall(r'<p class="fr-text--xs fr-mb-1v">([^<]+)</p>', filtered):
        assert other == fiche.theme.label.replace("'", "&#x27;")


def test_search_suggests_a_correction_on_typos(client, demo):
    html = client.get(reverse("portal-search"), {"q": "alocation logemant"}).content.decode()
    assert "Vouliez-vous dire" in html
    assert "/recherche?q=allocation" in html


def test_search_errors_are_french_and_shown_on_the_field(client, demo):
    html = client.get(reverse("portal-search"), {"q": "   "}).content.decode()
    assert 'aria-invalid="true"' in html and "La recherche est vide" in html
    html = client.get(reverse("portal-search"), {"q": "x" * 600}).content.decode()
    assert "trop longue" in html


def test_search_snippets_cannot_inject_markup(client, demo):
    html = client.get(reverse("portal-search"), {"q": '<script>alert(1)</script> carte'}).content.decode()
    assert "<script>alert(1)</script>" not in html


def test_pages_carry_csp_nonce_and_no_inline_style(client, demo):
    fiche = Fiche.objects.published().order_by("id").first()
    for url in [reverse("home"), reverse("portal-search") + "?q=carte", reverse("portal-fiche", args=[fiche.id]),
                reverse("portal-contact")]:
        response = client.get(url)
        html = response.content.decode()
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert " style=" not in html
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag or "nonce=" in tag, tag  # no inline script without the nonce
        assert 'name="csrfmiddlewaretoken"' in html or url != reverse("portal-contact")


def test_staff_home_moved_and_still_public(client, demo):
    html = client.get(reverse("staff-home")).content.decode()
    assert "Espace agents" in html and f'href="{reverse("login")}?next={reverse("staff-home")}"' in html


def test_a_shortened_address_leads_to_the_themes(client, demo):
    for path in ("/themes/", "/fiches/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/#themes"
