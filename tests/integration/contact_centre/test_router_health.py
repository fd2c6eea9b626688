"""/healthz and the router (issue 14, finding 8): it said ok while no router ran (calls were
accepted and waited, unrouted). It now reports the router's heartbeat and the journal's progress, and
answers 503 "degraded" when the router is absent or stalled."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from allo.contact_centre.models import RouterInput
from allo.contact_centre.router import service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_heartbeat():
    cache.delete(service.HEARTBEAT_KEY)
    yield
    cache.delete(service.HEARTBEAT_KEY)


def test_no_router_running_is_degraded(client, demo):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["router"]["status"]) == ("degraded", "ok", "absent")


def test_a_router_beating_is_ok_and_an_old_beat_is_absent(client, router):
    while router.step():  # the demo's organisation changes
        pass
    router.heartbeat()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["router"]["status"]) == ("ok", "ok")
    assert 0 <= body["router"]["heartbeat_age_s"] < 5 and body["router"]["pending_inputs"] == 0
    cache.set(service.HEARTBEAT_KEY, time.time() - service.ROUTER_STALE_SECONDS - 1, 300)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["router"]["status"] == "absent"


def test_a_router_that_beats_but_leaves_the_journal_unapplied_is_stalled(client, api, router):
    while router.step():
        pass
    router.heartbeat()
    api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939"})
    assert client.get(reverse("healthz")).status_code == 200  # just arrived: not late yet
    RouterInput.objects.filter(seq__isnull=True).update(
        created=timezone.now() - dt.timedelta(seconds=service.ROUTER_STALE_SECONDS + 5))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["router"]["status"], body["router"]["pending_inputs"]) == ("degraded", "stalled", 1)
    assert body["router"]["oldest_pending_s"] > service.ROUTER_STALE_SECONDS
    router.step()
    router.heartbeat()
    assert client.get(reverse("healthz")).status_code == 200
