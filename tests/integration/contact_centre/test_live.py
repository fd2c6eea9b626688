"""The live contact centre end to end at the Django level: API → router → desks → wallboard."""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from conftest import drain
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from allo.accounts.models import User
from allo.contact_centre import services
from allo.contact_centre.models import (
    AgentStatus,
    ApiToken,
    CallerCardView,
    Contact,
    RouterInput,
    WrapUp,
)
from allo.contact_centre.router.service import Router

pytestmark = pytest.mark.django_db


def staff(username):
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def new_call(api, caller="+33611223344", **extra):
    r = api.post("/api/telephony/calls", {"caller": caller, "dialed": "3939", **extra})
    assert r.status_code in (200, 201), r.content
    return r.json()["call_id"]


def test_call_waits_then_goes_to_the_operator_who_becomes_ready(router, api):
    call_id = new_call(api)
    drain(router)
    assert Contact.objects.get(pk=call_id).state == "queued"
    op = staff("operateur")
    op.post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    contact = Contact.objects.get(pk=call_id)
    assert (contact.state, contact.agent, contact.answered) == ("connected", "operateur", True)
    page = op.get(reverse("space-operator")).content.decode()
    assert "+33611223344" in page and "Temps de communication" in page and "recherche-kb" in page
    assert CallerCardView.objects.filter(contact=call_id, user__username="operateur").exists()


def test_repeated_event_id_creates_one_call(router, api):
    a = new_call(api, event_id="pbx-42")
    b = new_call(api, event_id="pbx-42")
    assert a == b
    assert RouterInput.objects.filter(type="ContactArrived").count() == 1
    api.post(f"/api/telephony/calls/{a}/hangup")
    assert api.post(f"/api/telephony/calls/{a}/hangup").json()["accepted"] is False
    drain(router)
    assert Contact.objects.get(pk=a).outcome == "abandoned"


@pytest.mark.parametrize("raw, message", [
    ("{not json", "JSON valide"),
    (json.dumps({"dialed": "3939"}), "« caller » est obligatoire"),
    (json.dumps({"caller": "abc", "dialed": "3939"}), "numéro de téléphone"),
    (json.dumps({"caller": "0611", "dialed": "3939", "colour": "red"}), "inconnu"),
    (json.dumps([1, 2]), "objet JSON"),
])
def test_bad_payloads_get_a_clear_400(router, api, raw, message):
    r = api.post("/api/telephony/calls", raw=raw)
    assert r.status_code == 400
    assert message in r.json()["erreur"]


def test_tokens_are_checked(router, api, client):
    from allo.contact_centre.tokens import create_token

    assert api.post("/api/telephony/calls", {"caller": "0611", "dialed": "3939"}, token=None).status_code == 401
    assert api.post("/api/telephony/calls", {"caller": "0611", "dialed": "3939"}, token="nope").status_code == 401
    sup = create_token("supervisor")
    assert api.post("/api/telephony/calls", {"caller": "0611", "dialed": "3939"}, token=sup).status_code == 403
    assert api.get("/api/supervision/live", token=sup).status_code == 200
    assert client.get("/api/supervision/live").status_code == 401
    assert api.post("/api/telephony/calls/inconnu/hangup").status_code == 404


def test_token_command_prints_the_token_last_and_stores_a_hash(db, capsys):
    call_command("token", "create", "--role", "telephony")
    token = capsys.readouterr().out.split()[-1]
    assert token.startswith("allo_")
    stored = ApiToken.objects.get()
    assert token not in stored.digest and len(stored.digest) == 64


@pytest.mark.any_db
def test_transfer_to_tax_centre_brings_the_context_to_the_expert(router, api):
    op, expert = staff("operateur"), staff("expert-impots")
    op.post(reverse("desk-state"), {"action": "ready"})
    expert.post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    call_id = new_call(api, ivr_choice="1")
    drain(router)
    page = op.get(reverse("space-operator")).content.decode()
    assert "Impôts" in page and "Ouvert" in page
    r = op.post(reverse("desk-end-call", args=[call_id]), {
        "outcome": "transfert-niveau-2", "reason": "situation-personnelle", "transfer": "impots",
        "fiches": "impot-revenu-declaration", "question": "Déclaration d'un revenu étranger",
        "note": "Appelant non-résident", "theme": "argent-impots-consommation"})
    assert r.status_code == 302
    drain(router)
    contact = Contact.objects.get(pk=call_id)
    assert (contact.state, contact.agent, contact.level, contact.transferred_to) == ("connected", "expert-impots", 2,
                                                                                    "impots")
    assert AgentStatus.objects.get(agent="operateur").state == "available"
    page = expert.get(reverse("space-expert")).content.decode()
    assert "Déclaration d&#x27;un revenu étranger" in page and "Appelant non-résident" in page
    assert reverse("kb-propose", args=["impot-revenu-declaration"]) in page
    expert.post(reverse("desk-end-call", args=[call_id]), {"outcome": "reponse-apportee", "note": "Formulaire 2042",
                                                           "theme": "argent-impots-consommation"})
    drain(router)
    assert Contact.objects.get(pk=call_id).outcome == "completed"
    assert list(WrapUp.objects.filter(contact=call_id).values_list("outcome", flat=True).order_by("id")) == [
        "transferred", "answered"]
    live = staff("superviseur").get("/api/supervision/live").json()
    assert live["today"]["offered"] == 1 and live["today"]["answered"] == 1
    assert live["today"]["transfers"] == {"impots": 1}
    assert {q["name"] for q in live["queues"]} >= {"n1", "n2-impots"}
    assert live["agents"]["available"] == 2
    wall = staff("superviseur").get(reverse("space-supervisor")).content.decode()
    assert "Supervision en direct" in wall and "wallboard.js" in wall


@pytest.mark.any_db
def test_restart_replays_the_journal_to_the_same_state(router, api):
    staff("operateur").post(reverse("desk-state"), {"action": "ready"})
    calls = [new_call(api, caller=f"+3361000000{i}") for i in range(4)]
    drain(router)
    api.post(f"/api/telephony/calls/{calls[2]}/hangup")
    drain(router)
    new_call(api, caller="+33700000000")  # written, not applied: the router "crashes" here
    before = router.engine.snapshot()
    reborn = Router(push=False)
    reborn.load()  # snapshot at seq 0 + the whole journal
    assert reborn.engine.snapshot()["agents"] == before["agents"]
    assert [c["id"] for c in reborn.engine.snapshot()["contacts"]] == [c["id"] for c in before["contacts"]]
    drain(reborn)  # the pending input is applied once
    reborn.engine.check()
    assert reborn.engine.arrived == 5
    assert RouterInput.objects.filter(seq__isnull=True).count() == 0


def test_scheduled_callback_comes_back_through_a_timer(router, api, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    from allo.contact_centre.router import config as cfg

    staff("operateur").post(reverse("desk-state"), {"action": "pause", "reason": "Repas"})
    drain(router)
    call_id = services.schedule_callback("+33612121212", timezone.now() + dt.timedelta(hours=1), note="rappel")
    drain(router)
    assert Contact.objects.get(pk=call_id).state == "scheduled"
    assert [kind for _, kind, _ in router.timers] == ["callback_due"]
    later = cfg.now_t() + 7200
    monkeypatch.setattr(cfg, "now_t", lambda: later)
    drain(router)  # the due timer is written to the journal, then applied
    assert RouterInput.objects.filter(type="TimerFired", seq__isnull=False).count() == 1
    assert Contact.objects.get(pk=call_id).state == "queued"
    assert [kind for _, kind, _ in router.timers] == ["lost"]  # a live call now: watched for a sign of life


def test_estimated_wait_and_portal_provider(router, api):
    assert services.estimated_wait_seconds() is None  # nobody logged in
    staff("operateur").post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    assert services.estimated_wait_seconds("n1") >= 0


def test_openapi_documents_every_api_url(client):
    from django.urls import get_resolver

    schema = client.get("/api/openapi.json").json()
    # the schema's {name} is Django's <str:name>, whatever the parameter (call_id, agent...)
    documented = {re.sub(r"\{(\w+)\}", r"<str:\1>", p) for p in schema["paths"]}
    missing = []
    for pattern in get_resolver().url_patterns:
        for sub in getattr(pattern, "url_patterns", [pattern]):
            route = str(getattr(sub, "pattern", ""))
            if route.startswith("api/") and route.startswith(("api/telephony", "api/supervision", "api/openapi")):
                if "/" + route not in documented:
                    missing.append(route)
    assert not missing


def test_purge_removes_old_personal_data(router, api):
    import datetime as dt

    from django.utils import timezone

    call_id = new_call(api)
    drain(router)
    Contact.objects.filter(pk=call_id).update(created=timezone.now() - dt.timedelta(days=400))
    call_command("purge", "--days", "365")
    assert not Contact.objects.filter(pk=call_id).exists()


def test_caller_card_is_for_agents_only(router, api):
    for user in ("redacteur", "superviseur"):
        assert staff(user).get(reverse("space-operator")).status_code == 403


def test_desk_websocket_receives_the_offer(router, api):

    user = User.objects.get(username="operateur")

    async def run():
        from channels.db import database_sync_to_async

        from allo.contact_centre.consumers import DeskConsumer

        comm = WebsocketCommunicator(DeskConsumer.as_asgi(), "/ws/desk/")
        comm.scope["user"] = user
        connected, _ = await comm.connect(timeout=10)
        assert connected
        await database_sync_to_async(services.agent_action)("operateur", "login",
                                                            profile={"id": "operateur", "centre": "n1-plateforme",
                                                                     "level": 1, "skills": {"n1": 1}})
        await database_sync_to_async(services.create_call)("+33699999999", "3939")
        await database_sync_to_async(drain)(router)
        kinds = set()
        while "Assign" not in kinds:
            kinds.add((await comm.receive_json_from(timeout=2))["type"])
        await comm.disconnect()
        return kinds

    assert "Assign" in async_to_sync(run)()


def test_telephony_stream_needs_a_token_and_gets_bridge_commands(router, telephony_token):
    from channels.db import database_sync_to_async

    from allo.contact_centre.consumers import TelephonyConsumer

    async def run():
        bad = WebsocketCommunicator(TelephonyConsumer.as_asgi(), "/ws/telephony/?token=faux")
        connected, _ = await bad.connect(timeout=10)
        assert not connected
        comm = WebsocketCommunicator(TelephonyConsumer.as_asgi(), f"/ws/telephony/?token={telephony_token}")
        connected, _ = await comm.connect(timeout=10)
        assert connected
        await database_sync_to_async(services.agent_action)("virt-001", "login",
                                                            profile={"id": "virt-001", "centre": "n1-plateforme",
                                                                     "level": 1, "skills": {"n1": 1}})
        call_id, _ = await database_sync_to_async(services.create_call)("+33699999999", "3939")
        await database_sync_to_async(drain)(router)
        command = await comm.receive_json_from(timeout=2)
        await comm.disconnect()
        return call_id, command

    call_id, command = async_to_sync(run)()
    assert command == {"seq": command["seq"], "command": "bridge", "call_id": call_id, "agent": "virt-001",
                       "outbound": False}


def test_a_closure_added_now_reaches_the_live_router_and_survives_a_replay(router, api, monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    import datetime as dt

    from allo.org.models import Centre, Closure

    monkeypatch.setenv("ALLO_CC_HOURS", "real")  # opening hours and closures apply from the next change
    centre = Centre.objects.get(code="n2-impots")
    today = dt.date.today()
    with django_capture_on_commit_callbacks(execute=True):
        Closure.objects.create(centre=centre, start=today, end=today, reason="Grève")
    assert RouterInput.objects.filter(type="OrganisationChanged", seq__isnull=True).exists()
    drain(router)
    assert not router.engine.is_open(centre.code)  # closed all day, whatever the hour of the test
    reconfigured = RouterInput.objects.filter(type="OrganisationChanged").exclude(decisions=[]).get()
    assert centre.code in reconfigured.decisions[0]["centres"]
    assert [today.isoformat(), today.isoformat()] in next(
        c for c in router.config["centres"] if c["id"] == centre.code)["closures"]
    assert not RouterInput.objects.filter(type="ContactArrived").exists()
    reborn = Router(push=False)
    reborn.load()  # the journal again (the recorded configuration), then today's organisation: the same
    assert reborn.config == router.config and not reborn.engine.is_open(centre.code)
    with django_capture_on_commit_callbacks(execute=True):
        Closure.objects.filter(reason="Grève").delete()  # the strike is called off
    drain(router)
    assert [] == next(c for c in router.config["centres"] if c["id"] == centre.code)["closures"]


def test_wallboard_gets_the_figures_at_once_then_pushed_by_the_router(router, api):
    supervisor, operator = User.objects.get(username="superviseur"), User.objects.get(username="operateur")
    router.wallboard_every = (60.0, 300.0)  # "at most once a minute": the second push below is surely too soon

    async def run():
        from channels.db import database_sync_to_async

        from allo.contact_centre.consumers import WallboardConsumer

        refused = WebsocketCommunicator(WallboardConsumer.as_asgi(), "/ws/wallboard/")
        refused.scope["user"] = operator
        assert (await refused.connect(timeout=10))[0] is False  # supervisors only
        comm = WebsocketCommunicator(WallboardConsumer.as_asgi(), "/ws/wallboard/")
        comm.scope["user"] = supervisor
        assert (await comm.connect(timeout=10))[0]
        first = await comm.receive_json_from(timeout=2)
        await database_sync_to_async(services.create_call)("+33699999998", "3939")
        await database_sync_to_async(drain)(router)
        pushed = await database_sync_to_async(router.push_wallboard)()
        again = await database_sync_to_async(router.push_wallboard)()  # too soon: nothing sent
        update = await comm.receive_json_from(timeout=2)
        await comm.disconnect()
        return first, pushed, again, update

    first, pushed, again, update = async_to_sync(run)()
    assert first["today"]["offered"] == 0 and {q["name"] for q in first["queues"]} >= {"n1"}
    assert pushed and not again
    assert update["today"]["offered"] == 1
    assert next(q for q in update["queues"] if q["name"] == "n1")["waiting"] == 1
