"""The portal on real service-public.fr fiches: the theme tree from DILA's N files, an official fiche
laid out part by part (status and warnings first, conditions labelled, the questionnaire filtering
the text, a guided search walked to its fiche), DILA's dates and attribution, old ids redirected."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from allo.kb.models import Fiche, FicheNotes, ImportRun, Placement, Theme

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").strip()


def links(html: str, prefix: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(rf'href="({re.escape(prefix)}[^"]*)"', html)]


def stub(fiche_id: str, title: str, node: str, position: int, **fields) -> Fiche:
    """An official fiche listed under a node (the sample holds one or two fiches per dossier)."""
    fiche = Fiche.objects.create(id=fiche_id, theme_id="argent-impots-consommation", title=title, short_answer="-",
                                 collection=Fiche.Collection.OFFICIAL, status=Fiche.Status.PUBLISHED, **fields)
    Placement.objects.create(node_id=node, fiche=fiche, position=position)
    return fiche


def test_home_shows_each_audience_with_its_themes_in_service_public_order(client, dila_portal):
    html = client.get(reverse("home")).content.decode()
    assert html.index('id="public-particulier"') < html.index('id="public-professionnel"')
    particuliers = html[html.index('id="public-particulier"'):html.index('id="public-professionnel"')]
    # themes.yaml's order (service-public.fr's), those with something to read only
    order = [t.slug for t in Theme.objects.filter(parent=None, audience="particulier").order_by("position")]
    shown = re.findall(r'href="/themes/([\w-]+)/"', particuliers)
    assert shown == [slug for slug in order if slug in shown] and "argent-impots-consommation" in shown
    assert "ressources-humaines" in html[html.index('id="public-professionnel"'):]  # F10403's Pro theme
    assert "Direction de l'information légale et administrative (DILA)" in text(html)


def test_a_theme_lists_its_sous_themes_dossiers_and_the_lines_own_fiches_apart(client, dila_portal):
    html = client.get(reverse("portal-theme", args=["argent-impots-consommation"])).content.decode()
    page = text(html)
    assert "Impôts, taxes et douane" in page
    assert 'href="/themes/n19785/"' in html  # F1's dossier
    local = Fiche.objects.published().local().filter(theme_id="argent-impots-consommation").order_by("title").first()
    section = html[html.index('id="fiches-du-3939"'):]
    assert "Fiches du 3939" in text(section) and f'href="/fiches/{local.id}"' in section
    assert f'href="/fiches/{local.id}"' not in html[:html.index('id="fiches-du-3939"')]


def test_sous_themes_come_in_dilas_order(client, dila_portal):
    # N19803's own page lists: Assurance, Banque, Consommation, Crédit, Épargne, Impôts (F1 is under Impôts)
    stub("F990001", "Une fiche bancaire", "n98", 0)
    stub("F990002", "Une fiche de consommation", "n24033", 0)
    html = client.get(reverse("portal-theme", args=["argent-impots-consommation"])).content.decode()
    titles = [t for t in re.findall(r'<h2 id="n\d+" class="fr-h3"><a href="[^"]+">([^<]+)</a>', html)]
    assert titles == ["Banque", "Consommation", "Impôts, taxes et douane"]


def test_a_dossier_lists_its_fiches_in_dilas_order_and_its_questions_apart(client, dila_portal):
    node = "n19785"
    stub("F990010", "Troisième fiche", node, 7)
    stub("F990011", "Première fiche", node, 0)
    stub("F990012", "Une question ?", node, 10_001)
    stub("F990013", "Une autre question ?", node, 10_000)
    stub("F990014", "Je déclare mes revenus", node, 20_000, kind=Fiche.Kind.HOW_TO)
    stub("F990015", "Une fiche que seul son fichier place ici", node, 90_000)
    response = client.get(reverse("portal-theme", args=[node]))
    html = response.content.decode()
    assert response.status_code == 200 and html.count("<h1") == 1
    order = [fid for fid in re.findall(r'href="/fiches/(F\d+)"', html.split('<aside')[0])]
    assert order.index("F990011") < order.index("F990010")  # positions 0 then 7, not by title
    questions = html.index('id="questions"')
    assert html.index("F990011") < questions < html.index("F990013") < html.index("F990012")
    assert questions < html.index('id="comment-faire-si"') < html.index("F990014")
    assert html.index('id="autres-fiches"') < html.index("F990015")
    # F1 is in one of the dossier's sous-dossiers, under its heading; a sous-dossier's own address leads there
    sub = Placement.objects.get(fiche_id="F1").node
    assert sub.kind == Theme.Kind.SUBDOSSIER and html.index(f'id="{sub.slug}"') < html.index('href="/fiches/F1"')
    redirect = client.get(reverse("portal-theme", args=[sub.slug]))
    assert redirect.status_code == 301 and redirect["Location"] == f"/themes/{node}/#{sub.slug}"
    crumbs = html[html.index('class="fr-breadcrumb"'):html.index("</nav>", html.index('class="fr-breadcrumb"'))]
    assert re.findall(r"<a class=\"fr-breadcrumb__link\"[^>]*>([^<]+)</a>", crumbs)[:3] == [
        "Accueil", "Argent - Impôts - Consommation", "Impôts, taxes et douane"]


def test_an_official_fiche_says_its_status_and_warnings_first_then_its_text(client, dila_portal):
    html = client.get(reverse("portal-fiche", args=["F1"])).content.decode()
    page = text(html)
    status = page.index("Mise à jour à venir")
    warning = page.index("Impôt sur le revenu : déclaration 2024 des revenus de 2023")
    intro = page.index("Le versement de cotisations syndicales vous permet")
    body = page.index("Quelles sont les conditions à remplir")
    assert page.index("Impôt sur le revenu - Versement de cotisations syndicales") < status < warning < intro < body
    assert 'class="fr-alert fr-alert--warning fr-mb-3w allo-warning"' in html
    # DILA's own date, never the import's; the attribution with the data's date
    assert "Vérifié le 1er janvier 2024" in page
    run = ImportRun.last_done()
    assert f"données du {run.archive_date.day}" in page and "Licence Ouverte" in page
    assert "Direction de l'information légale et administrative (DILA) — service-public.fr" in page
    assert "Services en ligne et formulaires" in page and "Cerfa n°" in page
    # crumbs from the tree: theme > sous-thème > dossier > sous-dossier > the fiche
    assert 'href="/themes/n19785/"' in html and 'aria-current="page">Impôt sur le revenu - Versement' in html


def test_a_fiche_on_two_sites_shows_both_audiences(client, dila_portal):
    html = client.get(reverse("portal-fiche", args=["F10403"])).content.decode()
    badges = html[:html.index('id="fiche-titre"')]
    assert "Particuliers</span>" in badges and "Professionnels</span>" in badges


def test_conditions_show_and_the_questionnaire_filters_the_text_server_side(client, dila_portal):
    url = reverse("portal-fiche", args=["F10027"])
    html = client.get(url).content.decode()
    assert "Si</span> Vous touchez le RSA" in html
    form = html[html.index('id="votre-situation"'):]
    assert re.search(rf'<form method="get" action="{url}#texte"', form)
    rsa = int(re.search(r'<legend[^>]*id="dila-q(\d+)-legend">Touchez-vous le RSA', html).group(1))
    free = "complémentaire santé solidaire gratuite. Cette attribution"
    assert free in text(html)
    no = client.get(url, {f"q{rsa}": "1"}).content.decode()
    assert free not in text(no) and "Si</span> Vous touchez le RSA" not in no
    assert f'name="q{rsa}" value="1" checked' in no
    assert "Informations pour votre situation : Vous ne touchez pas le RSA" in text(no)
    yes = client.get(url, {f"q{rsa}": "0"}).content.decode()
    assert free in text(yes)
    # nonsense answers are ignored, not an error
    assert client.get(url, {f"q{rsa}": "9", "q99": "x", "vrai": "<script>"}).status_code == 200


def test_a_guided_search_is_walked_one_question_at_a_time_to_its_fiche(client, dila_portal):
    url = reverse("portal-fiche", args=["F34300"])
    page = client.get(url).content.decode()
    answers = ["immatriculer à votre nom", "Il s'agit d'un 2 roues", "moins de 50 cm", "Il est neuf",
               "acheté en France"]
    for step, answer in enumerate(answers):
        walk = page[page.index('id="parcours"'):page.index("</section>", page.index('id="parcours"'))]
        options = re.findall(r'<li><a class="fr-link[^"]*" href="([^"]+)">(.*?)</a>', walk)
        assert options, f"no question at step {step}"
        href = next(h for h, label in options if answer in label.replace("&#x27;", "'"))
        page = client.get(href.replace("&amp;", "&")).content.decode()
        # the answers so far, each with its way back
        assert len(re.findall(r"modifier<span class=\"fr-sr-only\"> la réponse", page)) == step + 1
    leaf = page[page.index("allo-walk__leaf"):]
    target = re.search(r'href="(/fiches/F10293\?[^"]+)"', leaf).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(target).query)["vrai"] == ["T10219,T10384,T10576"]
    assert "Carte grise : immatriculation d'un véhicule neuf" in text(leaf)
    back = re.findall(r'href="([^"]+)">modifier', page)[0].replace("&amp;", "&")
    assert "chemin=" in back and client.get(back).status_code == 200
    arrived = client.get(target).content.decode()
    assert "Informations pour votre situation" in arrived and 'href="/fiches/F10293"' in arrived  # « all cases »


def test_commented_links_and_an_online_service_in_its_own_block(client, dila_portal):
    html = client.get(reverse("portal-fiche", args=["F10041"])).content.decode()
    part = html[html.index('id="partie-links"'):]
    assert part.count('target="_blank" rel="noopener noreferrer"') >= 5
    html = client.get(reverse("portal-fiche", args=["F1420"])).content.decode()
    services = html[html.index('id="partie-services"'):]
    assert 'class="allo-service"' in services and "Service en ligne" in services


def test_old_dila_ids_lead_to_their_successor(client, dila_portal):
    fiche = client.get(reverse("portal-fiche", args=["F1085"]))
    assert fiche.status_code == 301 and fiche["Location"] == reverse("portal-fiche", args=["F10027"])
    dossier = client.get(reverse("portal-fiche", args=["F34211"]))
    assert dossier.status_code == 301 and dossier["Location"] == reverse("portal-theme", args=["n19785"])
    assert client.get(reverse("portal-fiche", args=["F123456789"])).status_code == 404
    # a DILA id typed in a theme address finds its node
    assert client.get("/themes/N19785/")["Location"] == "/themes/n19785/"


def test_allo_notes_never_reach_the_portal(client, dila_portal):
    FicheNotes.objects.create(fiche_id="F1", script="SCRIPT INTERNE : ne pas lire aux usagers",
                              transfer_when="QUAND TRANSFÉRER au CIF", synonyms=["cotiz syndicale"])
    html = client.get(reverse("portal-fiche", args=["F1"])).content.decode()
    assert "SCRIPT INTERNE" not in html and "QUAND TRANSFÉRER" not in html and "cotiz syndicale" not in html
    assert "Notes Allô" not in html


def test_rendered_text_is_reused_until_the_knowledge_base_changes(client, dila_portal):
    url = reverse("portal-fiche", args=["F10027"])
    first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url).content.decode()
    assert not [q for q in queries.captured_queries if "kb_officialtext" in q["sql"]]  # DILA's document not read
    assert again.count("Vous touchez le RSA") == first.count("Vous touchez le RSA")
    Fiche.objects.get(pk="F10027").save()  # any change to the knowledge base: rendered again
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert [q for q in queries.captured_queries if "kb_officialtext" in q["sql"]]


def test_the_shared_page_cache_keeps_each_situation_apart(request, dila_portal):
    from test_page_cache import asgi_request

    from allo.portal import analytics
    from allo.web import pagecache

    pagecache.clear()
    request.addfinalizer(analytics.stop_batching)  # hits queue their analytics: back to writing at once
    rsa = "/fiches/F10027?q4=0"
    no_rsa = "/fiches/F10027?q4=1"
    first = asgi_request(rsa)
    other = asgi_request(no_rsa)
    assert first[0] == other[0] == 200 and "age" not in other[1]
    assert "Vous touchez le RSA." in text(first[2]) and "Vous ne touchez pas le RSA" in text(other[2])
    again = asgi_request(rsa)
    assert "age" in again[1] and "Vous touchez le RSA." in text(again[2])


def test_a_search_hit_says_when_it_is_a_guided_search(client, dila_portal):
    page = client.get(reverse("portal-search"), {"q": "carte grise démarches"}).content.decode()
    rows = re.findall(r'<li class="fr-mb-3w">(.*?)</li>', page, re.S)
    guided = next(row for row in rows if 'href="/fiches/F34300"' in row)
    assert '<span class="fr-badge fr-badge--sm fr-badge--no-icon">Recherche guidée</span>' in guided
    information = [row for row in rows if 'href="/fiches/F34300"' not in row and "/fiches/F" in row]
    assert information and all("fr-badge" not in row for row in information)  # fiches d'information: no badge
