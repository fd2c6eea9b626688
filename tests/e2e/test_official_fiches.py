"""Real service-public.fr fiches in a browser: the operator reads one inside the desk during a call
without losing the call or its wrap-up; the portal's official pages pass axe-core (no serious or
critical violation) and walk a guided search with the keyboard."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from axe_check import axe_violations
from loopback import post_call
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def serious_violations(page, label: str) -> list[str]:
    return [f"{label}: {v['id']} ({v['impact']}) {v['help']} {[n['target'] for n in v['nodes']][:5]}"
            for v in axe_violations(page) if v["impact"] in ("serious", "critical")]


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id") or ""


def wait_focus(page, element_id: str, timeout: float = 5.0) -> None:
    # polled: Playwright's wait_for_function evaluates a string, which this site's CSP forbids
    deadline = time.monotonic() + timeout
    while focused_id(page) != element_id:
        if time.monotonic() > deadline:
            raise AssertionError(f"focus on #{focused_id(page)}, not #{element_id}")
        time.sleep(0.05)


def test_the_operator_reads_a_fiche_inside_the_desk_and_keeps_the_call(request, login, dila_live, reload_until):
    from allo.contact_centre.tokens import create_token

    base = dila_live.url
    operator = login(base, "operateur")
    # the router's thread starts once logged in: the in-memory test database locks a table while it
    # writes, and a login saving its session meanwhile failed now and then ("database table is locked")
    request.getfixturevalue("live_router")
    errors: list[str] = []
    operator.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    operator.goto(base + "/operateur/")
    operator.click("#bouton-pret")
    token = create_token("telephony", "e2e")
    post_call(base, token, "+33612345678")
    reload_until(operator, "#appel-en-cours")
    operator.fill("#note", "L'appelant touche le RSA")  # a wrap-up being written must survive the reading

    operator.fill("#recherche-kb", "complémentaire santé solidaire")
    hit = operator.locator("#zone-kb a", has_text="Complémentaire santé solidaire (ex-CMU-C)")
    hit.click()
    operator.locator("#panneau-titre").wait_for()
    wait_focus(operator, "panneau-titre")  # a screen reader hears the fiche's title
    assert "/poste/base/fiches/F10027/" in operator.url  # a reload keeps the fiche open
    assert operator.locator("#appel-en-cours").count() == 1

    operator.click("[data-use-fiche='F10027']")
    assert operator.is_checked("#fiche-cochee-F10027")  # ticked in the wrap-up's « Fiche(s) utilisée(s) »
    expect(operator.locator("#annonce-kb")).to_contain_text("F10027")  # said by the live region

    # the questionnaire filters the fiche in the panel
    rsa = operator.locator("legend", has_text="Touchez-vous le RSA").get_attribute("id").split("-")[1]
    operator.click(f"label[for=panneau-{rsa}-c0]")
    operator.click("button:has-text('Filtrer la fiche')")
    operator.locator("#panneau-situation-choisie").wait_for()
    assert "Vous touchez le RSA" in operator.locator("#panneau-situation-choisie").inner_text()

    # the fiche's dossier opens in the panel, and a fiche from there too
    operator.locator("#zone-kb a[href='/poste/base/themes/n20286/']").first.click()
    operator.locator("#panneau-titre", has_text="Complémentaire santé").wait_for()
    operator.locator("#zone-kb a[href='/poste/base/fiches/F10027/']").first.click()
    operator.locator("#panneau-titre", has_text="Complémentaire santé solidaire (ex-CMU-C)").wait_for()

    operator.click("text=Retour aux résultats")
    operator.locator("#titre-resultats").wait_for()
    wait_focus(operator, "titre-resultats")
    # the call, its wrap-up and what was typed in it are still there
    assert operator.locator("#appel-en-cours").count() == 1
    assert operator.input_value("#note") == "L'appelant touche le RSA"
    assert not [e for e in errors if "Content Security Policy" in e], errors
    report = serious_violations(operator, "poste avec une fiche")
    assert not report, "\n".join(report)


def test_official_pages_have_no_serious_or_critical_axe_violation(page, dila_live):
    base = dila_live.url
    report = []
    for label, path in [("fiche avec avertissement", "/fiches/F1"), ("fiche à questionnaire", "/fiches/F10027"),
                        ("situation choisie", "/fiches/F10027?q0=2&q4=0"), ("recherche guidée", "/fiches/F34300"),
                        ("recherche guidée, en cours", "/fiches/F34300?chemin=1.0"),
                        ("liens commentés", "/fiches/F10041"), ("thème", "/themes/argent-impots-consommation/"),
                        ("sous-thème", "/themes/n20073/"), ("dossier", "/themes/n19785/"), ("accueil", "/")]:
        response = page.goto(base + path)
        assert response.status == 200, path
        report += serious_violations(page, label)
    assert not report, "\n".join(report)
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors


def test_a_guided_search_is_walked_with_the_keyboard_to_its_fiche(page, dila_live):
    page.goto(dila_live.url + "/fiches/F34300")
    for answer in ("immatriculer à votre nom", "Il s'agit d'un 2 roues", "moins de 50 cm", "Il est neuf",
                   "acheté en France"):
        link = page.locator("#parcours .allo-walk__options a", has_text=answer).first
        link.focus()
        page.keyboard.press("Enter")
        wait_focus(page, "parcours-question")  # htmx swapped the walk: the new question has the focus
    assert page.locator("#parcours").get_by_text("modifier").count() == 5
    page.locator(".allo-walk__leaf a").click()
    page.wait_for_url("**/fiches/F10293?*")
    assert parse_qs(urlsplit(page.url).query)["vrai"] == ["T10219,T10384,T10576"]  # the situation, carried over
    assert "Informations pour votre situation" in page.locator("#situation-choisie").inner_text()
