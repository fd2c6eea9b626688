"""The wallboard (supervisors) and its JSON twin."""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.shortcuts import render

from allo.accounts.access import api
from allo.accounts.roles import Role
from allo.contact_centre import services
from allo.contact_centre.router import config as cfg


def wallboard(request):
    live = services.live_stats()
    labels = dict(cfg.DOMAINS)  # transfers are counted by domain: supervisors read its name
    return render(request, "contact_centre/wallboard.html", {
        "live": live, "domain_labels": json.dumps(labels, ensure_ascii=False),
        "transfers": [(labels.get(domain, domain), n) for domain, n in live["today"]["transfers"].items()],
    })


@api(tokens=("supervisor",), sessions=(Role.SUPERVISOR,))
def live(request):
    if request.method not in ("GET", "HEAD"):  # read-only; in the API's error format
        response = JsonResponse({"erreur": "Méthode non autorisée : cette adresse se lit seulement (GET)."},
                                status=405)
        response["Allow"] = "GET, HEAD"
        return response
    return JsonResponse(services.live_stats())
