"""Warm transfer from the desks (issue 11, item 3): the operator consults the tax centre, the expert's desk
shows the call's context while the caller holds, then the operator hands the caller over, or takes it
back; the destination table counts the experts ready."""

from __future__ import annotations

import pytest
from conftest import drain
from django.test import Client
from django.urls import reverse

from allo.accounts.models import User
from allo.contact_centre.models import AgentStatus, Contact, TelephonyCommand, WrapUp

pytestmark = pytest.mark.django_db

WRAP_UP = {"outcome": "transfert-niveau-2", "reason": "situation-personnelle", "transfer": "impots",
           "fiches": "impot-revenu-declaration", "question": "Déclaration d'un revenu étranger",
           "note": "Appelant non-résident", "theme": "argent-impots-consommation"}


def staff(username):
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def call_with_operator(router, api):
    op, expert = staff("operateur"), staff("expert-impots")
    op.post(reverse("desk-state"), {"action": "ready"})
    expert.post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    r = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939", "ivr_choice": "1"})
    call_id = r.json()["call_id"]
    drain(router)
    assert Contact.objects.get(pk=call_id).agent == "operateur"
    return op, expert, call_id


def commands(call_id):
    return [c["command"] for c in TelephonyCommand.objects.filter(call_id=call_id).order_by("seq")
            .values_list("command", flat=True)]


@pytest.mark.any_db
def test_the_operator_consults_the_expert_then_hands_the_caller_over(router, api):
    op, expert, call_id = call_with_operator(router, api)
    page = op.get(reverse("space-operator")).content.decode()
    assert "bouton-consulter" in page and "1 expert prêt" in page

    r = op.post(reverse("desk-consult", args=[call_id]), WRAP_UP)
    assert r.status_code == 302
    drain(router)
    contact = Contact.objects.get(pk=call_id)
    assert (contact.agent, contact.consult_agent, contact.level) == ("operateur", "expert-impots", 1)
    assert AgentStatus.objects.get(agent="expert-impots").state == "on_call"
    assert "hold" in commands(call_id)
    assert router.reconcile_projections() == 0  # after a restart too, the expert's desk keeps the call
    assert AgentStatus.objects.get(agent="expert-impots").contact == call_id

    # the expert sees the context before the caller is put through, and cannot close the call
    page = expert.get(reverse("space-expert")).content.decode()
    assert "Camille Martin (operateur) vous consulte (Impôts)" in page and "Appelant non-résident" in page
    assert "bouton-cloturer" not in page
    assert expert.post(reverse("desk-end-call", args=[call_id]), {"outcome": "reponse-apportee"}).status_code == 302
    drain(router)
    assert Contact.objects.get(pk=call_id).consult_agent == "expert-impots"  # refused: not the expert's yet

    # the operator's wrap-up is pre-filled with what the consult carried; ending it hands the caller over
    page = op.get(reverse("space-operator")).content.decode()
    assert "Consultation en cours avec Hélène Durand (expert-impots)" in page and "Appelant non-résident</textarea>" in page
    op.post(reverse("desk-end-call", args=[call_id]), WRAP_UP)
    drain(router)
    contact = Contact.objects.get(pk=call_id)
    assert (contact.state, contact.agent, contact.level, contact.consult_outcome, contact.waited_n2_s) == (
        "connected", "expert-impots", 2, "completed", 0.0)
    assert AgentStatus.objects.get(agent="operateur").state == "available"
    assert commands(call_id)[-2:] == ["transfer", "bridge"]
    page = expert.get(reverse("space-expert")).content.decode()
    assert "bouton-cloturer" in page and "vous consulte" not in page
    expert.post(reverse("desk-end-call", args=[call_id]), {"outcome": "reponse-apportee", "note": "2042",
                                                           "theme": "argent-impots-consommation"})
    drain(router)
    assert Contact.objects.get(pk=call_id).outcome == "completed"
    assert list(WrapUp.objects.filter(contact=call_id).values_list("outcome", flat=True).order_by("id")) == [
        "transferred", "answered"]
    live = staff("superviseur").get("/api/supervision/live").json()
    assert live["today"]["transfers"] == {"impots": 1}


@pytest.mark.any_db
def test_the_operator_takes_the_caller_back_and_the_expert_may_decline(router, api):
    op, expert, call_id = call_with_operator(router, api)
    op.post(reverse("desk-consult", args=[call_id]), WRAP_UP)
    drain(router)
    op.post(reverse("desk-consult-end", args=[call_id]))
    drain(router)
    contact = Contact.objects.get(pk=call_id)
    assert (contact.agent, contact.consult_agent, contact.consult_outcome) == ("operateur", "", "cancelled")
    assert AgentStatus.objects.get(agent="expert-impots").state == "available"
    assert commands(call_id)[-2:] == ["hold", "unhold"]
    assert "de nouveau en ligne avec vous" in op.get(reverse("space-operator")).content.decode()

    op.post(reverse("desk-consult", args=[call_id]), WRAP_UP)
    drain(router)
    expert.post(reverse("desk-consult-end", args=[call_id]))
    drain(router)
    assert Contact.objects.get(pk=call_id).consult_outcome == "declined"
    page = op.get(reverse("space-operator")).content.decode()
    assert "L&#x27;expert a mis fin à la consultation" in page
    # what the operator sent to the expert, under what it is on an N1 desk
    assert "Contexte transmis à l'expert" in page and "Contexte transmis par le niveau 1" not in page
    # someone else cannot end a consult that is not theirs
    op.post(reverse("desk-consult", args=[call_id]), WRAP_UP)
    drain(router)
    staff("operateur2").post(reverse("desk-consult-end", args=[call_id]))
    drain(router)
    assert Contact.objects.get(pk=call_id).consult_agent == "expert-impots"


@pytest.mark.any_db
def test_a_phone_hanging_up_the_consult_call_ends_the_consult(router, api):
    """The edge's report (POST .../consult-left): the expert's phone hanging up is the expert ending the
    consult, the operator's is the operator taking the caller back; the caller leaves hold either way.
    The same event id counts once; an agent outside the consult, or no consult, changes nothing."""
    op, expert, call_id = call_with_operator(router, api)
    path = f"/api/telephony/calls/{call_id}/consult-left"
    for phone, outcome, message in [("expert-impots", "declined", "L&#x27;expert a mis fin à la consultation"),
                                    ("operateur", "cancelled", "Consultation terminée")]:
        op.post(reverse("desk-consult", args=[call_id]), WRAP_UP)
        drain(router)
        assert api.post(path, {"agent": "operateur2", "event_id": f"other-{phone}"}).status_code == 202
        drain(router)
        assert Contact.objects.get(pk=call_id).consult_agent == "expert-impots"  # not in the consult: ignored
        assert api.post(path, {"agent": phone, "event_id": f"consult-call-{phone}"}).status_code == 202
        assert api.post(path, {"agent": phone, "event_id": f"consult-call-{phone}"}).status_code == 200
        drain(router)
        contact = Contact.objects.get(pk=call_id)
        assert (contact.agent, contact.consult_agent, contact.consult_outcome) == ("operateur", "", outcome)
        assert commands(call_id)[-2:] == ["hold", "unhold"]
        assert AgentStatus.objects.get(agent="expert-impots").state == "available"
        assert message in op.get(reverse("space-operator")).content.decode()
    assert api.post(path, {"agent": "operateur", "event_id": "late"}).status_code == 202
    drain(router)
    assert commands(call_id)[-2:] == ["hold", "unhold"]  # no consult under way: nothing sent
    assert api.post(path, {"event_id": "x"}).status_code == 400
    assert api.post("/api/telephony/calls/inconnu/consult-left", {"agent": "operateur"}).status_code == 404


@pytest.mark.any_db
def test_no_expert_ready_says_so_and_the_blind_transfer_stays(router, api):
    op, expert, call_id = call_with_operator(router, api)
    expert.post(reverse("desk-state"), {"action": "pause", "reason": "Repas"})
    drain(router)
    page = op.get(reverse("space-operator")).content.decode()
    assert "Ouvert, aucun expert prêt" in page
    op.post(reverse("desk-consult", args=[call_id]), WRAP_UP)
    drain(router)
    assert Contact.objects.get(pk=call_id).consult_outcome == "unavailable"
    assert "Aucun expert n&#x27;est prêt" in op.get(reverse("space-operator")).content.decode()
    assert "hold" not in commands(call_id)
    r = op.post(reverse("desk-consult", args=[call_id]), {**WRAP_UP, "transfer": "nulle-part"})
    assert r.status_code == 302
    assert "Choisissez la destination" in op.get(reverse("space-operator")).content.decode()
