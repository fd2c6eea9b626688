"""The wrap-up in a browser: fiches found by the form's own search and ticked, a refused callback
date (2020) that keeps everything typed with the focus on the field to correct, then the corrected
wrap-up recorded."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from loopback import post_call

pytestmark = pytest.mark.browser


def test_a_refused_wrap_up_keeps_what_was_typed_and_focuses_the_error(request, login, demo_live, reload_until):
    from allo.contact_centre.models import RouterInput, WrapUp
    from allo.contact_centre.tokens import create_token

    base = demo_live.url
    token = create_token("telephony", "e2e")
    operator = login(base, "operateur")
    request.getfixturevalue("live_router")  # once logged in (see test_official_fiches.py: "table is locked")
    errors: list[str] = []
    operator.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    operator.goto(base + "/operateur/")
    operator.click("#bouton-pret")
    call_id = post_call(base, token, "+596696123456")
    reload_until(operator, "#form-cloture")
    assert "Martinique" in operator.locator("#callback-fuseau").inner_text()

    # the wrap-up's own fiche search: hits come as the operator types, to tick
    operator.locator("#fiche-q").press_sequentially("carte grise perdue", delay=20)
    hit = operator.locator("#choix-fiches input[id^='fiche-proposee-']").first
    hit.wait_for()
    fiche_id = hit.get_attribute("value")
    operator.locator(f"label[for='fiche-proposee-{fiche_id}']").click()
    operator.click("label[for=issue-rappel-programme]")
    operator.select_option("#theme", "transports-mobilite")
    operator.fill("#question", "Carte grise perdue avant une vente")
    operator.fill("#callback_at", "2020-03-02T10:00")
    operator.fill("#note", "Rappeler après réception du récépissé")
    operator.click("#bouton-cloturer")

    error = operator.locator("#callback-erreur")
    error.wait_for()
    assert "Le rappel doit être dans le futur" in error.inner_text() and "Martinique" in error.inner_text()
    assert operator.evaluate("document.activeElement.id") == "callback_at"
    assert operator.locator("#callback_at").get_attribute("aria-invalid") == "true"
    assert operator.input_value("#question") == "Carte grise perdue avant une vente"
    assert operator.input_value("#note") == "Rappeler après réception du récépissé"
    assert operator.input_value("#theme") == "transports-mobilite"
    assert operator.is_checked(f"#fiche-cochee-{fiche_id}")
    assert operator.is_checked("#issue-rappel-programme")
    assert not WrapUp.objects.filter(contact=call_id).exists()

    tomorrow = (dt.datetime.now(ZoneInfo("America/Martinique")) + dt.timedelta(days=1)).date()
    operator.fill("#callback_at", f"{tomorrow}T10:00")
    operator.click("#bouton-cloturer")
    operator.locator(".fr-alert--success:has-text('Rappel programmé')").wait_for()
    wrapup = WrapUp.objects.get(contact=call_id)
    assert (wrapup.fiches, wrapup.theme_id, wrapup.outcome_code.code) == ([fiche_id], "transports-mobilite",
                                                                       "rappel-programme")
    due = RouterInput.objects.get(type="ContactArrived", payload__channel="callback").payload["due"]
    from allo.contact_centre.router import config as cfg

    assert due == pytest.approx(cfg.t_of(dt.datetime.combine(tomorrow, dt.time(10), tzinfo=ZoneInfo(
        "America/Martinique"))))
    assert not [e for e in errors if "Content Security Policy" in e]  # htmx without eval
