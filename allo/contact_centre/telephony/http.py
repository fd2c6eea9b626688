"""Telephony connector API: calls in, commands out (see telephony/openapi.py). Bodies are read and
written through their models (telephony/schemas.py)."""

from __future__ import annotations

import re

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods
from pydantic import BaseModel

from allo.accounts.access import api, public
from allo.accounts.roles import Role
from allo.contact_centre import services
from allo.contact_centre.models import Contact
from allo.contact_centre.telephony import schemas
from allo.contact_centre.telephony.openapi import SCHEMA

TELEPHONY = {"tokens": ("telephony",), "sessions": (Role.ADMINISTRATOR,)}
# A call id as the API hands it out (visible ASCII, at most the column's 64): anything else in the
# path is an unknown call, never a query (PostgreSQL refuses a NUL in text with an error).
CALL_ID = re.compile(r"^[\x21-\x7e]{1,64}$")


def _contact(call_id: str) -> Contact | None:
    return Contact.objects.filter(pk=call_id).first() if CALL_ID.match(call_id) else None


def _error(message: str, status: int = 400) -> JsonResponse:
    return _answer(schemas.Erreur(erreur=message), status)


def _answer(body: BaseModel, status: int = 200) -> JsonResponse:
    return JsonResponse(body.model_dump(), status=status)


def _event(call_id: str, accepted: bool) -> JsonResponse:
    return _answer(schemas.EvenementRecu(call_id=call_id, accepted=accepted), 202 if accepted else 200)


@api(**TELEPHONY)
@require_http_methods(["GET", "POST"])
def calls(request):
    if request.method == "GET":
        return _answer(schemas.AppelsEnCours(calls=services.live_calls()))
    try:
        call = schemas.payload(schemas.NouvelAppel, schemas.parse_json(request.body))
    except schemas.PayloadError as exc:
        return _error(str(exc))
    call_id, created = services.create_call(call.caller, call.dialed, call.ivr_choice, call.event_id,
                                            alive_every_s=call.keepalive_s)
    return _answer(schemas.AppelCree(call_id=call_id, created=created), 201 if created else 200)


@api(**TELEPHONY)
@require_http_methods(["POST"])
def hangup(request, call_id: str):
    if _contact(call_id) is None:
        return _error("Appel inconnu.", 404)
    return _event(call_id, services.hangup(call_id))


@api(**TELEPHONY)
@require_http_methods(["POST"])
def alive(request, call_id: str):
    return _on_live_call(call_id, services.call_alive)


@api(**TELEPHONY)
@require_http_methods(["POST"])
def lost(request, call_id: str):
    return _on_live_call(call_id, services.call_lost)


def _on_live_call(call_id: str, submit) -> JsonResponse:
    """`submit(call_id)` for a call the router still holds; 404 for an unknown one, 409 once it ended."""
    contact = _contact(call_id)
    if contact is None:
        return _error("Appel inconnu.", 404)
    if contact.state not in services.LIVE_STATES:
        return _error(f"L'appel est terminé (état : {contact.state}).", 409)
    return _event(call_id, submit(call_id))


@api(**TELEPHONY)
@require_http_methods(["POST"])
def callback_answer(request, call_id: str):
    return _report(request, call_id, schemas.ReponseAuRappel,
                   lambda answer: services.callback_answer(call_id, answer.accepted))


@api(**TELEPHONY)
@require_http_methods(["POST"])
def no_answer(request, call_id: str):
    return _report(request, call_id, schemas.PasDeReponse,
                   lambda refused: services.no_answer(call_id, refused.agent, refused.event_id))


@api(**TELEPHONY)
@require_http_methods(["POST"])
def consult_left(request, call_id: str):
    return _report(request, call_id, schemas.ConsultationQuittee,
                   lambda left: services.consult_left(call_id, left.agent, left.event_id))


def _report(request, call_id: str, schema: type[schemas.Body], submit) -> JsonResponse:
    """The connector's report about a known call: its body checked against `schema` (400 with the French
    refusal), then `submit(body)`: 202 when journaled, 200 when already received; 404 for an unknown call."""
    if _contact(call_id) is None:
        return _error("Appel inconnu.", 404)
    try:
        body = schemas.payload(schema, schemas.parse_json(request.body))
    except schemas.PayloadError as exc:
        return _error(str(exc))
    return _event(call_id, submit(body))


@api(**TELEPHONY)
@require_http_methods(["GET"])
def call_detail(request, call_id: str):
    c = _contact(call_id)
    if c is None:
        return _error("Appel inconnu.", 404)
    return _answer(schemas.EtatAppel(call_id=c.pk, state=c.state, queue=c.queue, agent=c.agent,
                                     transferred_to=c.transferred_to, outcome=c.outcome, partner=c.partner_id))


@public
def openapi(request):
    return JsonResponse(SCHEMA)
