"""The wallboard (supervisors) and its JSON twin."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from allo.accounts.access import api
from allo.accounts.roles import Role
from allo.contact_centre import services


def wallboard(request):
    return render(request, "contact_centre/wallboard.html", {"live": services.live_stats()})


@api(tokens=("supervisor",), sessions=(Role.SUPERVISOR,))
def live(request):
    return JsonResponse(services.live_stats())
