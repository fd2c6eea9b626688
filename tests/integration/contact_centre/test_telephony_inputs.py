"""POST /api/telephony/calls against hostile or broken connector payloads (issue 14, finding 6):
every one gets the API's JSON 400 with a French message, never a server error, and nothing is stored."""

from __future__ import annotations

import json

import pytest

from allo.contact_centre.models import Contact, RouterInput

pytestmark = [pytest.mark.django_db, pytest.mark.any_db]


@pytest.mark.parametrize("raw, message", [
    # NUL: PostgreSQL refuses it in text and jsonb columns
    (json.dumps({"caller": "+33611223344", "dialed": "3939", "ivr_choice": "1\x00"}), "caractère"),
    (json.dumps({"caller": "+33611223344", "dialed": "3939", "event_id": "pbx\x00-1"}), "caractère"),
    # a lone surrogate: valid JSON, not encodable as UTF-8
    ('{"caller": "+33611223344", "dialed": "3939", "event_id": "\\ud800"}', "caractère"),
    ('{"caller": "+33611223344", "dialed": "3939", "ivr_choice": "\\udfff"}', "caractère"),
    # nesting deeper than the parser's recursion limit
    ("[" * 100_000 + "]" * 100_000, "JSON valide"),
    ('{"caller": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON valide"),
    # not a phone number
    (json.dumps({"caller": "00", "dialed": "3939"}), "numéro de téléphone"),
    (json.dumps({"caller": "0611", "dialed": "3939"}), "numéro de téléphone"),
    (json.dumps({"caller": 33611223344, "dialed": "3939"}), "chaîne de caractères"),
    (json.dumps({"caller": "+33611223344", "dialed": 3939}), "chaîne de caractères"),
    # markup where a key press is expected
    (json.dumps({"caller": "+33611223344", "dialed": "3939", "ivr_choice": "<b>1</b>"}), "« ivr_choice »"),
    (json.dumps({"caller": "+33611223344", "dialed": "3939", "event_id": "a b<c>"}), "« event_id »"),
])
def test_hostile_call_payloads_get_a_json_400(router, api, raw, message):
    before = RouterInput.objects.count()
    r = api.post("/api/telephony/calls", raw=raw)
    assert r.status_code == 400, r.content[:200]
    assert r["Content-Type"].startswith("application/json")
    assert message in r.json()["erreur"]
    assert RouterInput.objects.count() == before


def test_ordinary_connector_values_are_still_accepted(router, api):
    for body in ({"caller": "+33611223344", "dialed": "3939", "ivr_choice": "2", "event_id": "1712345678.42"},
                 {"caller": "0148001234", "dialed": "+33139390000", "ivr_choice": "*1#",
                  "event_id": "3f2a8c1e-5b7d-4c1a-9e0f-2d4b6a8c0e1f"},
                 {"caller": "+262692123456", "dialed": "3939"}):
        r = api.post("/api/telephony/calls", body)
        assert r.status_code == 201, r.content


def test_an_event_id_equal_to_another_calls_id_creates_a_new_call(router, api):
    first = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939"}).json()["call_id"]
    r = api.post("/api/telephony/calls", {"caller": "+33699887766", "dialed": "3939", "event_id": first})
    assert r.status_code == 201
    second = r.json()["call_id"]
    assert second != first
    while router.step():
        pass
    assert Contact.objects.get(pk=first).caller == "+33611223344"
    assert Contact.objects.get(pk=second).caller == "+33699887766"
    # and the same event id again is still the same call
    again = api.post("/api/telephony/calls", {"caller": "+33699887766", "dialed": "3939", "event_id": first})
    assert (again.status_code, again.json()["call_id"]) == (200, second)


@pytest.mark.parametrize("call_id", ["%00", "a%00b", "%C3%A9t%C3%A9", "x" * 65])
def test_an_impossible_call_id_in_the_path_is_an_unknown_call(router, api, call_id):
    for response in (api.post(f"/api/telephony/calls/{call_id}/hangup"),
                     api.post(f"/api/telephony/calls/{call_id}/callback-answer", {"accepted": True}),
                     api.get(f"/api/telephony/calls/{call_id}")):
        assert response.status_code == 404, response.content[:200]
        assert response.json()["erreur"] == "Appel inconnu."


def test_live_calls_list_their_event_id_and_a_lost_report_ends_the_call_lost_once(router, api):
    """The reconciliation's two ends (docs/voice.md): GET /api/telephony/calls lists the calls the router
    still holds with the event_id they were created with; POST …/lost ends one « perdu », counted once."""
    edge = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939",
                                             "event_id": "sip:abc@host"}).json()["call_id"]
    plain = api.post("/api/telephony/calls", {"caller": "+33699887766", "dialed": "3939"}).json()["call_id"]
    while router.step():
        pass
    live = {c["call_id"]: c for c in api.get("/api/telephony/calls").json()["calls"]}
    assert live[edge]["event_id"] == "sip:abc@host" and live[plain]["event_id"] == ""
    assert live[edge]["state"] == "queued" and live[edge]["age_s"] >= 0
    r = api.post(f"/api/telephony/calls/{edge}/lost")
    assert (r.status_code, r.json()) == (202, {"call_id": edge, "accepted": True})
    assert api.post(f"/api/telephony/calls/{edge}/lost").json()["accepted"] is False
    while router.step():
        pass
    contact = Contact.objects.get(pk=edge)
    assert (contact.state, contact.outcome) == ("lost", "lost")
    assert [c["call_id"] for c in api.get("/api/telephony/calls").json()["calls"]] == [plain]
    assert api.post(f"/api/telephony/calls/{edge}/lost").status_code == 409  # ended: nothing more to journal
    assert RouterInput.objects.filter(type="ContactLost").count() == 1
    assert api.post("/api/telephony/calls/unknown/lost").status_code == 404
