"""Authorisation matrix: every URL the project defines × every role.

The URL list is walked from the resolver, so a new URL is covered the moment it exists; a URL whose
view declares no access rule, or whose parameters have no sample value here, fails the test.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from allo.accounts.access import AUTHENTICATED, DELEGATED_NAMESPACES, PUBLIC, view_access
from allo.accounts.demo import DEMO_USERS
from allo.accounts.roles import Role

# One demo account per role, plus the anonymous citizen.
ACTORS = {"anonymous": None} | {role.value: next(u[0] for u in DEMO_USERS if u[3] == role) for role in Role}

# Sample values for URL parameters, by parameter name (filled from the demo data).
SAMPLE_KWARGS: dict[str, str] = {}

# URLs that only answer another method than GET.
METHODS = {"logout": "post"}


def walk(patterns, prefix_ns=()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = (*prefix_ns, entry.namespace) if entry.namespace else prefix_ns
            yield from walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern):
            yield prefix_ns, entry


def project_urls():
    """(url name, view, namespace) of every routed view outside the delegated namespaces."""
    found = []
    for namespaces, pattern in walk(get_resolver().url_patterns):
        if namespaces and namespaces[0] in DELEGATED_NAMESPACES:
            continue
        found.append((":".join((*namespaces, pattern.name or "")), pattern))
    return found


def expected_status(access, actor: str, method: str) -> int:
    if access == PUBLIC:
        return 200
    if actor == "anonymous":
        return 302
    if access == AUTHENTICATED:
        return 302 if method == "post" else 200  # logout redirects home
    allowed = actor == Role.ADMINISTRATOR or actor in access
    return 200 if allowed else 403


def test_every_url_is_named_and_declares_its_access():
    missing = []
    for name, pattern in project_urls():
        if not pattern.name:
            missing.append(f"{pattern.pattern}: unnamed URL")
        elif view_access(pattern.callback) is None:
            missing.append(f"{name}: no @public / @roles(...) rule on its view")
    assert not missing, "\n".join(missing)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", list(ACTORS))
def test_matrix(actor, demo):
    from allo.accounts.models import User

    failures = []
    for name, pattern in project_urls():
        params = list(pattern.pattern.converters)
        unknown = [p for p in params if p not in SAMPLE_KWARGS]
        assert not unknown, f"{name}: add a sample value for {unknown} in SAMPLE_KWARGS"
        url = reverse(name, kwargs={p: SAMPLE_KWARGS[p] for p in params})
        client = Client()
        if ACTORS[actor]:
            client.force_login(User.objects.get(username=ACTORS[actor]))
        method = METHODS.get(name, "get")
        response = getattr(client, method)(url)
        want = expected_status(view_access(pattern.callback), actor, method)
        if response.status_code != want:
            failures.append(f"{method.upper()} {url} as {actor}: {response.status_code}, expected {want}")
        if want == 302 and actor == "anonymous" and method == "get":
            assert response["Location"].startswith(reverse("login")), url
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", list(ACTORS))
def test_admin_is_for_administrators_only(actor, demo):
    from allo.accounts.models import User

    client = Client()
    if ACTORS[actor]:
        client.force_login(User.objects.get(username=ACTORS[actor]))
    response = client.get(reverse("admin:index"))
    assert response.status_code == (200 if actor == Role.ADMINISTRATOR else 302)


def test_a_view_without_rule_is_refused(rf, settings):
    """Deny by default: the middleware refuses a routed view that declares nothing."""
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse

    from allo.accounts.access import AccessPolicyMiddleware

    def undeclared(request):
        return HttpResponse("secret")

    request = rf.get("/anything")
    request.resolver_match = None
    middleware = AccessPolicyMiddleware(lambda r: HttpResponse())
    with pytest.raises(PermissionDenied):
        middleware.process_view(request, undeclared, (), {})
