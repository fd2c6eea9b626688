"""The page cache is shared by every web process (issue 14): a page one worker rendered is served by
another, and a knowledge-base change made anywhere (a worker, an `allo kb` command) reaches all of
them. On the real Redis (REDIS_URL's backend) and on the embedded default (files under the data
folder), each with two cache clients standing for two workers, and on files with a second process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.core.cache import caches
from django.db import connection
from test_page_cache import asgi_request

from allo.kb.models import Fiche
from allo.portal import analytics
from allo.web import pagecache
from allo.web.pagecache import SharedPageCache

pytestmark = pytest.mark.django_db

REDIS = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS, socket_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(params=["redis", "files"])
def pages_backend(request, settings, tmp_path):
    """The `pages` cache on Redis (a key prefix of this test alone) or on files in a fresh folder."""
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("no Redis at 127.0.0.1:6379")
        prefix = f"allo-test-pages-{uuid.uuid4().hex}"
        pages = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS, "KEY_PREFIX": prefix}
    else:
        pages = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                 "LOCATION": str(tmp_path / "cache" / "pages")}
    settings.CACHES = settings.CACHES | {"pages": pages}  # Django rebuilds its cache handlers
    yield request.param
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    analytics.stop_batching()  # hits queue their analytics: back to writing at once


@pytest.fixture
def two_workers(pages_backend):
    """Two web workers' page caches in front of the same Django, each with its own cache client
    (its own Redis connection pool, or its own file cache object)."""
    from allo.project.asgi import http_app

    return [SharedPageCache(http_app, on_hit=analytics.record_later, store=caches.create_connection("pages"))
            for _ in range(2)]


@pytest.fixture
def fiche(demo):
    return Fiche.objects.published().order_by("id").first()


def test_a_page_one_worker_rendered_is_served_by_the_other(two_workers, fiche):
    a, b = two_workers
    path = f"/fiches/{fiche.id}"
    status, headers, body = asgi_request(path, app=a)
    assert status == 200 and "age" not in headers and a.misses == 1
    status, headers, again = asgi_request(path, app=b)
    assert status == 200 and "age" in headers  # from the shared cache: b never entered Django
    assert (b.hits, b.misses) == (1, 0)


def test_a_knowledge_base_change_saved_anywhere_reaches_every_worker(two_workers, fiche):
    a, b = two_workers
    path = f"/fiches/{fiche.id}"
    asgi_request(path, app=a)
    assert "age" in asgi_request(path, app=a)[1] and "age" in asgi_request(path, app=b)[1]
    fiche.short_answer = "Réponse courte révisée par la rédaction."
    fiche.save()  # the signal clears the pages cache through this process's own client
    status, headers, body = asgi_request(path, app=b)
    assert "age" not in headers, "a worker served the page of before the change"
    assert "Réponse courte révisée par la rédaction." in body
    # the other worker gets the new page, which b has just stored for both
    status, headers, body = asgi_request(path, app=a)
    assert "age" in headers and "Réponse courte révisée par la rédaction." in body


def test_each_site_has_its_own_pages(two_workers, fiche):
    """Keys carry the database's identity: a site (or a test run) sharing the Redis or the folder
    with another never gets the other's pages."""
    a, _ = two_workers
    key = a.key_for(f"/fiches/{fiche.id}")
    assert key.startswith(pagecache._namespace() + ":")
    other = dict(connection.settings_dict, NAME="another-site")
    ours = connection.settings_dict
    try:
        connection.settings_dict = other
        assert a.key_for(f"/fiches/{fiche.id}") != key
    finally:
        connection.settings_dict = ours


def test_an_evicted_generation_never_brings_old_pages_back(pages_backend, fiche):
    store = caches["pages"]
    first = pagecache.current_generation(store)
    store.delete(pagecache._generation_key())  # evicted (Redis' maxmemory, the file cache's cull)
    assert pagecache.current_generation(store) not in (first, None)


def test_a_change_made_by_another_process_reaches_this_one(settings, tmp_path, fiche):
    """The embedded default with two real processes: this one serves a page from the file cache,
    another process (as `allo kb import` would, after a change) clears the pages, and this process's
    next request renders the page again."""
    data = tmp_path / "data"
    settings.CACHES = settings.CACHES | {"pages": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(data / "cache" / "pages")}}
    from allo.project.asgi import http_app

    worker = SharedPageCache(http_app, on_hit=analytics.record_later)
    path = f"/fiches/{fiche.id}"
    try:
        asgi_request(path, app=worker)
        assert "age" in asgi_request(path, app=worker)[1]
        env = os.environ | {"ALLO_DATA_DIR": str(data), "REDIS_URL": "",
                            "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}"}
        code = "import django; django.setup(); from allo.portal.catalogue import kb_changed; kb_changed()"
        subprocess.run([sys.executable, "-c", code], env=env | {"DJANGO_SETTINGS_MODULE": "allo.project.settings"},
                       check=True, timeout=120, capture_output=True)
        time.sleep(pagecache.GENERATION_CHECK_S)  # the most this process trusts the generation it read
        assert "age" not in asgi_request(path, app=worker)[1]
        assert "age" in asgi_request(path, app=worker)[1]
    finally:
        analytics.stop_batching()


def test_a_page_rendered_before_the_change_is_committed_is_dropped_at_the_commit(
        two_workers, fiche, django_capture_on_commit_callbacks):
    """Another worker may render the page between the save (which clears) and the commit (its
    request still reads the data of before): the pages are cleared again once committed."""
    a, b = two_workers
    path = f"/fiches/{fiche.id}"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fiche.short_answer = "Réponse courte révisée par la rédaction."
        fiche.save()
        asgi_request(path, app=b)  # rendered and stored before the commit
        assert "age" in asgi_request(path, app=a)[1]
        fiche.save()  # a second save in the same transaction: one clear after the commit, not two
    assert len([c for c in callbacks if c is pagecache.clear]) == 1
    assert "age" not in asgi_request(path, app=a)[1]


def test_another_process_change_reaches_a_worker_within_the_generation_check(two_workers, fiche):
    """A worker trusts the generation it read for GENERATION_CHECK_S (no cache round trip per page):
    a change written by another process (here: straight into the shared cache) is seen after it."""
    a, _ = two_workers
    path = f"/fiches/{fiche.id}"
    asgi_request(path, app=a)
    a.store.set(pagecache._generation_key(), "changed-by-another-process", None)
    time.sleep(pagecache.GENERATION_CHECK_S)
    assert "age" not in asgi_request(path, app=a)[1]
    assert "age" in asgi_request(path, app=a)[1]
