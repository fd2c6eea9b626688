"""The voice edge's part of the telephony API (documented in contact_centre/telephony/openapi.py):
the agents' SIP accounts as HA1 (never a password), and their phones' registered state. Telephony
tokens (and, as for every API view, an administrator's session)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from allo.accounts.access import api
from allo.contact_centre.telephony import schemas
from allo.voice import credentials
from allo.voice.config import SIP_USER

EDGE = {"tokens": ("telephony",)}


@api(**EDGE)
@require_http_methods(["GET"])
def sip_accounts(request):
    return JsonResponse({"realm": credentials.realm(), "accounts": credentials.accounts()})


@api(**EDGE)
@require_http_methods(["POST"])
def phone_state(request, agent: str):
    if not SIP_USER.match(agent):
        return JsonResponse({"erreur": "Agent inconnu."}, status=404)
    try:
        data = schemas.parse_json(request.body)
    except schemas.PayloadError as exc:
        return JsonResponse({"erreur": str(exc)}, status=400)
    registered = data.get("registered")
    if not isinstance(registered, bool) or set(data) - {"registered"}:
        return JsonResponse({"erreur": "Le corps doit être {\"registered\": true|false}."}, status=400)
    changed = credentials.set_registered(agent, registered)
    if changed is None:
        return JsonResponse({"erreur": "Agent inconnu."}, status=404)
    return JsonResponse({"agent": agent, "registered": registered, "changed": changed}, status=202 if changed else 200)
