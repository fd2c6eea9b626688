from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from allo.accounts.access import public, roles
from allo.accounts.roles import Role
from allo.org.hours import centre_status, local_now
from allo.org.models import Centre, ServiceLine
from allo.web import pagecache
from allo.web.spaces import SPACES

logger = logging.getLogger(__name__)


@public
def home(request):
    """The staff home: each role's space (the citizens' home is the portal's)."""
    line = ServiceLine.current()
    return render(
        request,
        "web/home.html",
        {"line": line, "line_status": centre_status(line.platform) if line else None, "spaces": SPACES},
    )


@public
@never_cache
def healthz(request):
    """Liveness and readiness: 200 only when the database answers and a router runs (a recent
    heartbeat, no input left unapplied: allo.contact_centre.router.service.health), else 503
    "degraded" with what is wrong; with this process's page-cache figures (pages served from it are
    not logged one by one)."""
    from allo.contact_centre.router.service import health as router_health

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        router = router_health()
    except Exception:  # any database failure means "not ready"
        logger.exception("health check: database unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    ok = router["status"] == "ok"
    return JsonResponse({"status": "ok" if ok else "degraded", "database": "ok", "router": router,
                         "page_cache": pagecache.stats()}, status=200 if ok else 503)


@public  # for the monitoring, not the public: loopback, ALLO_METRICS_ALLOW or a supervision token
@never_cache
def metrics(request):
    """Prometheus metrics (allo.web.metrics, docs/operations.md); 403 in French JSON to anyone else."""
    from allo.web import metrics as prometheus

    if not prometheus.allowed(request):
        return JsonResponse({"erreur": "Accès refusé : les métriques sont réservées à la supervision technique "
                                       "(adresse autorisée ou jeton de supervision)."}, status=403)
    body, content_type = prometheus.exposition()
    return HttpResponse(body, content_type=content_type)


def _centres_with_status():
    now = local_now()
    centres = Centre.objects.filter(active=True).prefetch_related("opening_periods", "closures")
    return [centre_status(centre, now) for centre in centres]


@roles(Role.OPERATOR)
def operator_space(request):
    """The live N1 desk (allo.contact_centre.desks)."""
    from allo.contact_centre.desks.views import desk

    return desk(request, level=1)


@roles(Role.EXPERT)
def expert_space(request):
    """The live N2 desk: transferred calls arrive with their context."""
    from allo.contact_centre.desks.views import desk

    return desk(request, level=2)


@roles(Role.EDITOR, Role.EXPERT)
def editor_space(request):
    """Editors' desk; N2 experts review the corrections of the fiches their centre owns here too."""
    from allo.kb.views import editor_dashboard_context

    context = editor_dashboard_context(request.user) | {"can_write": request.user.has_role(Role.EDITOR)}
    return render(request, "web/space_editor.html", context)


@roles(Role.SUPERVISOR)
def supervisor_space(request):
    """The live wallboard (allo.contact_centre.supervision)."""
    from allo.contact_centre.supervision.views import wallboard

    return wallboard(request)
