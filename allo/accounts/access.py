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
        if isinstance(access, ApiAccess):
            return check_api_access(request, access)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if access == AUTHENTICATED or user.has_role(*access):
            return None
        raise PermissionDenied("Votre rôle ne donne pas accès à cette page.")


class ApiAccess(frozenset):
    """Access of an API view: a bearer token of one of `token_roles` (see allo.contact_centre
    tokens), or a logged-in user with one of the session roles. Refusals are JSON (401/403), never
    a redirect to the login page; session requests keep their CSRF check."""

    token_roles: frozenset = frozenset()


def api(*, tokens: tuple[str, ...] = (), sessions: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    for role in sessions:
        if role not in Role.values:
            raise ValueError(f"unknown role {role!r}")

    def mark(view: Callable) -> Callable:
        access = ApiAccess(sessions)
        access.token_roles = frozenset(tokens)
        view.allo_access = access
        view.csrf_exempt = True  # checked below for session requests only
        return view

    return mark


def check_api_access(request, access: ApiAccess):
    """None when allowed, else the JSON refusal."""
    from django.http import JsonResponse
    from django.middleware.csrf import CsrfViewMiddleware

    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        from allo.contact_centre.tokens import token_role

        role = token_role(header[7:].strip())
        if role is None:
            return JsonResponse({"erreur": "Jeton invalide ou révoqué."}, status=401)
        if role not in access.token_roles:
            return JsonResponse({"erreur": "Ce jeton ne donne pas accès à cette ressource."}, status=403)
        request.api_token_role = role
        return None
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"erreur": "Authentification requise (jeton Bearer ou session)."}, status=401)
    if not user.has_role(*access):
        return JsonResponse({"erreur": "Votre rôle ne donne pas accès à cette ressource."}, status=403)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        refusal = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if refusal is not None:
            return JsonResponse({"erreur": "Jeton CSRF manquant ou invalide."}, status=403)
    return None
