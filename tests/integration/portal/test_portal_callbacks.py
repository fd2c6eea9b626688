"""Contact page and callback requests: hours and holidays, live wait, validation, capacity, rate limit, purge."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from allo.portal import callbacks, live
from allo.portal.models import CallbackRequest

pytestmark = pytest.mark.django_db


def first_slot(client) -> str:
    html = client.get(reverse("portal-contact")).content.decode()
    return re.search(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', html).group(1)


def valid(client, **changes) -> dict:
    data = {"phone": "06 12 34 56 78", "slot": first_slot(client), "subject": "Renouveler mon passeport",
            "theme": "", "consent": "on"}
    return data | changes


def test_contact_page_shows_number_hours_holidays_and_no_fake_wait(client, demo, open_line):
    html = client.get(reverse("portal-contact")).content.decode()
    assert "39 39" in html and "Horaires d'ouverture" in html and "08h00–19h00" in html
    assert "Prochains jours fériés" in html and "Pâques" in html  # next holidays after 8 March 2027
    assert "estimation indisponible" in html
    assert f"{callbacks.settings.RETENTION_DAYS} jours" in html


def test_live_wait_when_a_router_runs(client, demo, open_line):
    assert live.estimated_wait_seconds() is None
    live.register_wait_provider(lambda: 185.0)
    try:
        assert live.estimated_wait_seconds() == 185
        assert "environ 3 minutes" in client.get(reverse("portal-contact")).content.decode()
    finally:
        live.register_wait_provider(None)
    live.publish_wait_estimate(42)
    assert live.estimated_wait_seconds() == 42
    live.publish_wait_estimate(None)
    assert live.estimated_wait_seconds() is None


def test_slots_only_when_the_platform_is_open(demo):
    saturday = dt.datetime(2026, 12, 19, 13, 0)  # Saturday: open 9-14; Sunday closed; Friday 25 is Christmas
    slots = callbacks.upcoming_slots(now=saturday)
    days = sorted({slot.start.date() for slot in slots})
    assert days == [dt.date(2026, 12, 21), dt.date(2026, 12, 22), dt.date(2026, 12, 23)]
    assert slots[0].start == dt.datetime(2026, 12, 21, 8, 0) and slots[-1].end == dt.datetime(2026, 12, 23, 19, 0)
    christmas_eve = callbacks.upcoming_slots(now=dt.datetime(2026, 12, 24, 18, 0))
    assert dt.date(2026, 12, 25) not in {slot.start.date() for slot in christmas_eve}
    assert all(slot.start >= dt.datetime(2026, 12, 24, 18, 30) for slot in christmas_eve)


def test_callback_request_is_stored_minimally_and_confirmed(client, demo, open_line):
    data = valid(client, phone="+33 6 12 34 56 78", subject="  Carte   grise  ")
    response = client.post(reverse("portal-contact"), data)
    assert response.status_code == 302 and "demande=" in response["Location"]
    request = CallbackRequest.objects.get()
    assert request.phone_number == "+33612345678" and request.subject == "Carte grise"
    assert request.status == CallbackRequest.Status.PENDING and request.consent_at
    assert request.slot_start.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%dT%H:%M") == data["slot"]
    page = client.get(response["Location"]).content.decode()
    assert "Votre demande de rappel est enregistrée" in page
    pending = live.pending_callbacks()
    assert [(c.request_id, c.phone_number, c.channel) for c in pending] == [(request.pk, "+33612345678", "callback")]
    assert live.mark_forwarded(request.pk, "contact-17") and not live.mark_forwarded(request.pk, "again")
    assert live.pending_callbacks() == []


@pytest.mark.parametrize("phone, message", [
    ("", "Indiquez le numéro de téléphone"),
    ("06 12 34", "n'est pas valide"),
    ("bonjour", "n'est pas valide"),
    ("+44 20 7946 0958", "numéro français"),
    ("08 99 12 34 56", "pas un numéro spécial"),
])
def test_phone_numbers_are_validated_with_french_messages(client, demo, open_line, phone, message):
    response = client.post(reverse("portal-contact"), valid(client, phone=phone))
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not CallbackRequest.objects.exists()


def test_overseas_numbers_are_accepted(client, demo, open_line):
    assert client.post(reverse("portal-contact"), valid(client, phone="0696 12 34 56")).status_code == 302
    assert CallbackRequest.objects.get().phone_number == "+596696123456"


def test_consent_subject_and_slot_are_required(client, demo, open_line):
    html = client.post(reverse("portal-contact"), valid(client, consent="", subject="", slot="2020-01-01T10:00")
                       ).content.decode().replace("&#x27;", "'")
    assert "Votre accord est nécessaire" in html
    assert "Indiquez en quelques mots l'objet" in html
    assert "Ce créneau n'est plus proposé" in html
    assert not CallbackRequest.objects.exists()


def test_a_full_slot_is_refused_with_a_clear_message(client, demo, open_line, settings):
    settings.CALLBACK_SLOT_CAPACITY = 2
    slot = first_slot(client)
    for i, phone in enumerate(["06 12 34 56 70", "06 12 34 56 71"]):
        assert client.post(reverse("portal-contact"), valid(client, phone=phone, slot=slot),
                           REMOTE_ADDR=f"192.0.2.{i}").status_code == 302
    response = client.post(reverse("portal-contact"), valid(client, phone="06 12 34 56 72", slot=slot),
                           REMOTE_ADDR="192.0.2.9")
    html = response.content.decode()
    assert response.status_code == 200 and "Ce créneau est complet" in html
    assert CallbackRequest.objects.count() == 2
    assert "(complet)" in html and "disabled" in html


def test_one_pending_request_per_number(client, demo, open_line):
    client.post(reverse("portal-contact"), valid(client))
    html = client.post(reverse("portal-contact"), valid(client)).content.decode()
    assert "déjà enregistrée pour ce numéro" in html
    assert CallbackRequest.objects.count() == 1


def test_callback_requests_are_rate_limited_per_client(client, demo, open_line, settings):
    # valid requests only, per address and number (tests/integration/portal/test_callback_rate_limit.py)
    settings.CALLBACK_RATE_LIMIT = 3
    for _ in range(3):
        assert client.post(reverse("portal-contact"), valid(client)).status_code in (200, 302)
    response = client.post(reverse("portal-contact"), valid(client))
    assert response.status_code == 429
    assert "trop de demandes de rappel" in response.content.decode()
    assert CallbackRequest.objects.count() == 1
    other = valid(client, phone="06 12 34 56 77")
    assert client.post(reverse("portal-contact"), other, REMOTE_ADDR="198.51.100.1").status_code == 302


def test_purge_expired_honours_retention(demo, settings):
    from allo.kb.models import Fiche
    from allo.portal.models import Feedback

    settings.RETENTION_DAYS = 30
    now = timezone.now()
    old = CallbackRequest.objects.create(phone_number="+33612345678", slot_start=now, slot_end=now,
                                         subject="x", consent_at=now)
    recent = CallbackRequest.objects.create(phone_number="+33612345679", slot_start=now, slot_end=now,
                                            subject="y", consent_at=now)
    CallbackRequest.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=31))
    fiche = Fiche.objects.published().first()
    comment = Feedback.objects.create(fiche=fiche, helpful=False, comment="mon numéro est le 06...")
    Feedback.objects.filter(pk=comment.pk).update(created_at=now - dt.timedelta(days=31))
    from allo.portal.models import SearchLog

    SearchLog.objects.create(day=timezone.localdate() - dt.timedelta(days=31), query="jean dupont", result_count=0,
                             low_confidence=True)
    SearchLog.objects.create(day=timezone.localdate(), query="carte grise", result_count=3, low_confidence=False)
    assert callbacks.purge_expired() == {"callbacks": 1, "comments": 1, "searches": 1}
    assert list(SearchLog.objects.values_list("query", flat=True)) == ["carte grise"]
    assert list(CallbackRequest.objects.values_list("pk", flat=True)) == [recent.pk]
    comment.refresh_from_db()
    assert comment.comment == "" and comment.helpful is False
