"""A public page's shared lifetime reaches the reverse proxy in front (nginx, docs/deploy.md) only
when that proxy is a trusted one and says it renews the CSP nonce of the pages it keeps; anyone else
gets the page as private, so that no cache further on hands one nonce to everyone. A trusted proxy
that logs the views of the pages it serves gets their analytics event, and Allô counts none itself."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync

from allo.kb.models import Fiche
from allo.portal import analytics
from allo.portal.models import FicheViewDaily

pytestmark = pytest.mark.django_db

RENEWS = (b"x-allo-shared-cache", b"renews-nonce")


def answer(path: str, peer: str, headers: tuple = ()) -> dict:
    """The headers of `path` as `allo serve`'s application answers a GET from `peer`."""
    from allo.project.asgi import application

    async def run():
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"127.0.0.1"), *headers], "client": (peer, 50000),
                 "server": ("127.0.0.1", 80)}
        messages = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            messages.append(message)

        await application(scope, receive, send)
        assert messages[0]["status"] == 200
        return {k.decode(): v.decode() for k, v in messages[0]["headers"]}

    return async_to_sync(run)()


def cache_control(path: str, peer: str, headers: tuple = ()) -> str:
    return answer(path, peer, headers)["cache-control"]


def _fiche_path():
    return f"/fiches/{Fiche.objects.published().order_by('pk').values_list('pk', flat=True).first()}"


@pytest.mark.parametrize("second_time", [False, True], ids=["rendered", "from Allô's cache"])
def test_only_a_trusted_proxy_that_renews_the_nonce_gets_the_shared_lifetime(demo, settings, second_time):
    settings.ALLO_TRUSTED_PROXIES = ["127.0.0.1"]
    path = _fiche_path()
    if second_time:
        cache_control(path, "192.0.2.7")
    shared = cache_control(path, "127.0.0.1", (RENEWS,))
    assert "s-maxage=" in shared and "public" in shared and "stale-while-revalidate=" in shared
    # the header alone, from a client that is not a trusted proxy: private
    assert cache_control(path, "192.0.2.7", (RENEWS,)) == "private, max-age=0"
    # the trusted proxy without the header (a proxy that would not renew the nonce): private
    assert cache_control(path, "127.0.0.1") == "private, max-age=0"
    assert cache_control(path, "127.0.0.1", ((b"x-allo-shared-cache", b"yes"),)) == "private, max-age=0"


def _views() -> int:
    analytics.flush()  # the hits' events, queued for the batcher
    return sum(FicheViewDaily.objects.values_list("views", flat=True))


@pytest.mark.parametrize("second_time", [False, True], ids=["rendered", "from Allô's cache"])
def test_a_trusted_proxy_that_logs_views_gets_the_event_and_allo_counts_none(demo, settings, second_time):
    settings.ALLO_TRUSTED_PROXIES = ["127.0.0.1"]
    path = _fiche_path()
    if second_time:
        answer(path, "192.0.2.7")
    before = _views()
    headers = answer(path, "127.0.0.1", ((b"x-allo-shared-cache", b"renews-nonce logs-views"),))
    assert json.loads(headers["allo-replay"]) == {"view": path.rsplit("/", 1)[1]}
    assert _views() == before
    # from anyone else, or a proxy that does not log views: counted by Allô, no event given out
    for peer, contract in (("192.0.2.7", b"renews-nonce logs-views"), ("127.0.0.1", b"renews-nonce")):
        headers = answer(path, peer, ((b"x-allo-shared-cache", contract),))
        assert "allo-replay" not in headers
        assert _views() == before + 1
        before += 1
