"""A fiche de liaison in a browser: on a call the Mairie de Rouen's switchboard overflowed to the line,
the operator sends a fiche that is refused (htmx swaps the section alone: what was typed in it and in
the wrap-up stays), corrects it, sends it; the town hall's account marks it handled in its space; the
operator's desk shows the answer while the call is still on."""

from __future__ import annotations

import pytest
from axe_check import axe_violations
from loopback import post_call

pytestmark = pytest.mark.browser


def serious_axe_violations(page, context: str = "document") -> list[str]:
    return [f"{v['id']} ({v['impact']}) {v['help']}: {[n['target'] for n in v['nodes']][:3]}"
            for v in axe_violations(page, context) if v["impact"] in ("serious", "critical")]


def test_a_fiche_de_liaison_from_the_desk_to_the_partner_and_back(request, login, demo_live, reload_until):
    from django.core import mail

    from allo.contact_centre.tokens import create_token
    from allo.partners.models import Liaison

    base = demo_live.url
    token = create_token("telephony", "e2e")
    operator = login(base, "operateur")
    request.getfixturevalue("live_router")  # once logged in (see test_official_fiches.py: "table is locked")
    errors: list[str] = []
    operator.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    operator.goto(base + "/operateur/")
    operator.click("#bouton-pret")
    post_call(base, token, "+33611223344", "0261910001")
    reload_until(operator, "#form-liaison")
    assert operator.locator("#carte-partenaire").inner_text().startswith("Appel transmis par : Mairie de Rouen")
    assert operator.locator("#liaison-partenaire option:checked").inner_text() == "Mairie de Rouen"

    operator.fill("#question", "Passeport à renouveler")  # the wrap-up, beside the fiche
    operator.fill("#liaison-nom", "J")
    operator.fill("#liaison-demande", "Prendre rendez-vous pour déposer une demande de passeport.")
    operator.fill("#liaison-dossier", "PASS-2026/0042")
    operator.click("label[for=liaison-consentement]")  # DSFR draws the box on the label
    operator.click("#bouton-liaison")
    operator.locator("#erreurs-liaison").wait_for()
    assert "2 champs à corriger" in operator.locator("#erreurs-liaison").inner_text()
    assert "au moins 2 caractères" in operator.locator("#liaison-nom-erreur").inner_text()
    assert "indiquez le numéro" in operator.locator("#liaison-numero-erreur").inner_text()
    assert operator.evaluate("document.activeElement.id") == "liaison-nom"
    assert operator.input_value("#liaison-dossier") == "PASS-2026/0042" and operator.is_checked("#liaison-consentement")
    assert operator.input_value("#question") == "Passeport à renouveler"  # htmx left the wrap-up alone
    assert not Liaison.objects.exists()
    assert serious_axe_violations(operator, "document.getElementById('fiche-liaison')") == []

    operator.fill("#liaison-nom", "Jeanne Dupont")
    operator.fill("#liaison-numero", "06 98 76 54 32")
    operator.click("#bouton-liaison")
    operator.locator("#fiche-liaison .fr-alert--success").wait_for()
    liaison = Liaison.objects.get()
    assert (liaison.caller_name, liaison.callback_number) == ("Jeanne Dupont", "+33698765432")
    assert operator.input_value("#question") == "Passeport à renouveler"
    [message] = mail.outbox
    assert message.to == ["etat-civil@mairie-rouen.example"] and "+33698765432" in message.body
    assert "+33611223344" not in message.body

    town_hall = login(base, "partenaire-rouen")
    town_hall.goto(base + "/partenaire/")
    assert serious_axe_violations(town_hall) == []
    town_hall.click(f"text=Traiter la fiche n° {liaison.pk}")
    assert serious_axe_violations(town_hall) == []
    assert "Jeanne Dupont" in town_hall.locator("#contenu-fiche").inner_text()
    town_hall.fill("#reponse-partenaire", "Rendez-vous fixé le 12/01 à 10 h.")
    town_hall.click("#bouton-traitee")
    town_hall.locator(f".fr-alert:has-text('Fiche de liaison n° {liaison.pk} marquée comme traitée')").wait_for()
    assert "Aucun" not in town_hall.locator("#table-fiches").inner_text()
    assert f"Voir la fiche n° {liaison.pk}" in town_hall.locator("#table-fiches").inner_text()  # no more to handle

    reload_until(operator, "#liaisons-appel .fr-badge--success")
    assert "Rendez-vous fixé le 12/01 à 10 h." in operator.locator("#liaisons-appel").inner_text()
    assert not [e for e in errors if "Content Security Policy" in e]
