"""Routing by origin: a call whose dialed number is a partner's entry number carries that partner
(on the contact, in GET /api/telephony/calls/{id}, on the N1 desk) at the partner's priority."""

from __future__ import annotations

import pytest
from conftest import drain
from django.test import Client
from django.urls import reverse

from allo.accounts.models import User
from allo.contact_centre.models import Contact, RouterInput
from allo.partners.models import EntryNumber, Partner

pytestmark = pytest.mark.django_db


def staff(username):
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def call(api, dialed, caller="+33611223344"):
    r = api.post("/api/telephony/calls", {"caller": caller, "dialed": dialed})
    assert r.status_code == 201, r.content
    return r.json()["call_id"]


@pytest.mark.any_db
def test_a_call_on_a_partner_entry_number_carries_the_partner(router, api):
    caf = Partner.objects.get(code="caf-rhone")
    # the PBX presents the number its own way: national digits, or international with or without +
    ids = [call(api, "0465710001"), call(api, "+33465710002"), call(api, "33465710001")]
    direct = call(api, "3939")
    for call_id in ids:
        assert Contact.objects.get(pk=call_id).partner_id == caf.pk
        detail = api.get(f"/api/telephony/calls/{call_id}").json()
        assert detail["partner"] == caf.pk
    assert Contact.objects.get(pk=direct).partner_id is None
    assert api.get(f"/api/telephony/calls/{direct}").json()["partner"] is None


def test_unknown_numbers_inactive_partners_and_overflow_rules(router, api):
    assert Contact.objects.get(pk=call(api, "0261919999")).partner_id is None  # nobody's entry number
    prefecture = Partner.objects.get(code="prefecture-gironde")
    prefecture.active = False
    prefecture.save()
    assert Contact.objects.get(pk=call(api, "0536490001")).partner_id is None
    # the CAF now wants its overflow only: its forwarding number is answered as a direct call
    caf = Partner.objects.get(code="caf-rhone")
    caf.acceptance = Partner.Acceptance.OVERFLOW
    caf.save()
    assert Contact.objects.get(pk=call(api, "0465710001")).partner_id is None
    assert Contact.objects.get(pk=call(api, "0465710002")).partner_id == caf.pk  # its overflow number


def test_the_partner_priority_reaches_the_engine_and_orders_the_queue(router, api):
    direct = call(api, "3939")
    mairie = call(api, "0261910001")  # Mairie de Rouen: prioritaire, on overflow
    caf = call(api, "0465710001")  # normal priority: as a direct call
    payloads = {i.payload["contact"]: i.payload for i in RouterInput.objects.filter(type="ContactArrived")}
    assert payloads[mairie]["priority"] == -1 and "priority" not in payloads[direct]
    drain(router)
    op = staff("operateur")
    op.post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    assert Contact.objects.get(pk=mairie).agent == "operateur"  # arrived after the direct call, served first
    assert Contact.objects.get(pk=direct).state == Contact.objects.get(pk=caf).state == "queued"


def test_the_operator_desk_shows_the_partner_card_beside_the_knowledge_base(router, api):
    op = staff("operateur")
    op.post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    call(api, "02 61 91 00 01".replace(" ", ""))
    drain(router)
    page = op.get(reverse("space-operator")).content.decode()
    assert "Appel transmis par : Mairie de Rouen" in page
    card = page[page.index('id="carte-partenaire"'):page.index('id="titre-kb"')]  # before the KB panel
    assert "2 place du Général de Gaulle" in card and "lundi : 08h30–12h00, 13h30–17h00" in card
    assert reverse("desk-fiche", args=["passeport-majeur"]) in card  # its local fiches open in the panel
    assert "Mairie" in card


def test_a_direct_call_shows_no_partner_card(router, api):
    op = staff("operateur")
    op.post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    call(api, "3939")
    drain(router)
    page = op.get(reverse("space-operator")).content.decode()
    assert "Appel en cours" in page and "Appel transmis par" not in page


def test_an_entry_number_moved_to_another_partner_follows_it(router, api):
    number = EntryNumber.objects.get(number="+33536490001")
    number.partner = Partner.objects.get(code="caf-rhone")
    number.save()
    assert Contact.objects.get(pk=call(api, "0536490001")).partner.code == "caf-rhone"


def test_the_openapi_schema_documents_the_partner_of_a_call(client):
    schema = client.get("/api/openapi.json").json()
    detail = schema["paths"]["/api/telephony/calls/{call_id}"]["get"]["responses"]["200"]
    ref = detail["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    partner = schema["components"]["schemas"][ref]["properties"]["partner"]
    assert partner["type"] == ["integer", "null"]
