"""A portal search made while the process's dense encoder still loads (its first seconds) is ranked by
the first pass alone: it is shown, but neither the search cache nor the shared page cache keeps it, so
the next visitor gets the full ranking (issue 10: « cached 30 s » before)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.cache import cache

from allo.kb import search_service
from allo.kb.search import SearchIndex, dense, load_demo_docs, load_synonyms

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def big_index():
    """Enough fiches (>= 300) for the dense vectors, as on the real corpus."""
    docs = load_demo_docs()
    return SearchIndex(docs + [replace(d, id=f"{d.id}-bis", title=f"{d.title} (autre cas)", phrasings=[])
                               for d in docs], load_synonyms())


def test_a_search_ranked_before_the_encoder_is_ready_is_not_cached(client, big_index, monkeypatch):
    cache.clear()
    monkeypatch.setattr(search_service, "search_index", lambda using="default": big_index)
    real_query_raw = dense.query_raw
    monkeypatch.setattr(dense, "query_raw", lambda query: None)  # still loading
    calls = []
    search = big_index.search
    monkeypatch.setattr(big_index, "search", lambda *a, **k: calls.append(a) or search(*a, **k))

    first = client.get("/recherche", {"q": "carte grise perdue"})
    assert first.status_code == 200 and "s-maxage" not in first.get("Cache-Control", "")
    client.get("/recherche", {"q": "carte grise perdue"})
    assert len(calls) == 2  # not kept: searched again

    monkeypatch.setattr(dense, "query_raw", real_query_raw)  # the encoder is ready
    ready = client.get("/recherche", {"q": "carte grise perdue"})
    assert "s-maxage" in ready["Cache-Control"] and len(calls) == 3
    client.get("/recherche", {"q": "carte grise perdue"})
    assert len(calls) == 3  # the full ranking is kept
