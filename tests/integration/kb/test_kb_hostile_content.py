"""Knowledge-base content a hostile or broken source brings (issue 14, finding 9): a reference
`javascript:` URL must never become a link; a JSON export with wrong types is refused in French,
never with a Python traceback."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from allo.kb.models import Fiche
from allo.kb.services import ImportFailed, export_json, import_json

pytestmark = pytest.mark.django_db

HOSTILE = [
    {"title": "Piège", "url": "javascript:alert(document.cookie)"},
    {"title": "Piège maquillé", "url": "  JaVaScRiPt:alert(1)"},
    {"title": "Piège tabulé", "url": "java\tscript:alert(1)"},
    {"title": "Données", "url": "data:text/html,<script>alert(1)</script>"},
    {"title": "Script VB", "url": "vbscript:msgbox(1)"},
]
FINE = [
    {"title": "Légifrance", "url": "https://www.legifrance.gouv.fr/loda/id/JORFTEXT000000000001"},
    {"title": "Écrire au service", "url": "mailto:contact@example.gouv.fr"},
    {"title": "Appeler le 39 39", "url": "tel:3939"},
]


@pytest.fixture
def fiche_with_hostile_references(demo):
    fiche = Fiche.objects.published().order_by("id").first()
    Fiche.objects.filter(pk=fiche.pk).update(references=HOSTILE + FINE)  # as an old import left them
    return fiche


def _hrefs(html: str) -> list[str]:
    import re

    return [h.lower().replace("\t", "") for h in re.findall(r'href="([^"]*)"', html)]


@pytest.mark.parametrize("page", ["staff", "portal"])
def test_only_web_mail_and_phone_references_become_links(client, login_as, fiche_with_hostile_references, page):
    fiche = fiche_with_hostile_references
    if page == "staff":
        html = login_as("operateur").get(reverse("kb-fiche", args=[fiche.id])).content.decode()
    else:
        html = client.get(reverse("portal-fiche", args=[fiche.id])).content.decode()
    hrefs = _hrefs(html)
    assert not [h for h in hrefs if h.strip().startswith(("javascript:", "data:", "vbscript:"))], hrefs
    assert f'href="{FINE[0]["url"]}"' in html
    if page == "staff":  # the portal shows web addresses only (allo.portal.catalogue)
        for ref in FINE:
            assert f'href="{ref["url"]}"' in html
        for ref in HOSTILE:
            assert ref["title"] in html  # still shown, as text


def _export_with(change) -> str:
    payload = json.loads(export_json())
    change(payload)
    return json.dumps(payload)


@pytest.mark.parametrize("change, message", [
    (lambda p: p.update(themes="impots"), "« themes » doit être une liste"),
    (lambda p: p.update(themes=["impots"]), "thème"),
    (lambda p: p["themes"][0].update(slug=["x"]), "thème"),
    (lambda p: p.update(fiches={"a": 1}), "« fiches » doit être une liste"),
    (lambda p: p["fiches"].append("une fiche"), "doit être un objet"),
    (lambda p: p["fiches"][0].update(id=["F1"]), "« id »"),
    (lambda p: p["fiches"][0].update(popularity="beaucoup"), "« popularity »"),
    (lambda p: p["fiches"][0].update(version="deux"), "« version »"),
    (lambda p: p["fiches"][0].update(review_by=20270101), "« review_by »"),
    (lambda p: p["fiches"][0].update(sections={"conditions": ["a", "b"]}), "« sections »"),
    (lambda p: p["fiches"][0].update(references=["https://example.fr"]), "« references »"),
    (lambda p: p["fiches"][0].update(references=[{"title": "x", "url": "javascript:alert(1)"}]), "adresse"),
    (lambda p: p["fiches"][0].update(title={"fr": "Titre"}), "« title »"),
])
def test_a_json_export_with_wrong_types_is_refused_in_french(demo, tmp_path, change, message):
    before = export_json()
    path = tmp_path / "kb.json"
    path.write_text(_export_with(change), encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("kb", "import", str(path))
    assert message in str(refused.value)
    assert export_json() == before  # all or nothing


def test_import_json_raises_importfailed_for_a_list_of_fiches_that_are_not_objects(demo):
    with pytest.raises(ImportFailed):
        import_json(json.dumps({"format": json.loads(export_json())["format"], "fiches": [1, 2]}), "kb.json")
