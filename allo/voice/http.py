"""The voice edge's part of the telephony API (documented in contact_centre/telephony/openapi.py):
the agents' SIP accounts as HA1 (never a password), and their phones' registered state. Telephony
tokens (and, as for every API view, an administrator's session)."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from allo.accounts.access import api
from allo.contact_centre.telephony import schemas
from allo.voice import credentials
from allo.voice.config import SIP_USER
from allo.voice.models import RecordedPrompt

EDGE = {"tokens": ("telephony",)}


@api(**EDGE)
@require_http_methods(["GET"])
def sip_accounts(request):
    accounts = schemas.ComptesSip(realm=credentials.realm(), accounts=credentials.accounts())
    return JsonResponse(accounts.model_dump())


@api(**EDGE)
@require_http_methods(["POST"])
def phone_state(request, agent: str):
    if not SIP_USER.match(agent):
        return JsonResponse({"erreur": "Agent inconnu."}, status=404)
    try:
        state = schemas.payload(schemas.TelephoneEnregistre, schemas.parse_json(request.body))
    except schemas.PayloadError as exc:
        return JsonResponse({"erreur": str(exc)}, status=400)
    changed = credentials.set_registered(agent, state.registered)
    if changed is None:
        return JsonResponse({"erreur": "Agent inconnu."}, status=404)
    answer = schemas.EtatTelephone(agent=agent, registered=state.registered, changed=changed)
    return JsonResponse(answer.model_dump(), status=202 if changed else 200)


@api(**EDGE)
@require_http_methods(["GET"])
def recorded_prompts(request):
    """The announcements an administrator recorded: each node downloads those whose digest changed."""
    listed = [schemas.AnnonceEnregistree(name=name, sha256=digest, seconds=seconds) for name, digest, seconds
              in RecordedPrompt.objects.order_by("name").values_list("name", "sha256", "seconds")]
    return JsonResponse(schemas.AnnoncesEnregistrees(prompts=listed).model_dump())


@api(**EDGE)
@require_http_methods(["GET"])
def recorded_prompt(request, name: str):
    prompt = RecordedPrompt.objects.filter(name=name).first()
    if prompt is None:
        return JsonResponse({"erreur": "Aucune annonce enregistrée à ce nom."}, status=404)
    response = HttpResponse(bytes(prompt.audio), content_type="audio/wav")
    response["ETag"] = f'"{prompt.sha256}"'
    return response
