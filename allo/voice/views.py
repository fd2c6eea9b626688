"""« Mon téléphone »: the agent's SIP account; a POST generates (or regenerates) its password, shown once."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from allo.accounts.access import roles
from allo.accounts.roles import Role
from allo.voice import credentials


@roles(Role.OPERATOR, Role.EXPERT)
@require_http_methods(["GET", "POST"])
@never_cache
def phone(request):
    """The new password is in the POST's answer only (never stored, never kept in the session for a
    redirection): the agent copies it into its phone now, or generates another one later."""
    user = request.user
    back = "space-expert" if user.has_role(Role.EXPERT) and not user.has_role(Role.OPERATOR) else "space-operator"
    context = {"back": back, "agent": credentials.is_agent(user), "password": None}
    if request.method == "POST" and context["agent"]:
        context["password"] = credentials.generate(user)
    context["phone"] = credentials.phone_context(user)
    return render(request, "voice/phone.html", context)
