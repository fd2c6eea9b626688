"""Deny-by-default access policy.

Every view the project routes must declare who may see it, with `@public` or `@roles(...)`. The
middleware enforces the declaration: anonymous users are sent to the login page, users without
the role get 403, and a view that declares nothing is refused (500 in tests, 403 for users) so a
forgotten rule can never expose a page. The authorisation-matrix test walks every URL with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from allo.accounts.roles import Role

logger = logging.getLogger(__name__)

PUBLIC = "public"
AUTHENTICATED = "authenticated"
# Third-party URL namespaces with their own access control.
DELEGATED_NAMESPACES = {"admin"}


def public(view: Callable) -> Callable:
    view.allo_access = PUBLIC
    return view


def authenticated(view: Callable) -> Callable:
    view.allo_access = AUTHENTICATED
    return view


def roles(*allowed: str) -> Callable[[Callable], Callable]:
    for role in allowed:
        if role not in Role.values:
            raise ValueError(f"unknown role {role!r}")

    def mark(view: Callable) -> Callable:
        view.allo_access = frozenset(allowed)
        return view

    return mark


def view_access(view: Callable):
    """The declared access of a resolved view function (class-based views carry it on view_class too)."""
    access = getattr(view, "allo_access", None)
    if access is None and hasattr(view, "view_class"):
        access = getattr(view.view_class, "allo_access", None)
    return access


class AccessPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and match.namespaces and match.namespaces[0] in DELEGATED_NAMESPACES:
            return None
        if settings.STATIC_URL and request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        access = view_access(view_func)
        if access is None:
            logger.error("view without access rule", extra={"path": request.path})
            raise PermissionDenied("Aucune règle d'accès n'est déclarée pour cette page.")
        if access == PUBLIC:
            return None
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if access == AUTHENTICATED or user.has_role(*access):
            return None
        raise PermissionDenied("Votre rôle ne donne pas accès à cette page.")
