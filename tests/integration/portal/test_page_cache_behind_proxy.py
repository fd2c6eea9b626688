"""A public page's shared lifetime reaches the reverse proxy in front (nginx, docs/deploy.md) only
when that proxy is a trusted one and says it renews the CSP nonce of the pages it keeps; anyone else
gets the page as private, so that no cache further on hands one nonce to everyone."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from allo.kb.models import Fiche

pytestmark = pytest.mark.django_db

RENEWS = (b"x-allo-shared-cache", b"renews-nonce")


def cache_control(path: str, peer: str, headers: tuple = ()) -> str:
    """The Cache-Control of `path` as `allo serve`'s application answers a GET from `peer`."""
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
        return dict(messages[0]["headers"])[b"cache-control"].decode()

    return async_to_sync(run)()


@pytest.mark.parametrize("second_time", [False, True], ids=["rendered", "from Allô's cache"])
def test_only_a_trusted_proxy_that_renews_the_nonce_gets_the_shared_lifetime(demo, settings, second_time):
    settings.ALLO_TRUSTED_PROXIES = ["127.0.0.1"]
    path = f"/fiches/{Fiche.objects.published().order_by('pk').values_list('pk', flat=True).first()}"
    if second_time:
        cache_control(path, "192.0.2.7")
    shared = cache_control(path, "127.0.0.1", (RENEWS,))
    assert "s-maxage=" in shared and "public" in shared and "stale-while-revalidate=" in shared
    # the header alone, from a client that is not a trusted proxy: private
    assert cache_control(path, "192.0.2.7", (RENEWS,)) == "private, max-age=0"
    # the trusted proxy without the header (a proxy that would not renew the nonce): private
    assert cache_control(path, "127.0.0.1") == "private, max-age=0"
    assert cache_control(path, "127.0.0.1", ((b"x-allo-shared-cache", b"yes"),)) == "private, max-age=0"
