"""The shared page cache in front of Django, through the real ASGI application the server runs."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from allo.accounts.models import User
from allo.kb.models import Fiche
from allo.portal import analytics
from allo.portal.models import FicheViewDaily, SearchLog

pytestmark = pytest.mark.django_db

NONCE = re.compile(r"nonce=\"([^\"]+)\"")


def asgi_request(path: str, *, method: str = "GET", headers: tuple = (), body: bytes = b"",
                 app=None) -> tuple[int, dict, str]:
    """One request through `app` (default: the application `allo serve` runs)."""
    from allo.project.asgi import application

    app = app or application

    async def run():
        path_only, _, query = path.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path_only, "raw_path": path_only.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": [(b"host", b"127.0.0.1"), *headers],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
        messages = []
        sent_body = asyncio.Event()

        async def receive():
            if not sent_body.is_set():
                sent_body.set()
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client stays connected

        async def send(message):
            messages.append(message)

        await app(scope, receive, send)
        start = messages[0]
        content = b"".join(m.get("body", b"") for m in messages[1:])
        return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, content.decode()

    return async_to_sync(run)()


@pytest.fixture
def fiche(demo):
    return Fiche.objects.published().order_by("id").first()


@pytest.fixture(autouse=True)
def fresh_cache():
    from allo.web import pagecache

    pagecache.clear()
    yield
    analytics.stop_batching()  # hits queue their analytics: back to writing at once


def test_second_anonymous_view_comes_from_the_cache_with_a_fresh_nonce(fiche):
    status1, headers1, body1 = asgi_request(f"/fiches/{fiche.id}")
    status2, headers2, body2 = asgi_request(f"/fiches/{fiche.id}")
    assert status1 == status2 == 200
    assert "age" not in headers1 and 0 <= int(headers2["age"]) < 10
    # the last shared cache: beyond it, a page with a nonce must not be kept (a CDN would reuse the nonce)
    assert headers1["cache-control"] == headers2["cache-control"] == "private, max-age=0"
    for headers, body in ((headers1, body1), (headers2, body2)):
        nonces = set(NONCE.findall(body))
        assert len(nonces) == 1  # every script of the page carries the response's nonce...
        assert f"'nonce-{nonces.pop()}'" in headers["content-security-policy"]  # ...which the policy allows
        assert "allo-replay" not in headers  # internal: never sent
    assert NONCE.findall(body1)[0] != NONCE.findall(body2)[0]
    assert NONCE.sub("", body1) == NONCE.sub("", body2)


def test_a_cached_view_still_counts_in_the_statistics(fiche):
    for _ in range(3):
        assert asgi_request(f"/fiches/{fiche.id}")[0] == 200
    # the miss wrote its view at once; the two hits were queued (never a write on the event loop)
    assert FicheViewDaily.objects.get(fiche=fiche).views == 1
    analytics.flush()
    assert FicheViewDaily.objects.get(fiche=fiche).views == 3
    # in a server process the lifespan runs a batcher (allo.bootstrap): a miss's events are queued too
    analytics.Batcher(seconds=3600).start()  # flushed by the test only; stopped by fresh_cache
    for _ in range(2):
        asgi_request("/recherche?q=carte+grise+perdue")
    analytics.flush()
    # the two identical searches of a batch are one row counting two
    assert SearchLog.objects.get(query="carte grise perdue").searches == 2


def test_logged_in_staff_always_get_a_fresh_page(fiche):
    asgi_request(f"/fiches/{fiche.id}")  # cached for anonymous visitors
    client = Client()
    client.force_login(User.objects.get(username="redacteur"))
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    status, headers, body = asgi_request(f"/fiches/{fiche.id}", headers=((b"cookie", cookie),))
    assert status == 200 and "age" not in headers
    assert "redacteur" in body.lower() or "Se déconnecter" in body
    status, headers, _ = asgi_request(f"/fiches/{fiche.id}", headers=((b"authorization", b"Bearer x"),))
    assert "age" not in headers
    # a message waiting for this visitor: Django renders (and consumes) it
    status, headers, _ = asgi_request(f"/fiches/{fiche.id}", headers=((b"cookie", b"csrftoken=a; messages=x"),))
    assert "age" not in headers
    # a CSRF cookie alone changes nothing on a public page
    assert "age" in asgi_request(f"/fiches/{fiche.id}", headers=((b"cookie", b"csrftoken=a"),))[1]


def test_health_check_shows_the_page_cache_figures(fiche, router_beating):
    asgi_request(f"/fiches/{fiche.id}")
    asgi_request(f"/fiches/{fiche.id}")
    status, _, body = asgi_request("/healthz")
    figures = json.loads(body)["page_cache"]
    assert status == 200 and figures["hits"] >= 1 and figures["pages"] >= 1 and figures["bytes"] > 1000


def test_a_published_change_is_seen_at_once(fiche):
    asgi_request(f"/fiches/{fiche.id}")
    assert "age" in asgi_request(f"/fiches/{fiche.id}")[1]
    fiche.short_answer = "Réponse courte révisée par la rédaction."
    fiche.save()
    status, headers, body = asgi_request(f"/fiches/{fiche.id}")
    assert "age" not in headers and "Réponse courte révisée par la rédaction." in body


def test_pages_with_a_form_token_or_an_error_are_never_cached(fiche):
    for path in ("/contact/", f"/fiches/{fiche.id}/avis?utile=oui", "/fiches/n-existe-pas"):
        first = asgi_request(path)
        second = asgi_request(path)
        assert "age" not in second[1], path
        assert first[0] == second[0]
    assert "csrfmiddlewaretoken" in asgi_request("/contact/")[2]


def test_each_query_is_its_own_page(demo):
    a = asgi_request("/recherche?q=passeport")
    b = asgi_request("/recherche?q=permis+de+conduire")
    assert "age" not in b[1] and a[2] != b[2]
    assert "age" in asgi_request("/recherche?q=passeport")[1]
    status, headers, _ = asgi_request("/recherche?q=passeport", method="HEAD")
    assert status == 200 and "age" in headers


def test_at_expiry_one_request_renders_while_the_others_get_the_last_copy(fiche):
    from allo.project.asgi import http_app
    from allo.web.pagecache import SharedPageCache

    now = [1000.0]
    cache = SharedPageCache(http_app, clock=lambda: now[0])
    path = f"/fiches/{fiche.id}"

    def get():
        return asgi_request(path, app=cache)[1]

    get()
    assert cache.misses == 1
    now[0] += 15  # past s-maxage (10 s), within stale-while-revalidate (20 s more)
    key = cache.key_for(path)
    cache.refreshing.add(key)  # another request is rendering it again
    assert get()["age"] == "15" and cache.misses == 1
    cache.refreshing.discard(key)
    assert "age" not in get() and cache.misses == 2  # this one renders it
    now[0] += 100  # far past: never served stale any more
    cache.refreshing.add(key)
    assert "age" not in get() and cache.misses == 3

