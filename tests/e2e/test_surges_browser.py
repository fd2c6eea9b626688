"""Topical surges in a browser (issue 12, item 6): calls about one fiche at six times their usual hour
raise the alert on the supervisors' wallboard (with the extra agents), the editors' desk asks whether
the fiche is up to date, and the portal's home lists it among « Les questions du moment ».

The screenshot docs/screenshots/surge-alert.png is written with ALLO_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from axe_check import axe_violations

pytestmark = pytest.mark.browser
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def shots(tmp_path):
    return DOCS_SHOTS if os.environ.get("ALLO_UPDATE_SCREENSHOTS") == "1" else tmp_path


def _wrap_ups(fiche, n: int, at: dt.datetime) -> None:
    from allo.contact_centre.models import Contact, WrapUp

    for _ in range(n):
        contact = Contact.objects.create(call_id=f"surge-{uuid.uuid4().hex[:12]}", state="ended", level=1)
        Contact.objects.filter(pk=contact.pk).update(created=at)
        wrap_up = WrapUp.objects.create(contact=contact, fiches=[fiche.pk], theme=fiche.theme,
                                        top_theme=fiche.theme, outcome="answered")
        WrapUp.objects.filter(pk=wrap_up.pk).update(created=at)


def test_surge_alert_on_the_wallboard_the_editors_desk_and_the_portal(demo_live, login, browser, shots):
    from django.utils import timezone

    from allo.kb.models import Fiche
    from allo.surges import services
    from allo.surges.models import Surge

    base = demo_live.url
    fiche = Fiche.objects.published().local().order_by("-popularity", "id").first()
    now = timezone.now()
    for week in (1, 2, 3, 4):  # around the same hour of the last four weeks: 4 calls an hour about it
        _wrap_ups(fiche, 12, services._weeks_before(now, week) - dt.timedelta(minutes=10))
    _wrap_ups(fiche, 26, now - dt.timedelta(minutes=20))
    result = services.scan(now)
    assert {(s.dim, s.key) for s in result.started} == {("fiche", fiche.pk), ("theme", fiche.theme_id)}
    surge = Surge.objects.get(dim="fiche", key=fiche.pk)
    assert surge.extra_agents >= 1

    supervisor = login(base, "superviseur")
    supervisor.goto(base + "/supervision/")
    alert = supervisor.locator("#pics .fr-alert[role=alert]")
    alert.wait_for()
    text = alert.inner_text()
    assert "Pics d'actualité" in text
    assert f"Fiche « {fiche.title} » : 26 appels dans la dernière heure pour 4 attendus (× 6,5)" in text
    assert f"{surge.extra_agents} agent" in text and "de plus au téléphone pour l'absorber" in text
    assert f"Thème « {fiche.theme.label} »" in text and f"ceux de la fiche « {fiche.title} » compris" in text
    serious = [v["id"] for v in axe_violations(supervisor, "document.getElementById('pics')")
               if v["impact"] in ("serious", "critical")]
    assert serious == []
    shots.mkdir(parents=True, exist_ok=True)
    supervisor.screenshot(path=str(shots / "surge-alert.png"))  # the top of the wallboard, where the alert is
    # the fiche's link leads the supervisor to it
    alert.get_by_role("link", name=fiche.title).click()
    supervisor.wait_for_url(f"**/base/fiches/{fiche.pk}/")
    assert supervisor.locator("h1").inner_text() == fiche.title

    editor = login(base, "redacteur")
    editor.goto(base + "/redaction/")
    editor_alert = editor.locator("#fiches-demandees")
    assert "Cette fiche est très demandée : est-elle à jour ?" in editor_alert.inner_text()
    editor_alert.get_by_role("link", name=fiche.title).click()
    editor.locator("#fiche-demandee").wait_for()

    context = browser.new_context(locale="fr-FR")
    try:
        citizen = context.new_page()
        citizen.goto(base + "/")
        moment = citizen.locator("section[aria-labelledby=questions-du-moment]")
        assert moment.locator("h2").inner_text() == "Les questions du moment"
        moment.get_by_role("link", name=fiche.title).click()
        citizen.wait_for_url(f"**/fiches/{fiche.pk}")
    finally:
        context.close()
