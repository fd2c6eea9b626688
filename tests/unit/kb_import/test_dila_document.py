"""One DILA fiche -> its record and document, and the document -> DSFR HTML and plain text.

Real fiches from the shared archives (../shared/kb/service-public-real/) where they exist, and
small project-written files for the error paths. The importer is pure: `-p no:django` runs these.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from allo.kb.importers.dila import (
    DilaFormatError,
    answers_from_choices,
    answers_from_query,
    guided_step,
    parse_fiche,
    render_html,
    render_text,
    search_fields,
)
from allo.kb.importers.dila.render import Renderer, condition_label, evaluate, situation_query

SHARED = Path(__file__).resolve().parents[4] / "shared" / "kb"
REAL = SHARED / "service-public-real"
SAMPLES_35 = SHARED / "service-public-samples"
needs_real = pytest.mark.skipif(not (REAL / "part.zip").exists(),
                                reason=f"the real DILA archives are not at {REAL} (the project's ../shared)")


@cache
def real(name: str, site: str = "part") -> bytes:
    with zipfile.ZipFile(REAL / f"{site}.zip") as archive:
        return archive.read(f"{name}.xml")


def link(target: str, kind: str) -> str:
    return f"/fiches/{target}/"


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# -- real fiches ----------------------------------------------------------------------------------


@needs_real
def test_a_warning_and_the_update_status_are_kept_and_the_warning_comes_first():
    record = parse_fiche(real("F1"), "F1.xml")
    assert record["status"] == "a-venir"
    assert (record["modified"], record["important"]) == ("2024-01-01", "2024-01-01")
    [warning] = record["document"]["warnings"]
    assert warning["title"] == "Impôt sur le revenu : déclaration 2024 des revenus de 2023"
    html = render_html(record["document"], link)
    assert html.startswith('<div class="fr-alert fr-alert--warning')
    assert "ne sont pas encore disponibles pour la campagne 2024" in page_text(html)
    assert "Avertissement du 1er janvier 2024" in html


@needs_real
def test_every_audience_and_the_dila_type_are_read():
    record = parse_fiche(real("F10403", "pro"), "F10403.xml")
    assert record["site"] == "professionnel"
    assert record["paths"] == [{"audience": "professionnel", "crumbs": [["N24267", "Ressources humaines"],
                                                                       ["N22781", "Recrutement"]]}]
    assert record["kind"] in {"information", "question-reponse"}


@needs_real
def test_a_questionnaire_filters_the_conditional_passages_and_labels_them():
    record = parse_fiche(real("F10027"), "F10027.xml")
    doc = record["document"]
    questions = doc["questionnaire"]["questions"]
    assert [runs for runs in questions[0]["title"]] == ["Où habitez-vous ?"]
    rsa = next(i for i, q in enumerate(questions) if "RSA" in str(q["title"]))
    # Without a situation, the RSA passage is shown with its condition.
    full = render_html(doc, link)
    assert "Si</span> Vous touchez le RSA" in full
    assert "vous avez droit à la complémentaire santé solidaire gratuite" in page_text(full)
    # Answering "No" to the RSA question leaves it out; "Yes" keeps it.
    no = answers_from_choices(doc, {rsa: 1})
    yes = answers_from_choices(doc, {rsa: 0})
    assert no == {"T11714": True, "T11713": False} and yes == {"T11713": True, "T11714": False}
    assert "complémentaire santé solidaire gratuite. Cette attribution" not in page_text(render_html(doc, link, answers=no))
    assert "complémentaire santé solidaire gratuite. Cette attribution" in page_text(render_html(doc, link, answers=yes))
    # The questionnaire renders as DSFR radio groups, each answer with its situation.
    fields = Renderer(doc, link).questionnaire_fields({rsa: 0})
    assert f'name="q{rsa}" value="0" checked' in fields and "Vous touchez le RSA" in fields


@needs_real
@pytest.mark.parametrize("fiche_id, title", [
    ("F36511", "Révision du loyer en cours de bail"),  # DILA: "[RG - Révision du loyer en cours de bail]"
    ("F36488", "Caution du locataire (ou colocataire) dans un logement privé"),  # "[...]"
    ("F36489", "Recherche guidée : MTP"),  # "[Questionnaire - MTP]"
    ("F34300", None),  # a guided search titled as people read it already: as it is
])
def test_a_guided_search_is_titled_as_people_read_it(fiche_id, title):
    record = parse_fiche(real(fiche_id), f"{fiche_id}.xml")
    original = re.search(r"<dc:title>(.*?)</dc:title>", real(fiche_id).decode()).group(1)
    assert record["title"] == (title or original)


@needs_real
def test_a_guided_search_is_a_tree_to_walk_whose_leaves_carry_the_situation():
    record = parse_fiche(real("F34300"), "F34300.xml")
    assert record["kind"] == "recherche-guidee"
    doc = record["document"]
    chosen, options, answers = guided_step(doc, [])
    assert chosen == [] and len(options) > 3
    start = next(i for i, o in enumerate(options) if "immatriculer à votre nom" in str(o["title"]))
    path = [start]
    while True:
        chosen, options, answers = guided_step(doc, path)
        if not options:
            break
        path.append(0)
    leaf = chosen[-1]
    assert leaf["target"]["id"].startswith("F") and answers
    # The whole tree, rendered, links each leaf to its fiche with the situation in the address.
    tree = Renderer(doc, link).guided_tree()
    assert f'href="/fiches/{leaf["target"]["id"]}/?{situation_query(answers)}"' in tree.replace("&amp;", "&")
    assert "Il s&#x27;agit d&#x27;un 2 roues de moins de 50 cm" in tree
    # The fiche it leads to reads the same situation back from its address.
    query = parse_qs(situation_query(answers))
    assert answers_from_query(query.get("vrai", [""])[0], query.get("faux", [""])[0]) == answers


@needs_real
def test_commented_external_links_are_all_kept():
    record = parse_fiche(real("F10041"), "F10041.xml")
    links = record["document"]["links"]
    assert len(links) == 5 and all(lk["url"].startswith("http") and lk["title"] for lk in links)
    html = render_html(record["document"], link)
    assert all(f'href="{lk["url"]}"' in html for lk in links)
    assert html.count('target="_blank" rel="noopener noreferrer"') >= 5


@needs_real
def test_an_online_service_is_a_block_of_its_own_not_glued_into_the_sentence():
    html = render_html(parse_fiche(real("F1420"), "F1420.xml")["document"], link)
    sentence = "Vous devez utiliser le téléservice du ministère de la justice :</p>"
    assert sentence in html
    after = html[html.index(sentence) + len(sentence):]
    assert after.startswith('<ul class="allo-services"><li class="allo-service">')
    assert "Demande en ligne d&#x27;extrait de casier judiciaire (bulletin n°3)" in after[:600]


@needs_real
def test_forms_keep_their_cerfa_number_and_notice():
    record = parse_fiche(real("F10007"), "F10007.xml")
    services = record["document"]["services"]
    form = next(s for s in services if s["cerfa"])
    assert form["notices"] and form["notices"][0]["url"].startswith("https://")
    html = render_html(record["document"], link)
    assert f"Cerfa n° {form['cerfa']}" in html and "Notice" in html
    assert form["cerfa"] in search_fields(record)["keywords"]


@needs_real
def test_schema_35_samples_still_parse():
    f862 = parse_fiche((SAMPLES_35 / "F862.xml").read_bytes(), "F862.xml")
    assert f862["kind"] == "question-reponse"
    assert f862["title"] == "Quel est le délai de prescription en matière d'assurance habitation ?"
    f2594 = parse_fiche((SAMPLES_35 / "F2594.xml").read_bytes(), "F2594.xml")
    situations = [b for b in f2594["document"]["body"] if b["t"] == "sits"]
    assert situations and all(item["title"] for item in situations[0]["items"])
    html = render_html(f2594["document"], link)
    assert html.count('class="fr-accordion"') >= len(situations[0]["items"])


@needs_real
def test_search_fields_name_what_the_engine_weighs():
    record = parse_fiche(real("F1"), "F1.xml")
    fields = search_fields(record)
    assert set(fields) == {"title", "description", "intro", "headings", "body", "keywords", "definitions", "crumbs",
                           "kind", "audiences"}
    assert fields["title"].startswith("Impôt sur le revenu")
    assert "Quel est le montant du crédit d'impôt pour versement de cotisations syndicales ?" in fields["headings"]
    assert "Nous vous indiquons" not in fields["description"]  # DILA's editorial closing sentence


# -- rendering ------------------------------------------------------------------------------------

DOC = {
    "warnings": [], "intro": [{"t": "p", "c": ["Texte <script>alert(1)</script> & co"]}],
    "body": [
        {"t": "p", "c": ["Voir ", {"t": "ln", "id": "F2", "k": "Fiche", "c": ["l'autre fiche"]}, " et le ",
                         {"t": "ln", "id": "R9", "k": "Sigle", "c": ["CSE"]}, " et ",
                         {"t": "a", "href": "javascript:alert(1)", "c": ["un faux lien"]}, "."]},
        {"t": "table", "title": ["Tarifs"], "rows": [
            {"h": True, "cells": [{"c": [{"t": "p", "c": ["Âge"]}]}, {"c": [{"t": "p", "c": ["Prix"]}]}]},
            {"h": False, "cells": [{"c": [{"t": "p", "c": ["Tous"]}], "rs": 2}, {"c": [{"t": "p", "c": ["10 €"]}]}]},
        ]},
        {"t": "cases", "items": [
            {"title": ["Vous êtes salarié"], "cond": ["vrai", "T1"], "c": [{"t": "p", "c": ["Cas salarié."]}]},
            {"title": ["Vous êtes retraité"], "cond": ["vrai", "T2"], "c": [{"t": "p", "c": ["Cas retraité."]}]},
        ]},
    ],
    "glossary": [{"id": "R9", "k": "sigle", "title": "CSE", "c": [{"t": "p", "c": ["Comité social et économique"]}]}],
    "defines": {"T1": ["Vous êtes salarié", ""], "T2": ["Vous êtes retraité", "Vous n'êtes pas retraité"]},
}


def test_text_is_escaped_and_links_are_safe():
    html = render_html(DOC, link)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert 'href="/fiches/F2/"' in html
    assert '<abbr title="Comité social et économique">CSE</abbr>' in html
    assert "javascript:" not in html and "un faux lien" in html


def test_tables_keep_headers_and_merged_cells():
    html = render_html(DOC, link)
    assert "<caption>Tarifs</caption><thead><tr><th scope=\"col\">Âge</th>" in html
    assert '<td rowspan="2">Tous</td>' in html


def test_cases_are_accordions_and_the_situation_opens_its_case():
    html = render_html(DOC, link)
    assert html.count('class="fr-accordion"') == 2 and 'aria-expanded="true"' not in html
    chosen = render_html(DOC, link, answers={"T2": True, "T1": False})
    assert "Cas retraité." in chosen and "Cas salarié." not in chosen
    assert chosen.count('aria-expanded="true"') == 1


def test_conditions_evaluate_in_three_values_and_read_as_situations():
    labels = DOC["defines"]
    assert evaluate(["ou", ["vrai", "T1"], ["vrai", "T2"]], {"T2": True}) is True
    assert evaluate(["et", ["vrai", "T1"], ["vrai", "T2"]], {"T2": True}) is None
    assert evaluate(["faux", "T2"], {"T2": True}) is False
    assert evaluate(["indefini", "T2"], {"T2": False}) is False
    assert condition_label(["ou", ["vrai", "T1"], ["faux", "T2"]], labels) == (
        "Vous êtes salarié ou Vous n'êtes pas retraité")
    assert condition_label(["vrai", "T404"], labels).startswith("une situation précise")


def test_plain_text_has_every_text_and_no_markup_or_ids():
    text = render_text(DOC)
    assert "Cas retraité." in text and "Comité social et économique" in text and "l'autre fiche" in text
    assert "R9" not in text and "/fiches/" not in text


# -- errors ---------------------------------------------------------------------------------------

HEAD = b'<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F9"><dc:title>T</dc:title>'


@pytest.mark.parametrize(("xml", "expected"), [
    (b"<Fiche/>", "F9.xml : élément <Publication> manquant (racine trouvée : <Fiche>)"),
    (b"", "F9.xml, ligne 1, colonne 1 : XML mal formé (fichier vide ou tronqué)"),
    (b'<Publication ID="F9"/>', "F9.xml : élément <dc:title> manquant dans <Publication>"),
    (b'<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F8"><dc:title>T</dc:title></Publication>',
     "F9.xml : identifiant F8 différent du nom de fichier"),
    (HEAD + b"\n<ListeSituations>\n<Situation><Texte/></Situation></ListeSituations></Publication>",
     "F9.xml, ligne 3 : élément <Titre> manquant dans <Situation>"),
    (HEAD + b"\n<Texte><Paragraphe>ouvert\n</Texte></Publication>",
     "F9.xml, ligne 3, colonne 3 : XML mal formé dans l'élément <Paragraphe> "
     "(balise fermante qui ne correspond pas à l'élément ouvert)"),
])
def test_invalid_files_get_a_clear_french_message(xml, expected):
    with pytest.raises(DilaFormatError) as err:
        parse_fiche(xml, "F9.xml")
    message = str(err.value)
    assert message.replace(", ligne 1 :", " :") == expected


def test_entity_expansion_and_external_entities_are_refused_before_parsing():
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i else b"&lol;") * 10)
                       for i in range(1, 10))
            + b']>\n<Publication ID="F9"><dc:title>&lol9;</dc:title></Publication>')
    xxe = b'<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Publication ID="F9">&x;</Publication>'
    for data in (bomb, xxe):
        with pytest.raises(DilaFormatError, match="DOCTYPE/ENTITY refusée"):
            parse_fiche(data, "F9.xml")


def test_the_importer_does_not_need_django():
    code = ("import sys, allo.kb.importers.dila, allo.kb.importers.dila.archives; "
            "sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3]).returncode == 0
