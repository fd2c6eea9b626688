"""Supervisors' view of the surges: the alert the wallboard and the floor refresh, and a page of the
recent surges."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.surges import services
from allo.surges.models import Surge


@roles(Role.SUPERVISOR)
@require_GET
def supervisor(request):
    """`?partiel=1`: the alert alone (surges.js fetches it again every 30 s); else the page of the open
    and recent surges."""
    context = {"alerts": services.alerts()}
    if request.GET.get("partiel"):
        return render(request, "surges/_supervisor_alert.html", context)
    recent = list(Surge.objects.filter(ended__isnull=False).order_by("-ended")[:50])
    names = services.labels(recent)
    for s in recent:
        s.label = names[(s.dim, s.key)]
    return render(request, "surges/surges.html", context | {"recent": recent})
