"""Accessibility of the citizen portal: axe-core in headless chromium, and keyboard-only navigation."""

from __future__ import annotations

import pytest
from axe_check import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def sample_fiche_id() -> str:
    from allo.kb.models import Fiche

    return Fiche.objects.published().exclude(level2="").order_by("-popularity", "id").values_list("id", flat=True)[0]


def test_main_pages_have_no_serious_or_critical_axe_violation(page, live_server):
    fiche = sample_fiche_id()
    report = []
    for label, path in [("accueil", "/"), ("recherche", "/recherche?q=carte+grise+perdue"),
                        ("recherche sans résultat", "/recherche?q=zzzqqq"), ("fiche", f"/fiches/{fiche}"),
                        ("contact", "/contact/"), ("contact, erreurs", None)]:
        if path is None:  # the callback form with its error messages shown
            page.goto(live_server.url + "/contact/")
            page.click("button:has-text('Demander un rappel')")
            page.wait_for_load_state()
        else:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
        for violation in axe_violations(page):
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:5]
                report.append(f"{label}: {violation['id']} ({violation['impact']}) {violation['help']} {targets}")
    assert not report, "\n".join(report)


def test_keyboard_only_reaches_the_search_box_and_submits(page, live_server):
    page.goto(live_server.url + "/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "q":
            break
    else:
        pytest.fail("Tab never reached the search box")
    # the focus is visible: an outline is drawn on the focused field
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.type("carte grise")
    page.keyboard.press("Enter")
    page.wait_for_url("**/recherche?q=carte+grise*")
    assert page.locator("h2#resultats").inner_text().endswith("« carte grise »")
    # Tab on from the results reaches the first result link, Enter opens the fiche
    first = page.locator("ol.allo-results a").first
    href = first.get_attribute("href")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.getAttribute('href')") == href:
            break
    else:
        pytest.fail("Tab never reached the first result")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")
    assert page.locator("h1").count() == 1


def test_skip_link_is_the_first_tab_stop(page, live_server):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#content"
    assert page.evaluate("document.activeElement.textContent.trim()") == "Contenu"


def test_no_csp_violation_on_the_main_pages(page, live_server):
    fiche = sample_fiche_id()
    for path in ["/", "/recherche?q=impots", f"/fiches/{fiche}", "/contact/"]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    csp = [e for e in page.console_errors if "Content Security Policy" in e]
    assert not csp, csp


def test_feedback_is_sent_in_place_with_htmx(page, live_server):
    from allo.portal.models import Feedback

    fiche = sample_fiche_id()
    page.goto(live_server.url + f"/fiches/{fiche}")
    page.click("#avis a:has-text('Non')")
    page.locator("#avis-commentaire").wait_for()
    assert page.url.endswith(f"/fiches/{fiche}")  # the form came in place
    assert page.evaluate("document.activeElement.id") == "avis-non"  # focus on the chosen answer
    page.fill("#avis-commentaire", "Le délai n'est pas indiqué.")
    page.click("button:has-text('Envoyer mon avis')")
    page.locator("#avis [role=status]").wait_for()
    assert page.url.endswith(f"/fiches/{fiche}")  # swapped in place, no navigation
    assert "bien été enregistré" in page.locator("#avis").inner_text()
    stored = Feedback.objects.get(fiche_id=fiche)
    assert stored.helpful is False and stored.comment == "Le délai n'est pas indiqué."


def test_statistics_page_with_charts_has_no_serious_axe_violation(page, live_server):
    page.goto(live_server.url + "/recherche?q=carte+grise")
    page.goto(live_server.url + "/recherche?q=zzzqqq")
    page.goto(live_server.url + f"/fiches/{sample_fiche_id()}")
    from django.conf import settings
    from django.test import Client

    from allo.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="redacteur"))
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    page.goto(live_server.url + "/redaction/statistiques/")
    assert page.locator("svg[role=img]").count() >= 3
    serious = [f"{v['id']} ({v['impact']}) {v['help']}" for v in axe_violations(page)
               if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(serious)
