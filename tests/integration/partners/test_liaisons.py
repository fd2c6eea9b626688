"""Fiches de liaison (issue 13, item 3): filled on the N1 desk for a partner's call, checked with French
messages and kept as typed when refused, e-mailed to the partner's contacts through a real SMTP server
on loopback (aiosmtpd), shown in the partner's space where it is marked handled, its status back on the
3939's side, every sight and change in the audit trail, and purged with the callers' personal data."""

from __future__ import annotations

import datetime as dt
import email
import json
from email.policy import default as default_policy

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from loopback import free_port

from allo.accounts.models import User
from allo.bootstrap import bootstrap
from allo.contact_centre.models import Contact
from allo.partners import liaisons
from allo.partners.models import Liaison, LiaisonAudit, Partner

pytestmark = pytest.mark.django_db

CALLER = "+33611223344"  # the caller's line: it must never reach the partner without consent
CALLER_SPELLINGS = [CALLER, "0611223344", "06 11 22 33 44", "6 11 22 33 44"]


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def router(demo, monkeypatch):
    """A router driven by the test (step() instead of a thread), centres always open."""
    monkeypatch.setenv("ALLO_CC_HOURS", "always")
    services = bootstrap(router=True)  # as `allo router` builds it, but driven by the test
    services.router.load()
    yield services.router
    services.close()


def drain(router) -> None:
    while router.step():
        pass


def staff(username: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


@pytest.fixture
def on_call(router, client):
    """The demo operator on a call that the Mairie de Rouen's switchboard overflowed to the line."""
    from allo.contact_centre.tokens import create_token

    token = create_token("telephony", "test")
    op = staff("operateur")
    op.post(reverse("desk-state"), {"action": "ready"})
    drain(router)
    r = client.post("/api/telephony/calls", json.dumps({"caller": CALLER, "dialed": "0261910001"}),
                    content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.content
    drain(router)
    contact = Contact.objects.get(pk=r.json()["call_id"])
    assert contact.agent == "operateur" and contact.partner.code == "mairie-rouen"
    return op, contact


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free loopback port, and Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 Message accepted for delivery"

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


FORM = {"caller_name": "Jeanne Dupont", "request": "Prendre rendez-vous pour déposer une demande de passeport.",
        "file_number": "PASS-2026/0042"}


def send(op, contact, data, **headers):
    return op.post(reverse("desk-liaison", args=[contact.pk]), data, **headers)


# ------------------------------------------------------------------------------------------ the desk


def test_the_desk_offers_a_fiche_de_liaison_for_the_partner_of_the_call(on_call):
    op, contact = on_call
    page = op.get(reverse("space-operator")).content.decode()
    section = page[page.index('id="fiche-liaison"'):]
    assert "Fiche de liaison" in section and "Transmettre la fiche de liaison" in section
    rouen = Partner.objects.get(code="mairie-rouen")
    assert f'<option value="{rouen.pk}" selected>Mairie de Rouen</option>' in section  # the call's partner
    assert "CAF du Rhône" in section  # any other partner may be chosen


@pytest.mark.any_db
def test_a_fiche_de_liaison_reaches_the_partner_mailbox_through_a_real_smtp_server(
        on_call, smtp_server, django_capture_on_commit_callbacks):
    op, contact = on_call
    rouen = Partner.objects.get(code="mairie-rouen")
    with django_capture_on_commit_callbacks(execute=True):
        r = send(op, contact, FORM | {"partner": rouen.pk})
    assert r.status_code == 302
    liaison = Liaison.objects.get(contact=contact)
    assert (liaison.partner, liaison.created_by.username, liaison.status) == (rouen, "operateur", "sent")
    assert liaison.callback_number == "" and not liaison.callback_consent
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["etat-civil@mairie-rouen.example"]
    message = email.message_from_bytes(envelope.content, policy=default_policy)
    assert message["To"] == "etat-civil@mairie-rouen.example"
    assert message["Subject"].strip() == f"Fiche de liaison n° {liaison.pk} transmise par le 3939 — Mairie de Rouen"
    body = message.get_content()
    assert "Jeanne Dupont" in body and "PASS-2026/0042" in body and "demande de passeport" in body
    assert "son numéro de téléphone n'est pas transmis" in body
    assert f"/partenaire/liaisons/{liaison.pk}/" in body
    raw = envelope.content.decode("utf-8", "replace")
    assert not any(n in raw for n in CALLER_SPELLINGS), "the caller's number left without consent"
    liaison.refresh_from_db()
    assert liaison.emailed_to == "etat-civil@mairie-rouen.example" and liaison.email_error == ""
    # with consent, the number the caller gave is in the mail (and only then)
    with django_capture_on_commit_callbacks(execute=True):
        send(op, contact, FORM | {"partner": rouen.pk, "callback_consent": "1", "callback_number": "06 98 76 54 32"})
    second = email.message_from_bytes(smtp_server.envelopes[1].content, policy=default_policy).get_content()
    assert "L'appelant accepte d'être rappelé au +33698765432." in second
    assert Liaison.objects.filter(contact=contact).count() == 2
    # the desk shows what was sent for this call
    page = op.get(reverse("space-operator")).content.decode()
    assert f"Fiche n° {liaison.pk} → Mairie de Rouen" in page and "Transmise" in page


def test_a_refused_smtp_delivery_is_recorded_and_the_fiche_kept(on_call, settings,
                                                                django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    op, contact = on_call
    with django_capture_on_commit_callbacks(execute=True):
        send(op, contact, FORM | {"partner": contact.partner_id})
    liaison = Liaison.objects.get(contact=contact)
    assert liaison.email_error.startswith("Envoi refusé") and liaison.emailed_to == ""
    page = staff("superviseur").get(reverse("liaison-list")).content.decode()
    assert "courriel non envoyé" in page and "nouvel essai " in page


@pytest.mark.any_db
def test_a_refused_delivery_is_sent_again_once_the_mail_server_is_back(on_call, smtp_server, settings,
                                                                       django_capture_on_commit_callbacks):
    server_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # the relay is down: nothing listens there
    op, contact = on_call
    with django_capture_on_commit_callbacks(execute=True):
        send(op, contact, FORM | {"partner": contact.partner_id})
    liaison = Liaison.objects.get(contact=contact)
    assert (liaison.email_attempts, liaison.emailed_to) == (1, "")
    assert liaison.email_retry_at > timezone.now()
    assert liaisons.resend_due() == 0  # not before its time
    # still down at the next try: the wait grows
    first_wait = liaison.email_retry_at - timezone.now()
    assert liaisons.resend_due(now=liaison.email_retry_at) == 0
    liaison.refresh_from_db()
    assert liaison.email_attempts == 2 and liaison.email_retry_at - timezone.now() > first_wait
    # the relay is back: the next try delivers, with the link to the partner's space of the first request
    settings.EMAIL_PORT = server_port
    assert liaisons.resend_due(now=liaison.email_retry_at) == 1
    [envelope] = smtp_server.envelopes
    assert f"http://testserver/partenaire/liaisons/{liaison.pk}/" in envelope.content.decode()
    liaison.refresh_from_db()
    assert (liaison.emailed_to, liaison.email_error, liaison.email_retry_at) == (
        "etat-civil@mairie-rouen.example", "", None)
    assert liaisons.resend_due(now=timezone.now() + dt.timedelta(days=3)) == 0  # sent once, never twice
    assert len(smtp_server.envelopes) == 1


def test_a_delivery_refused_every_time_is_given_up_and_said_so(on_call, settings,
                                                                django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    op, contact = on_call
    with django_capture_on_commit_callbacks(execute=True):
        send(op, contact, FORM | {"partner": contact.partner_id})
    liaison = Liaison.objects.get(contact=contact)
    while liaison.email_retry_at is not None:
        liaisons.resend_due(now=liaison.email_retry_at)
        liaison.refresh_from_db()
    assert liaison.email_attempts == liaisons.MAX_ATTEMPTS
    assert liaison.email_error.startswith(f"Abandonné après {liaisons.MAX_ATTEMPTS} essais. Envoi refusé")
    page = staff("superviseur").get(reverse("liaison-list")).content.decode()
    assert "courriel non envoyé" in page and "Abandonné après" in page and "nouvel essai" not in page


@pytest.mark.parametrize("data, field, message", [
    ({"partner": ""}, "liaison-partenaire-erreur", "Choisissez l&#x27;administration partenaire"),
    ({"caller_name": ""}, "liaison-nom-erreur", "Indiquez le nom de l&#x27;appelant"),
    ({"request": "RDV"}, "liaison-demande-erreur", "Décrivez la demande"),
    ({"file_number": "<script>"}, "liaison-dossier-erreur", "Le numéro de dossier ne peut contenir"),
    ({"callback_consent": "1", "callback_number": ""}, "liaison-numero-erreur", "indiquez le numéro"),
    ({"callback_consent": "1", "callback_number": "0899 00 00 00"}, "liaison-numero-erreur", "numéro spécial"),
    ({"callback_number": "06 98 76 54 32"}, "liaison-numero-erreur", "qu&#x27;avec l&#x27;accord de l&#x27;appelant"),
])
def test_a_refused_fiche_keeps_what_was_typed_with_a_french_error_beside_the_field(on_call, data, field, message):
    op, contact = on_call
    posted = FORM | {"partner": contact.partner_id} | data
    r = send(op, contact, posted)
    assert r.status_code == 400
    page = r.content.decode()
    assert "La fiche de liaison n'est pas transmise : 1 champ à corriger" in page
    error = page[page.index(f'id="{field}"'):]
    assert message in error[:400]
    assert 'autofocus' in page[page.index('id="fiche-liaison"'):]
    for key in ("caller_name", "file_number"):
        if posted.get(key) and key not in data:
            assert f'value="{posted[key]}"' in page
    if "request" not in data:
        assert posted["request"] in page
    assert not Liaison.objects.exists()


def test_with_htmx_the_section_alone_comes_back(on_call, django_capture_on_commit_callbacks):
    op, contact = on_call
    bad = send(op, contact, FORM | {"partner": contact.partner_id, "caller_name": "J"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200  # htmx swaps it in place
    fragment = bad.content.decode()
    assert fragment.lstrip().startswith("<section") and 'id="fiche-liaison"' in fragment
    assert "<html" not in fragment and "au moins 2 caractères" in fragment and "PASS-2026/0042" in fragment
    with django_capture_on_commit_callbacks(execute=True):
        ok = send(op, contact, FORM | {"partner": contact.partner_id}, HTTP_HX_REQUEST="true")
    liaison = Liaison.objects.get()
    assert f"Fiche de liaison n° {liaison.pk} transmise à Mairie de Rouen." in ok.content.decode()


def test_only_the_agent_of_the_call_may_send_its_fiche(on_call):
    _, contact = on_call
    other = staff("operateur2")
    r = send(other, contact, FORM | {"partner": contact.partner_id})
    assert r.status_code == 302 and not Liaison.objects.exists()


# ------------------------------------------------------------------------------------------ the partner


@pytest.mark.any_db
def test_the_partner_handles_the_fiche_and_the_3939_sees_its_status(on_call, django_capture_on_commit_callbacks):
    op, contact = on_call
    with django_capture_on_commit_callbacks(execute=True):
        send(op, contact, FORM | {"partner": contact.partner_id})
    liaison = Liaison.objects.get()
    rouen = staff("partenaire-rouen")
    space = rouen.get(reverse("partner-space")).content.decode()
    assert "1 à traiter" in space and f"Traiter la fiche n° {liaison.pk}" in space
    detail = rouen.get(reverse("partner-liaison", args=[liaison.pk])).content.decode()
    assert "Jeanne Dupont" in detail and "PASS-2026/0042" in detail and "À traiter" in detail
    assert not any(n in detail for n in CALLER_SPELLINGS)
    refused = rouen.post(reverse("partner-liaison", args=[liaison.pk]), {"answer": "ok"})
    assert refused.status_code == 400 and "Indiquez en quelques mots la suite donnée" in refused.content.decode()
    assert 'value="ok"' in refused.content.decode() or ">ok</textarea>" in refused.content.decode()
    done = rouen.post(reverse("partner-liaison", args=[liaison.pk]), {"answer": "Rendez-vous fixé le 12/01 à 10 h."})
    assert done.status_code == 302
    liaison.refresh_from_db()
    assert liaison.status == "handled" and liaison.handled_by.username == "partenaire-rouen"
    assert liaison.answer == "Rendez-vous fixé le 12/01 à 10 h."
    # back on the 3939's side: the operator's desk (still on the call) and the list
    assert "Rendez-vous fixé le 12/01" in op.get(reverse("space-operator")).content.decode()
    listing = op.get(reverse("liaison-list")).content.decode()
    assert "Traitée le" in listing and "Rendez-vous fixé le 12/01" in listing
    # every sight and change of the fiche is in the audit trail, with who
    trail = set(LiaisonAudit.objects.filter(liaison=liaison).values_list("user__username", "action"))
    assert {("operateur", "created"), ("partenaire-rouen", "viewed"), ("partenaire-rouen", "handled"),
            ("operateur", "viewed")} <= trail


def test_another_partner_never_reaches_the_fiche(on_call, django_capture_on_commit_callbacks):
    op, contact = on_call
    with django_capture_on_commit_callbacks(execute=True):
        send(op, contact, FORM | {"partner": contact.partner_id})
    liaison = Liaison.objects.get()
    caf = staff("partenaire-caf")
    assert caf.get(reverse("partner-liaison", args=[liaison.pk])).status_code == 404
    assert caf.post(reverse("partner-liaison", args=[liaison.pk]), {"answer": "Traité par la CAF."}).status_code == 404
    liaison.refresh_from_db()
    assert liaison.status == "sent"
    assert "Jeanne Dupont" not in caf.get(reverse("partner-space")).content.decode()
    assert f"n° {liaison.pk}" not in caf.get(reverse("partner-space")).content.decode()


# ------------------------------------------------------------------------------------------ retention


@pytest.mark.any_db
def test_allo_purge_deletes_old_fiches_de_liaison_and_their_audit(on_call, django_capture_on_commit_callbacks,
                                                                 settings):
    op, contact = on_call
    with django_capture_on_commit_callbacks(execute=True):
        send(op, contact, FORM | {"partner": contact.partner_id, "caller_name": "Ancien Appelant"})
        send(op, contact, FORM | {"partner": contact.partner_id})
    old, recent = Liaison.objects.order_by("pk")
    long_ago = timezone.now() - dt.timedelta(days=settings.RETENTION_DAYS + 1)
    Liaison.objects.filter(pk=old.pk).update(created=long_ago)
    LiaisonAudit.objects.filter(liaison=recent).update(created=long_ago)  # old audit of a recent fiche too
    call_command("purge")
    assert list(Liaison.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not LiaisonAudit.objects.filter(created__lt=timezone.now() - dt.timedelta(days=1)).exists()


def test_the_desk_and_the_wallboard_link_to_the_fiches_de_liaison(demo):
    assert reverse("liaison-list") in staff("operateur").get(reverse("space-operator")).content.decode()
    assert reverse("liaison-list") in staff("superviseur").get(reverse("space-supervisor")).content.decode()
    assert staff("partenaire-rouen").get(reverse("liaison-list")).status_code == 403
