"""`allo purge` and the router's snapshots (issue 14, finding 4): a snapshot holds the live contacts'
context (the question, the operator's note) and used to outlive the retention period."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from allo.accounts.models import User
from allo.contact_centre import services
from allo.contact_centre.models import Contact, RouterInput, RouterSnapshot
from allo.contact_centre.router.service import Router

pytestmark = [pytest.mark.django_db, pytest.mark.any_db]

NOTE = "Mme Martin, rappeler au 06 11 22 33 44"
QUESTION = "Revenus de Mme Martin à l'étranger"


def _drain(router):
    while router.step():
        pass


def _transferred_call_waiting_with_a_note(router, api) -> str:
    """A call the operator transferred to the tax centre with a note; no expert is ready, so it waits
    in the engine, its context inside every snapshot until an expert takes it."""
    op = Client()
    op.force_login(User.objects.get(username="operateur"))
    op.post(reverse("desk-state"), {"action": "ready"})
    _drain(router)
    call_id = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939",
                                                "ivr_choice": "1"}).json()["call_id"]
    _drain(router)
    services.end_call("operateur", call_id, transfer="impots", question=QUESTION, note=NOTE)
    _drain(router)
    assert Contact.objects.get(pk=call_id).state in ("queued", "callback_offered")
    return call_id


def _age(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def test_snapshots_older_than_the_retention_period_are_deleted(router, api):
    _transferred_call_waiting_with_a_note(router, api)
    router.snapshot()
    old = RouterSnapshot.objects.order_by("-seq").first()
    assert NOTE in json.dumps(old.state)
    RouterSnapshot.objects.update(created=_age(400))
    api.post("/api/telephony/calls", {"caller": "+33699887766", "dialed": "3939"})
    _drain(router)
    router.snapshot()  # a newer one: the router's recovery point
    call_command("purge", "--days", "365")
    assert not RouterSnapshot.objects.filter(pk=old.pk).exists()
    assert RouterSnapshot.objects.filter(created__gte=_age(365)).exists()


def test_the_last_snapshot_is_kept_for_recovery_without_the_old_personal_data(router, api):
    call_id = _transferred_call_waiting_with_a_note(router, api)
    router.snapshot()
    RouterSnapshot.objects.update(created=_age(400))
    RouterInput.objects.update(created=_age(400))
    Contact.objects.update(created=_age(400))
    call_command("purge", "--days", "365")
    snapshots = list(RouterSnapshot.objects.all())
    assert snapshots, "the router's last recovery point is kept"
    for snap in snapshots:
        text = json.dumps(snap.state, ensure_ascii=False)
        assert "Mme Martin" not in text and "06 11 22 33 44" not in text
    # a restart still works from what is left, the waiting call still waits (without its note)
    restarted = Router(push=False)
    restarted.load()
    assert call_id in restarted.engine.contacts
    assert restarted.engine.contacts[call_id].context is None
