"""The wallboard (supervisors), its JSON twin, and the live floor control (« Pilotage du plateau »)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from allo.accounts.access import api, roles
from allo.accounts.roles import Role
from allo.contact_centre import services
from allo.contact_centre.models import AuditAction
from allo.contact_centre.router import config as cfg
from allo.contact_centre.supervision import services as supervision


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


def duration(seconds: int | None) -> str:
    """« 42 s », « 3 min 05 s », « 1 h 02 min »."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@roles(Role.SUPERVISOR)
@require_GET
def floor(request):
    """Every agent, per-queue staffing, thresholds crossed and the actions taken; `?partiel=1` answers
    the live part alone, which the page fetches again each time the router pushes new figures."""
    live = services.live_stats()
    agents = supervision.floor()
    for a in agents:
        a["in_state"] = duration(a["in_state_s"])
        a["aht"] = duration(a["aht_s"])
        if a["call"]:
            a["call"]["duration"] = duration(a["call"]["duration_s"])
    context = {"live": live, "agents": agents, "audit": supervision.audit(), "actions": AuditAction}
    template = "contact_centre/_floor.html" if request.GET.get("partiel") else "contact_centre/floor.html"
    return render(request, template, context)


@roles(Role.SUPERVISOR)
@require_POST
def floor_action(request):
    """Force a pause or a logout, or end a call whose hang-up never came: one journal input, audited."""
    from allo.contact_centre.desks.views import _settle

    action = request.POST.get("action", "")
    agent = request.POST.get("agent", "")[:150]
    call_id = request.POST.get("call_id", "")[:64]
    try:
        supervision.force(request.user, action, agent=agent, call_id=call_id)
    except supervision.ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        done = {AuditAction.END_CALL: "L'appel est terminé (perdu).", AuditAction.PAUSE: f"{agent} est mis en pause.",
                AuditAction.LOGOUT: f"{agent} est déconnecté."}
        messages.success(request, done[action])
    _settle()
    return redirect("supervision-floor")
