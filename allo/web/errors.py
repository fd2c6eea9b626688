"""Error pages: French pages in the site's layout (templates 403.html, 404.html, 500.html); the
API (/api/) answers its errors in its own JSON format ({"erreur": ...})."""

from __future__ import annotations

import logging

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.views import defaults

logger = logging.getLogger(__name__)

# When even the 500 page cannot be rendered (the database down under the context processors...)
FALLBACK_500 = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Erreur inattendue — Allô Service Public</title></head>
<body><main><h1>Erreur inattendue</h1><p>Erreur 500</p>
<p>Désolé, le service rencontre un problème. Réessayez un peu plus tard, ou appelez le 39 39.</p>
<p><a href="/">Page d'accueil</a></p></main></body></html>
"""


def _api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if _api(request):
        return JsonResponse({"erreur": "Requête invalide."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _api(request):
        return JsonResponse({"erreur": "Accès refusé."}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _api(request):
        return JsonResponse({"erreur": "Adresse inconnue de l'API (voir /api/openapi.json)."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _api(request):
        return JsonResponse({"erreur": "Erreur interne du serveur : réessayez dans un instant."}, status=500)
    try:
        return render(request, "500.html", status=500)
    except Exception:
        logger.exception("the 500 page could not be rendered")
        return HttpResponseServerError(FALLBACK_500)
