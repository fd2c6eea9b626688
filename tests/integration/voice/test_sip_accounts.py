"""Agents' SIP accounts managed in Allô, their phones' registered state, a phone that does not answer
(issue 11): the desk, the admin, the telephony API and the router, on the real database and router
(the end-to-end test with Kamailio and SIPp is test_voice_call.py)."""

from __future__ import annotations

import hashlib
import json
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from allo.accounts.models import User
from allo.contact_centre import services
from allo.contact_centre.models import AgentStatus, Contact, RouterInput
from allo.contact_centre.router import service
from allo.routing.events import NO_ANSWER_REASON
from allo.voice.models import SipAccount, SipAccountEvent

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def voice_env(monkeypatch):
    monkeypatch.setenv("ALLO_VOICE_EDGE", "1")
    monkeypatch.setenv("ALLO_VOICE_SIP", "127.0.0.1:5060")
    monkeypatch.delenv("ALLO_VOICE_SIP_DOMAIN", raising=False)


@pytest.fixture
def router(demo, voice_env, monkeypatch):
    """A router driven by the test (step()), centres always open, phones required (the voice edge)."""
    monkeypatch.setenv("ALLO_CC_HOURS", "always")
    r = service.Router(push=False)
    r.load()
    service.install(r)
    yield r
    service.install(None)


def drain(router) -> None:
    while router.step():
        pass


def staff(username: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


@pytest.fixture
def edge(db):
    """The voice edge's client: a telephony token."""
    from allo.contact_centre.tokens import create_token

    token = create_token("telephony", "voice")
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}

    class Edge:
        def get(self, path):
            return client.get(path, headers=headers)

        def post(self, path, data):
            return client.generic("POST", path, json.dumps(data), content_type="application/json", headers=headers)

    return Edge()


def test_an_agent_generates_its_sip_password_on_its_desk_shown_once_and_stored_as_ha1_only(demo, voice_env, edge):
    operator = staff("operateur")
    desk = unescape(operator.get(reverse("space-operator")).content.decode())
    assert "Mon téléphone" in desk and "Téléphone non connecté" in desk and "Générer mon mot de passe SIP" in desk
    assert "sip:operateur@127.0.0.1" in desk

    r = operator.post(reverse("desk-phone"))
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    password = r.context["password"]
    assert len(password) >= 20 and f'value="{password}"' in r.content.decode()

    account = SipAccount.objects.get(user__username="operateur")
    assert account.ha1 == hashlib.md5(f"operateur:127.0.0.1:{password}".encode()).hexdigest()
    assert account.realm == "127.0.0.1"
    assert password not in json.dumps(list(SipAccount.objects.values()), default=str)  # never at rest
    (event,) = SipAccountEvent.objects.all()
    assert (event.action, event.agent, event.by.username) == ("generated", "operateur", "operateur")

    # shown once: the page and the desk only say that one exists
    again = operator.get(reverse("desk-phone")).content.decode()
    assert password not in again and "Régénérer mon mot de passe SIP" in unescape(again)
    assert password not in operator.get(reverse("space-operator")).content.decode()

    # the edge reads HA1s only, with a telephony token; a supervisor's token does not open them
    answer = edge.get("/api/telephony/sip-accounts").json()
    assert answer == {"realm": "127.0.0.1",
                      "accounts": [{"username": "operateur", "ha1": account.ha1, "registered": False}]}
    from allo.contact_centre.tokens import create_token

    supervisor_token = create_token("supervisor", "wall")
    assert Client().get("/api/telephony/sip-accounts",
                        headers={"Authorization": f"Bearer {supervisor_token}"}).status_code == 403

    # regenerating replaces it: the old password's HA1 is gone
    second = operator.post(reverse("desk-phone")).context["password"]
    assert second != password
    assert edge.get("/api/telephony/sip-accounts").json()["accounts"][0]["ha1"] == hashlib.md5(
        f"operateur:127.0.0.1:{second}".encode()).hexdigest()


def test_an_administrator_resets_an_agents_sip_password_audited_and_the_edge_drops_it(demo, voice_env, edge):
    staff("operateur").post(reverse("desk-phone"))
    account = SipAccount.objects.get(user__username="operateur")
    admin = staff("admin")
    r = admin.post(reverse("admin:voice_sipaccount_changelist"),
                   {"action": "reset_password", "_selected_action": [account.pk]})
    assert r.status_code == 302
    account.refresh_from_db()
    assert account.ha1 == ""
    assert [(e.action, e.agent, e.by.username) for e in SipAccountEvent.objects.order_by("created")] == [
        ("generated", "operateur", "operateur"), ("reset", "operateur", "admin")]
    assert edge.get("/api/telephony/sip-accounts").json()["accounts"] == []
    assert "Générer mon mot de passe SIP" in unescape(staff("operateur").get(reverse("space-operator")).content.decode())


def test_a_secret_of_another_realm_is_not_handed_to_the_edge(demo, voice_env, edge, monkeypatch):
    staff("operateur").post(reverse("desk-phone"))
    monkeypatch.setenv("ALLO_VOICE_SIP_DOMAIN", "voix.allo.example")  # HA1 holds the realm: no longer valid
    assert edge.get("/api/telephony/sip-accounts").json() == {"realm": "voix.allo.example", "accounts": []}


def test_only_an_agent_with_a_sip_safe_name_gets_a_password(demo, voice_env):
    r = staff("superviseur").get(reverse("desk-phone"))
    assert r.status_code == 403  # not an operator nor an expert
    assert not SipAccount.objects.exists()


def test_the_registered_state_reaches_the_desk_and_the_router_offers_calls_only_to_registered_phones(
        router, edge):
    staff("operateur").post(reverse("desk-phone"))
    operator = staff("operateur")
    operator.post(reverse("desk-state"), {"action": "ready"})
    call_id, _ = services.create_call("+33611223344", "3939")
    drain(router)
    assert AgentStatus.objects.get(pk="operateur").state == "available"  # ready...
    assert Contact.objects.get(pk=call_id).state == "queued"  # ...but no phone: nothing offered

    r = edge.post("/api/telephony/agents/operateur/phone", {"registered": True})
    assert (r.status_code, r.json()) == (202, {"agent": "operateur", "registered": True, "changed": True})
    assert edge.post("/api/telephony/agents/operateur/phone", {"registered": True}).status_code == 200  # no change
    assert RouterInput.objects.filter(type="AgentPhone").count() == 1
    drain(router)
    contact = Contact.objects.get(pk=call_id)
    assert (contact.state, contact.agent) == ("connected", "operateur")
    assert "Téléphone connecté" in unescape(operator.get(reverse("space-operator")).content.decode())

    assert edge.post("/api/telephony/agents/operateur/phone", {"registered": False}).status_code == 202
    assert "Téléphone non connecté" in unescape(operator.get(reverse("space-operator")).content.decode())
    assert edge.post("/api/telephony/agents/inconnu/phone", {"registered": True}).status_code == 404
    assert edge.post("/api/telephony/agents/operateur/phone", {"registered": "oui"}).status_code == 400


def test_a_phone_that_does_not_answer_sends_the_call_back_and_pauses_its_agent_until_ready(router, edge):
    for agent in ("operateur", "operateur2"):
        staff(agent).post(reverse("desk-phone"))
        edge.post(f"/api/telephony/agents/{agent}/phone", {"registered": True})
    staff("operateur").post(reverse("desk-state"), {"action": "ready"})
    call_id, _ = services.create_call("+33611223344", "3939")
    drain(router)
    assert Contact.objects.get(pk=call_id).agent == "operateur"

    r = edge.post(f"/api/telephony/calls/{call_id}/no-answer", {"agent": "operateur", "event_id": "sip:x:1"})
    assert (r.status_code, r.json()) == (202, {"call_id": call_id, "accepted": True})
    assert edge.post(f"/api/telephony/calls/{call_id}/no-answer",
                     {"agent": "operateur", "event_id": "sip:x:1"}).json()["accepted"] is False  # once
    drain(router)
    assert Contact.objects.get(pk=call_id).state == "queued"
    status = AgentStatus.objects.get(pk="operateur")
    assert (status.state, status.reason) == ("paused", NO_ANSWER_REASON)
    desk = unescape(staff("operateur").get(reverse("space-operator")).content.decode())
    assert f"En pause : {NO_ANSWER_REASON}" in desk and "Prêt à recevoir des appels" in desk
    floor = unescape(staff("superviseur").get(reverse("supervision-floor")).content.decode())
    assert NO_ANSWER_REASON in floor

    # the next ready agent takes it; the first one is offered calls again once it says « Prêt »
    staff("operateur2").post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    assert Contact.objects.get(pk=call_id).agent == "operateur2"
    staff("operateur").post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    assert AgentStatus.objects.get(pk="operateur").state == "available"

    assert edge.post(f"/api/telephony/calls/{call_id}/no-answer", {"agent": "<b>"}).status_code == 400
    assert edge.post("/api/telephony/calls/inconnu/no-answer", {"agent": "operateur"}).status_code == 404


def test_allo_voice_credentials_lists_the_accounts_and_reset_prints_a_new_password_once(demo, voice_env, capsys):
    from allo.voice import cli

    assert cli.main(["credentials", "--agent", "operateur"]) == 0
    assert capsys.readouterr().out.split() == ["operateur", "sip:operateur@127.0.0.1", "mot-de-passe:aucun",
                                               "téléphone:non-connecté"]
    assert cli.main(["credentials", "--agent", "operateur", "--reset"]) == 0
    name, password, address = capsys.readouterr().out.split()
    assert (name, address) == ("operateur", "sip:operateur@127.0.0.1")
    assert SipAccount.objects.get(user__username="operateur").ha1 == hashlib.md5(
        f"operateur:127.0.0.1:{password}".encode()).hexdigest()
    assert cli.main(["credentials"]) == 0
    listed = capsys.readouterr().out
    assert "operateur sip:operateur@127.0.0.1 mot-de-passe:défini" in listed and password not in listed
    assert cli.main(["credentials", "--agent", "superviseur"]) == 1  # not an agent
