"""ASGI entry point: HTTP through Django (its WSGI handler, see allo.web.wsgi_bridge), WebSockets
through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allo.project.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_app = get_wsgi_application()  # sets Django up before the imports below

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from allo import bootstrap  # noqa: E402
from allo.kb.workflow import apply_due  # noqa: E402
from allo.partners.liaisons import resend_due as resend_liaison_mail  # noqa: E402
from allo.portal import analytics  # noqa: E402
from allo.project.routing import token_paths, websocket_urlpatterns  # noqa: E402
from allo.surges.services import scan as scan_surges  # noqa: E402
from allo.web.lifespan import Lifespan, PeriodicJob  # noqa: E402
from allo.web.metrics import PAGE_CACHE_FLUSH_S, flush_page_cache, process_stopping  # noqa: E402
from allo.web.pagecache import SharedPageCache  # noqa: E402
from allo.web.ws_origin import OriginCheck  # noqa: E402
from allo.web.wsgi_bridge import wsgi_to_asgi  # noqa: E402

http_app = wsgi_to_asgi(django_app)  # a2wsgi's pool of threads (ALLO_WEB_THREADS)
# A change takes effect on a date: checked every minute (one indexed query), so at most a minute late.
scheduled_changes = PeriodicJob("allo-kb-scheduled", 60, apply_due)
# a fiche de liaison whose e-mail was refused is sent again when its time comes (allo.partners.liaisons)
liaison_mail = PeriodicJob("allo-liaison-mail", 60, resend_liaison_mail)
# the page cache's hits and misses handed to /metrics (allo.web.metrics)
page_cache_counts = PeriodicJob("allo-metrics-page-cache", PAGE_CACHE_FLUSH_S, flush_page_cache)
# topical surges: what came since the last minute counted per fiche and theme, surges opened or ended
# (each process runs it; a lock row makes them take turns, docs/surges.md)
surge_scan = PeriodicJob("allo-surges-scan", 60, scan_surges)

application = ProtocolTypeRouter(
    {
        # public pages are served again to anonymous visitors from the cache every web process shares
        # (allo.web.pagecache: Redis, or files under the data folder)
        "http": SharedPageCache(http_app, session_cookie=settings.SESSION_COOKIE_NAME,
                                on_hit=analytics.record_later, max_bytes=settings.PAGE_CACHE_MB << 20),
        # browsers' WebSockets (session cookie) need an Origin of this site; token clients none
        "websocket": OriginCheck(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), token_paths),
        # in a server process: its services (allo.bootstrap) start: page views and searches are
        # counted in batches (a view must not wait on a database write), what is pending is written
        # before the process stops, the search index is mapped (or its build started) before the
        # first search, not in it; knowledge-base changes scheduled for a date are applied when it
        # comes, even without cron
        "lifespan": Lifespan(on_startup=[bootstrap.start_web_process, scheduled_changes.start,
                                         page_cache_counts.start, liaison_mail.start, surge_scan.start],
                             on_shutdown=[bootstrap.stop_web_process, scheduled_changes.stop, page_cache_counts.stop,
                                          liaison_mail.stop, surge_scan.stop, flush_page_cache, process_stopping]),
    }
)
