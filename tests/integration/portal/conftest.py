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


# dila_sample's files (tests/integration/conftest.py) plus F10293, where F34300's guided search leads
# for a new moped bought in France: the walk is followed to a fiche that reads the situation back.
PORTAL_SAMPLE = {
    "part.zip": ["F1", "F10027", "F34300", "F10041", "F1420", "F10403", "F10293", "N19785", "N20286", "N367",
                 "N10481", "N275", "N449", "N19803", "N19811", "N19812", "N19806", "menu", "redirections",
                 "centresDeContact"],
    "pro.zip": ["F10403", "N22781", "N24267", "menu", "redirections"],
}


@pytest.fixture
def dila_portal(demo, tmp_path):
    """Real service-public.fr fiches and their pages, imported inside the test's transaction."""
    import zipfile
    from pathlib import Path

    from allo.kb.official_import import import_archives

    real = Path(__file__).resolve().parents[3].parent / "shared" / "kb" / "service-public-real"
    if not real.exists():
        pytest.skip(f"the real DILA archives are not at {real} (../shared/ of the project)")
    paths = []
    for name, wanted in PORTAL_SAMPLE.items():
        with zipfile.ZipFile(real / name) as source, zipfile.ZipFile(tmp_path / name, "w") as out:
            for stem in wanted:
                out.writestr(f"{stem}.xml", source.read(f"{stem}.xml"))
        paths.append(tmp_path / name)
    summary, _ = import_archives(paths)
    return summary
