"""The editorial workflow in a browser, as newcomers use it: an operator corrects one section from
its current text, the owner centre's expert reads the diff and retouches it before accepting; an
editor's change to a published fiche is published by a second editor; the pages pass axe."""

from __future__ import annotations

import pytest
from axe_check import axe_violations

pytestmark = pytest.mark.browser
FICHE = "impot-revenu-declaration"  # demo fiche of the tax domain, with Allô's notes


@pytest.fixture
def login(browser):
    contexts = []

    def _login(base, username):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.goto(base + "/connexion/")
        page.fill("#id_username", username)
        page.fill("#id_password", "allo-demo-2026")
        page.click("button[type=submit]:has-text('Se connecter')")
        page.wait_for_load_state()
        return page

    yield _login
    for context in contexts:
        context.close()


def serious_violations(page, label: str) -> list[str]:
    return [f"{label}: {v['id']} ({v['impact']}) {v['help']} {[n['target'] for n in v['nodes']][:3]}"
            for v in axe_violations(page) if v["impact"] in ("serious", "critical")]


def test_a_correction_goes_from_the_operator_to_the_published_fiche(login, demo_live):
    base = demo_live.url
    report = []
    operator = login(base, "operateur")
    operator.goto(f"{base}/base/fiches/{FICHE}/")
    text = operator.content()
    assert text.index("Notes Allô pour le téléphone") < text.index("Réponse courte")
    report += serious_violations(operator, "fiche")
    operator.click("a:has-text('Proposer une correction de « Calendrier »')")
    current = operator.locator("textarea[name=proposed_text]").input_value()
    assert "Ouverture du service en ligne" in current  # pre-filled with the section as it is
    operator.fill("textarea[name=reason]", "Calendrier 2027 annoncé")
    operator.click("button:has-text('Envoyer la proposition')")  # unchanged: refused, the reason kept
    assert "identique au texte actuel" in operator.locator(".fr-error-text").inner_text()
    assert operator.locator("textarea[name=reason]").input_value() == "Calendrier 2027 annoncé"
    report += serious_violations(operator, "proposition avec erreur")
    operator.fill("textarea[name=proposed_text]", current + "\n- En 2027 : ouverture le 10 avril.")
    operator.click("button:has-text('Envoyer la proposition')")
    operator.wait_for_url(f"**/base/fiches/{FICHE}/")

    expert = login(base, "expert-impots")
    expert.goto(f"{base}/redaction/")
    expert.click("a:has-text('Déclarer ses revenus')")
    expert.wait_for_url("**/redaction/propositions/**")
    assert "En 2027 : ouverture le 10 avril." in expert.locator(".allo-diff ins").inner_text()
    report += serious_violations(expert, "relecture")
    retouched = expert.locator("textarea[name=text]").input_value().replace("10 avril", "9 avril")
    expert.fill("textarea[name=text]", retouched)
    expert.click("label:text-is('Accepter')")
    expert.click("button:has-text('Valider la décision')")
    expert.wait_for_url("**/redaction/")
    assert "Proposition acceptée et publiée." in expert.locator(".fr-alert").first.inner_text()
    expert.goto(f"{base}/base/fiches/{FICHE}/")
    assert "En 2027 : ouverture le 9 avril." in expert.locator("#rubrique-calendrier").inner_text()
    assert not report, "\n".join(report)


def test_an_editors_change_is_published_by_another_editor(login, demo_live):
    base = demo_live.url
    report = []
    editor = login(base, "redacteur")
    editor.goto(f"{base}/redaction/fiches/{FICHE}/modifier/")
    editor.fill("#id_title", "Déclarer ses revenus chaque printemps")
    editor.fill("#id_reason", "Titre plus parlant")
    editor.click("button:has-text('Enregistrer')")
    assert "attend qu'une autre personne" in editor.locator(".fr-alert").first.inner_text()
    editor.click(".fr-alert--warning a")
    assert "Vous êtes l'auteur de cette modification" in editor.content()
    assert editor.locator("button:has-text('Valider la décision')").count() == 0
    report += serious_violations(editor, "modification en attente, auteur")

    second = login(base, "redacteur2")
    second.goto(f"{base}/redaction/")
    report += serious_violations(second, "rédaction")
    second.click("a:has-text('Déclarer ses revenus')")
    second.wait_for_url("**/redaction/modifications/**")
    second.click("label:text-is('Publier cette modification')")
    second.click("button:has-text('Valider la décision')")
    assert second.locator("h1").inner_text() == "Déclarer ses revenus chaque printemps"
    second.click("a:has-text('Versions')")
    report += serious_violations(second, "versions")
    second.goto(f"{base}/base/fiches/{FICHE}/notes/")
    second.click("button:has-text('Enregistrer')")  # no reason: the browser asks for it, nothing is lost
    report += serious_violations(second, "notes")
    second.goto(f"{base}/redaction/signalements-dila/")
    report += serious_violations(second, "signalements DILA")
    assert not report, "\n".join(report)
