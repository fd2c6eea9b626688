"""The whole live path in a browser: a call arrives → the operator answers from a fiche → transfers
to the tax centre → the N2 expert sees the context → wraps up → the wallboard counts it.

The live server is WSGI (no WebSocket), so the desks are reloaded here instead of waiting for the
push (the push itself is covered by the consumer tests). The router runs in a thread, as in
`allo serve`. Screenshots of each desk are taken on the way; with ALLO_UPDATE_SCREENSHOTS=1 they
replace the README's ones in docs/screenshots/ (otherwise a test run leaves the tree clean).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from loopback import post_call

pytestmark = pytest.mark.browser
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def shots(tmp_path):
    return DOCS_SHOTS if os.environ.get("ALLO_UPDATE_SCREENSHOTS") == "1" else tmp_path


def test_call_answered_transferred_to_tax_centre_and_counted(login, demo_live, live_router, shots, reload_until):
    from allo.contact_centre.tokens import create_token

    base = demo_live.url
    token = create_token("telephony", "e2e")
    operator = login(base, "operateur")
    operator.goto(base + "/operateur/")
    operator.click("#bouton-pret")
    expert = login(base, "expert-impots")
    expert.goto(base + "/expert/")
    expert.click("#bouton-pret")

    call_id = post_call(base, token, "+33612345678")

    reload_until(operator, "#appel-en-cours")
    assert operator.locator("#numero-appelant").inner_text() == "+33612345678"
    operator.fill("#recherche-kb", "impôt sur le revenu déclaration")
    operator.locator("#barre-recherche button").click()
    first = operator.locator("#zone-kb a[href*='/poste/base/fiches/']").first
    first.wait_for()
    fiche_id = first.get_attribute("href").split("?")[0].rstrip("/").split("/")[-1]
    # the hit opens in the desk's panel; its button ticks it in the wrap-up's « Fiche(s) utilisée(s) »
    first.click()
    operator.locator(f"[data-use-fiche='{fiche_id}']").click()
    assert operator.is_checked(f"#fiche-cochee-{fiche_id}")
    operator.click("label[for=issue-transfert-niveau-2]")
    operator.select_option("#motif", "question-complexe")
    operator.click("label[for=dest-impots]")
    operator.fill("#question", "Revenus perçus à l'étranger")
    operator.fill("#note", "Appelant expatrié, déclaration 2042")
    shots.mkdir(parents=True, exist_ok=True)
    operator.screenshot(path=str(shots / "desk-operator.png"), full_page=True)
    operator.click("#bouton-cloturer")

    context = reload_until(expert, "#contexte-transfert")
    assert "Appelant expatrié" in context.inner_text()
    assert "Revenus perçus à l'étranger" in context.inner_text()
    assert expert.locator(f"a[href$='/base/fiches/{fiche_id}/proposer/']").count() == 1
    expert.screenshot(path=str(shots / "desk-expert.png"), full_page=True)
    expert.click("label[for=issue-reponse-apportee]")
    expert.fill("#note", "Formulaire 2047 expliqué")
    expert.click("#bouton-cloturer")

    supervisor = login(base, "superviseur")
    supervisor.goto(base + "/supervision/")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if supervisor.locator("[data-kpi='answered']").inner_text() == "1" and "Impôts" in supervisor.locator(
                "#transferts").inner_text():
            break
        time.sleep(0.3)  # the wallboard updates itself (here by polling: this test server has no WebSocket)
    assert supervisor.locator("[data-kpi='offered']").inner_text() == "1"
    assert "Impôts" in supervisor.locator("#transferts").inner_text()  # the destination's name, not its code
    supervisor.screenshot(path=str(shots / "wallboard.png"), full_page=True)

    from allo.contact_centre.models import Contact

    assert Contact.objects.get(pk=call_id).outcome == "completed"


def test_desk_search_answers_as_the_operator_types(page, demo_live):
    """htmx triggers without eval (the CSP forbids it): results come while typing, no Enter."""
    page.goto(demo_live.url + "/connexion/")
    page.fill("#id_username", "operateur")
    page.fill("#id_password", "allo-demo-2026")
    page.click("button[type=submit]:has-text('Se connecter')")
    page.goto(demo_live.url + "/operateur/")
    page.locator("#recherche-kb").press_sequentially("ca", delay=30)
    page.locator("#zone-kb:has-text('au moins trois caractères')").wait_for()
    page.locator("#recherche-kb").press_sequentially("rte grise perdue", delay=30)
    # results of a shorter prefix may show first while typing: wait for the whole query's
    page.locator("#zone-kb li a", has_text="arte grise").first.wait_for()
    assert "carte grise" in page.locator("#zone-kb li a").first.inner_text().lower()
    csp = [e for e in page.console_errors if "Content Security Policy" in e]
    assert not csp, csp
