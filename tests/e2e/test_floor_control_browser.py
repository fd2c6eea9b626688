"""Live floor control in a browser (issue 12, item 2): a supervisor ends a ghost call and logs out a
stuck agent from « Pilotage du plateau », and the audit shows both.

The live server is WSGI (no WebSocket): the page falls back to polling, which is what refreshes it
here. The router runs in a thread, as in `allo serve`.
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


def _until(predicate, timeout=30.0):  # generous: a busy 2-core machine (make test-under-load)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("never happened")


def _state(agent):
    from allo.contact_centre.models import AgentStatus

    return AgentStatus.objects.filter(pk=agent).values_list("state", flat=True).first()


def test_supervisor_ends_a_ghost_call_and_logs_out_a_stuck_agent(login, demo_live, live_router, shots):
    from allo.contact_centre import services
    from allo.contact_centre.models import CallerCardView, Contact, RouterInput
    from allo.contact_centre.tokens import create_token

    base = demo_live.url
    token = create_token("telephony", "e2e")
    # an agent stuck in wrap-up: its desk went away before it ended it
    services.agent_action("virt-001", "login", profile={"id": "virt-001", "centre": "n1-plateforme", "level": 1,
                                                        "skills": {"n1": 1}})
    first = post_call(base, token, "+33611111111")
    _until(lambda: Contact.objects.filter(pk=first, agent="virt-001", state="connected").exists())
    services.end_call("virt-001", first)
    _until(lambda: _state("virt-001") == "wrap_up")
    # the operator answers a call whose hang-up never comes
    operator = login(base, "operateur")
    operator.goto(base + "/operateur/")
    operator.click("#bouton-pret")
    ghost = post_call(base, token, "+33622222222")
    _until(lambda: Contact.objects.filter(pk=ghost, agent="operateur", state="connected").exists())

    supervisor = login(base, "superviseur")
    supervisor.goto(base + "/supervision/plateau/")
    assert supervisor.locator("h1").inner_text() == "Pilotage du plateau"
    operator_row = supervisor.locator("tr[data-agent='operateur']")
    stuck_row = supervisor.locator("tr[data-agent='virt-001']")
    # text_content(): DSFR badges are shown in capitals
    assert operator_row.locator("[data-f='state']").text_content() == "En communication"
    assert "depuis" in operator_row.locator("[data-f='call']").inner_text()
    assert stuck_row.locator("[data-f='state']").text_content() == "En clôture"
    assert stuck_row.locator("[data-f='handled']").inner_text() == "1"
    shots.mkdir(parents=True, exist_ok=True)
    supervisor.screenshot(path=str(shots / "floor-control.png"), full_page=True)

    operator_row.locator("button:has-text(\"Terminer l'appel\")").click()
    supervisor.locator(".fr-alert--success:has-text('L\\'appel est terminé (perdu).')").wait_for()
    _until(lambda: Contact.objects.get(pk=ghost).outcome == "lost")
    supervisor.locator("tr[data-agent='operateur'] [data-f='state']:has-text('Prêt')").wait_for()

    supervisor.locator("tr[data-agent='virt-001'] button:has-text('Déconnecter')").click()
    supervisor.locator(".fr-alert--success:has-text('virt-001 est déconnecté.')").wait_for()
    supervisor.locator("tr[data-agent='virt-001'] [data-f='state']:has-text('Déconnecté')").wait_for()
    assert _state("virt-001") == "offline"

    # the audit shows both, with who did them
    journal = supervisor.locator("#journal-actions tbody")
    assert "Fin d'appel forcée" in journal.inner_text() and "Déconnexion forcée" in journal.inner_text()
    audit = list(CallerCardView.objects.exclude(action="").order_by("pk").values_list(
        "user__username", "action", "agent", "contact"))
    assert audit == [("superviseur", "end_call", "operateur", ghost), ("superviseur", "logout", "virt-001", "")]
    # both went through the router's journal, with who asked
    assert RouterInput.objects.filter(type="ContactLost", payload__by="superviseur", seq__isnull=False).count() == 1
    assert RouterInput.objects.filter(type="AgentLogout", payload__force=True, seq__isnull=False).count() == 1

    # the page follows the floor without a reload: a new call reaches the operator freed above
    post_call(base, token, "+33633333333")
    supervisor.locator("tr[data-agent='operateur'] [data-f='state']:has-text('En communication')").wait_for(
        timeout=30000)
