"""The desks' wrap-up makes good data: theme from the tree, fiches that exist, outcomes and reasons
from the administrator's lists, a callback in the caller's future and hours; a refused form keeps
everything typed and says what is wrong beside the field."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
from conftest import drain
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from allo.accounts.models import User
from allo.contact_centre import services
from allo.contact_centre.models import Contact, RouterInput, WrapUp, WrapUpOutcome, WrapUpReason
from allo.contact_centre.router import config as cfg
from allo.kb.models import Fiche, Theme

pytestmark = pytest.mark.django_db

FICHE = "impot-revenu-declaration"


def staff(username):
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


@pytest.fixture
def on_call(router):
    """The operator on a call: (client, call_id); the caller's number is given by the test."""

    def _call(caller="+33611223344"):
        op = staff("operateur")
        op.post(reverse("desk-state"), {"action": "ready"})
        drain(router)
        call_id, _ = services.create_call(caller, "3939")
        drain(router)
        assert Contact.objects.get(pk=call_id).agent == "operateur"
        return op, call_id

    return _call


def end(op, call_id, **data):
    return op.post(reverse("desk-end-call", args=[call_id]), data)


def text(response) -> str:
    return html.unescape(response.content.decode())


def field(page: str, element_id: str) -> str:
    """The opening tag of the element with this id."""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{element_id}"[^>]*>', page)
    assert match, element_id
    return match.group(0)


def nothing_recorded(call_id):
    assert not WrapUp.objects.filter(contact=call_id).exists()
    assert not RouterInput.objects.filter(type="CallEnded").exists()


def test_the_admin_lists_are_seeded_in_french():
    codes = dict(WrapUpOutcome.objects.values_list("code", "kind"))
    assert codes["reponse-apportee"] == "answered" and codes["transfert-niveau-2"] == "transferred"
    assert codes["rappel-programme"] == "callback" and codes["hors-champ"] == "out_of_scope"
    assert WrapUpOutcome.objects.get(code="transfert-niveau-2").reason_required
    assert WrapUpReason.objects.get(code="conseil-juridique").outcomes.get().code == "hors-champ"


def test_an_answered_call_records_the_theme_node_its_top_theme_outcome_reason_and_fiches(on_call):
    op, call_id = on_call()
    top = Theme.objects.get(slug="argent-impots-consommation")
    sub = Theme.objects.create(slug="n-impots-test", label="Impôt sur le revenu", parent=top,
                               kind=Theme.Kind.SUBTHEME)
    r = end(op, call_id, outcome="reponse-et-orientation", reason="autre-administration", fiches=[FICHE],
            theme=sub.slug, note="Orienté vers le centre des finances publiques")
    assert r.status_code == 302
    wrapup = WrapUp.objects.get(contact=call_id)
    assert (wrapup.theme, wrapup.top_theme, wrapup.outcome, wrapup.outcome_code.code, wrapup.reason.code) == (
        sub, top, "answered", "reponse-et-orientation", "autre-administration")
    assert wrapup.fiches == [FICHE]
    # reports group by the top-level theme
    assert list(WrapUp.objects.values_list("top_theme__label", flat=True)) == ["Argent - Impôts - Consommation"]


def test_without_a_theme_the_first_fiche_gives_it(on_call):
    op, call_id = on_call()
    assert end(op, call_id, outcome="reponse-apportee", fiches=FICHE).status_code == 302
    wrapup = WrapUp.objects.get(contact=call_id)
    assert wrapup.theme_id == Fiche.objects.get(pk=FICHE).theme_id == wrapup.top_theme_id


@pytest.mark.any_db
def test_an_unknown_fiche_is_refused_and_nothing_typed_is_lost(on_call):
    op, call_id = on_call()
    r = end(op, call_id, outcome="reponse-apportee", fiches=[FICHE, "fiche-qui-n-existe-pas"],
            theme="argent-impots-consommation", question="Déclarer un revenu perçu à l'étranger",
            note="Appelante inquiète, rappeler la date limite")
    assert r.status_code == 400
    page = text(r)
    assert ("La fiche « fiche-qui-n-existe-pas » n'existe pas dans la base de connaissances : cherchez la "
            "bonne fiche ci-dessous et cochez-la.") in page
    assert "fr-fieldset--error" in page and "fr-input--error" in page
    assert 'value="fiche-qui-n-existe-pas"' in field(page, "fiche-q")  # back in the search field
    assert "autofocus" in field(page, "fiche-q")  # the first error has the focus
    assert "checked" in field(page, f"fiche-cochee-{FICHE}")  # the good fiche stays ticked
    assert "Déclarer un revenu perçu à l'étranger" in field(page, "question")
    assert "Appelante inquiète, rappeler la date limite</textarea>" in page
    assert '<option value="argent-impots-consommation" selected>' in page
    assert "checked" in field(page, "issue-reponse-apportee")
    nothing_recorded(call_id)
    # the same form, corrected, goes through
    assert end(op, call_id, outcome="reponse-apportee", fiches=[FICHE], theme="argent-impots-consommation",
               note="ok").status_code == 302
    assert WrapUp.objects.get(contact=call_id).fiches == [FICHE]


def test_a_callback_in_the_past_is_refused_with_everything_kept(on_call):
    op, call_id = on_call()
    r = end(op, call_id, outcome="rappel-programme", fiches=[FICHE], theme="argent-impots-consommation",
            question="Quand arrive l'avis d'impôt ?", note="Rappeler avec le numéro fiscal",
            callback_at="2020-03-02T10:00")
    assert r.status_code == 400
    page = text(r)
    assert "Le rappel doit être dans le futur : il est " in page and "chez l'appelant (France métropolitaine)" in page
    assert 'value="2020-03-02T10:00"' in field(page, "callback_at")
    assert "autofocus" in field(page, "callback_at") and 'aria-invalid="true"' in field(page, "callback_at")
    assert "Quand arrive l'avis d'impôt ?" in field(page, "question")
    assert "Rappeler avec le numéro fiscal</textarea>" in page
    assert "checked" in field(page, f"fiche-cochee-{FICHE}")
    assert "checked" in field(page, "issue-rappel-programme")
    nothing_recorded(call_id)


@pytest.mark.any_db
@pytest.mark.parametrize("caller, zone", [
    ("+596696123456", "America/Martinique"),
    ("0262210000", "Indian/Reunion"),
    ("+262639123456", "Indian/Mayotte"),
    ("0612345678", "Europe/Paris"),
])
def test_a_callback_is_agreed_in_the_callers_time(on_call, caller, zone):
    op, call_id = on_call(caller)
    tomorrow = (timezone.now().astimezone(ZoneInfo(zone)) + dt.timedelta(days=1)).date()
    # 7:00 for the caller is too early, whatever the hour in Paris
    r = end(op, call_id, outcome="rappel-programme", theme="logement", callback_at=f"{tomorrow}T07:00")
    assert r.status_code == 400
    assert "L'appelant serait rappelé à 7 h, heure de " in text(r)
    r = end(op, call_id, outcome="rappel-programme", theme="logement", callback_at=f"{tomorrow}T10:30", note="rappel")
    assert r.status_code == 302
    scheduled = RouterInput.objects.get(type="ContactArrived", payload__channel="callback")
    expected = dt.datetime.combine(tomorrow, dt.time(10, 30), tzinfo=ZoneInfo(zone))
    assert scheduled.payload["due"] == pytest.approx(cfg.t_of(expected))


def test_outcomes_and_reasons_come_from_the_admin_lists(on_call):
    op, call_id = on_call()
    WrapUpOutcome.objects.filter(code="appel-interrompu").update(active=False)
    new = WrapUpOutcome.objects.create(code="reponse-courrier", label="Réponse envoyée par courrier",
                                       kind="answered", position=2)
    page = text(op.get(reverse("space-operator")))
    assert "Réponse envoyée par courrier" in page and 'id="issue-appel-interrompu"' not in page
    r = end(op, call_id, outcome="appel-interrompu", reason="erreur-numero")  # withdrawn by the admin
    assert r.status_code == 400 and "Choisissez l'issue de l'appel." in text(r)
    r = end(op, call_id, outcome="transfert-niveau-2", transfer="impots", theme="fiscalite")
    assert r.status_code == 400
    assert "Indiquez le motif : il est obligatoire pour l'issue « Transféré au niveau 2 »." in text(r)
    r = end(op, call_id, outcome="reponse-apportee", reason="conseil-juridique", theme="fiscalite")
    assert r.status_code == 400
    page = text(r)
    assert "Le motif « Conseil juridique individuel (avocat, notaire, point-justice) » ne s'applique pas" in page
    assert "autofocus" in field(page, "motif")
    r = end(op, call_id, outcome="reponse-apportee", theme="plomberie")
    assert r.status_code == 400 and "Ce thème n'existe pas : choisissez-le dans la liste." in text(r)
    nothing_recorded(call_id)
    assert end(op, call_id, outcome=new.code, theme="fiscalite").status_code == 302
    assert WrapUp.objects.get(contact=call_id).outcome_code == new


def test_the_wrap_up_fiche_search_keeps_ticked_fiches_and_proposes_hits(on_call):
    op, call_id = on_call()
    r = op.get(reverse("desk-wrapup-fiches"), {"fiche_q": "carte grise perdue", "fiches": [FICHE]},
               headers={"HX-Request": "true"})
    page = text(r)
    assert r.status_code == 200
    assert "checked" in field(page, f"fiche-cochee-{FICHE}")
    proposed = re.findall(r'id="fiche-proposee-([^"]+)"', page)
    assert proposed and FICHE not in proposed
    assert all(Fiche.objects.filter(pk=p).exists() for p in proposed)
    assert "carte grise" in page.lower()
    # an exact id is proposed first
    page = text(op.get(reverse("desk-wrapup-fiches"), {"fiche_q": FICHE}))
    assert re.findall(r'id="fiche-proposee-([^"]+)"', page)[0] == FICHE
    # without JavaScript: the form's search button shows the desk again, everything kept, hits to tick
    r = end(op, call_id, outcome="reponse-apportee", fiche_q="carte grise perdue", chercher_fiche="1",
            note="en cours")
    page = text(r)
    assert r.status_code == 200 and re.findall(r'id="fiche-proposee-([^"]+)"', page)
    assert "en cours</textarea>" in page and "erreurs-cloture" not in page
    nothing_recorded(call_id)


def test_the_expert_sees_the_n1_theme_and_fiche_and_cannot_transfer(router):
    op, expert = staff("operateur"), staff("expert-impots")
    op.post(reverse("desk-state"), {"action": "ready"})
    expert.post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    call_id, _ = services.create_call("+33611220000", "3939")
    drain(router)
    r = end(op, call_id, outcome="transfert-niveau-2", reason="situation-personnelle", transfer="impots",
            theme="fiscalite", fiches=FICHE, question="Revenus étrangers")
    assert r.status_code == 302
    drain(router)
    page = text(expert.get(reverse("space-expert")))
    assert '<option value="fiscalite" selected>' in page
    assert "checked" in field(page, f"fiche-cochee-{FICHE}")
    assert 'id="issue-transfert-niveau-2"' not in page
    assert end(expert, call_id, outcome="transfert-niveau-2", reason="situation-personnelle",
               transfer="impots", theme="fiscalite").status_code == 400


def test_the_desk_timer_target_is_the_kpi_one(on_call, monkeypatch):
    from allo.routing import kpi

    op, _ = on_call()
    monkeypatch.setattr(kpi, "N1_FAST_S", 150.0)
    assert 'data-target="150"' in op.get(reverse("space-operator")).content.decode()


def test_the_admin_edits_the_lists(demo):
    admin = staff("admin")
    for url in ("/admin/contact_centre/wrapupoutcome/", "/admin/contact_centre/wrapupreason/"):
        page = text(admin.get(url))
        assert "Transféré au niveau 2" in page
    outcome = WrapUpOutcome.objects.get(code="hors-champ")
    r = admin.post(f"/admin/contact_centre/wrapupoutcome/{outcome.pk}/change/", {
        "code": "hors-champ", "label": "Hors du champ du 3939", "kind": "out_of_scope", "reason_required": "on",
        "position": 4, "active": "on"})
    assert r.status_code == 302
    assert WrapUpOutcome.objects.get(pk=outcome.pk).label == "Hors du champ du 3939"
    assert staff("operateur").get("/admin/contact_centre/wrapupoutcome/").status_code in (302, 403)
