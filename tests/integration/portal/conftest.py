from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached catalogue live in the cache: each test starts from an empty one."""
    cache.clear()
    yield
    cache.clear()


# A Monday of a working week (no public holiday), mid-morning: the line is open.
OPEN_MONDAY = dt.datetime(2027, 3, 8, 10, 0)


@pytest.fixture
def open_line(monkeypatch):
    """Freeze the service's wall clock on a Monday at 10:00 (the N1 platform is open)."""
    monkeypatch.setattr("allo.org.hours.local_now", lambda: OPEN_MONDAY)
    monkeypatch.setattr("allo.portal.callbacks.local_now", lambda: OPEN_MONDAY)
    monkeypatch.setattr("allo.portal.views.local_now", lambda: OPEN_MONDAY)
    return OPEN_MONDAY


@pytest.fixture
def fiche_with_internals(demo):
    """A published demo fiche with a level-2 destination and callers' phrasings."""
    from allo.kb.models import Fiche

    fiche = Fiche.objects.published().exclude(level2="").exclude(phrasings=[]).order_by("id").first()
    assert fiche is not None, "the demo should have a published fiche with level2 and phrasings"
    return fiche
