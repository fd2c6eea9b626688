from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The demo data (organisation, accounts, knowledge base) loaded once into the test database,
    exactly as `allo init --demo` does; each test then runs in a transaction rolled back after it."""
    with django_db_blocker.unblock():
        call_command("init", "--demo", verbosity=0)


@pytest.fixture
def demo(db):
    """Marks a test that relies on the demo data loaded by django_db_setup."""


@pytest.fixture
def login_as(client, demo):
    from allo.accounts.models import User

    def _login(username: str):
        client.force_login(User.objects.get(username=username))
        return client

    return _login


@pytest.fixture
def router_beating(demo):
    """A router has applied the journal and published its heartbeat: /healthz reports it running."""
    from allo.contact_centre.router.service import Router

    router = Router(push=False)
    router.load()
    while router.step():
        pass
    router.heartbeat()
    return router


@pytest.fixture(autouse=True)
def _search_index_checked_again():
    """Each test rolls its changes back, which sends no signal: the search index of this process is
    checked against the database again at each test's start, not up to a second later."""
    from allo.kb.search_service import index_may_be_stale

    index_may_be_stale()


# A few real service-public.fr fiches, chosen for what they exercise: F1 (a warning, "mise à jour à
# venir"), F10027 (a questionnaire and conditional passages), F34300 (a guided search), F10041 (a
# fiche of commented external links), F1420 (an online service inside a sentence), F10403 (published
# on both sites), with their dossier pages, the themes' pages and each site's index files.
REAL_ARCHIVES = Path(__file__).resolve().parents[2].parent / "shared" / "kb" / "service-public-real"
DILA_SAMPLE = {
    "part.zip": ["F1", "F10027", "F34300", "F10041", "F1420", "F10403", "N19785", "N20286", "N367", "N10481",
                 "N275", "N449", "N19803", "N19811", "N19812", "N19806", "menu", "redirections", "centresDeContact"],
    "pro.zip": ["F10403", "N22781", "N24267", "menu", "redirections"],
}


def dila_sample_archives(folder: Path) -> list[Path]:
    """Two small archives cut from the real ones (same files, same bytes), as zips in `folder`."""
    import zipfile

    if not REAL_ARCHIVES.exists():
        pytest.skip(f"the real DILA archives are not at {REAL_ARCHIVES} (../shared/ of the project)")
    paths = []
    for name, wanted in DILA_SAMPLE.items():
        target = folder / name
        with zipfile.ZipFile(REAL_ARCHIVES / name) as source, zipfile.ZipFile(target, "w") as out:
            for stem in wanted:
                out.writestr(f"{stem}.xml", source.read(f"{stem}.xml"))
        paths.append(target)
    return paths


@pytest.fixture
def dila_archives(tmp_path):
    """The two sample archives (fresh copies a test may rewrite): [part.zip, pro.zip]."""
    folder = tmp_path / "dila-sample"
    folder.mkdir()
    return dila_sample_archives(folder)


@pytest.fixture
def dila_sample(demo, dila_archives):
    """The sample of real fiches imported (inside the test's transaction): the import summary."""
    from allo.kb.official_import import import_archives

    summary, _ = import_archives(dila_archives)
    return summary
