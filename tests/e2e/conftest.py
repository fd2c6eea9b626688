"""Browser tests: headless Debian chromium through Playwright's sync API, against pytest-django's live server.

The live server forces transactional tests, which empty the database after each test; the demo is
loaded once here, serialised, and restored from that copy before each browser test and again after
the module, so later tests in the session still find it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking"]

# Playwright's sync API runs an event loop in the test thread; Django must allow its ORM there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="browser test: /usr/bin/chromium is absent (apt-get install -y chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


_DEMO: dict[str, str] = {}  # the demo database, serialised once


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.core.management import call_command
    from django.db import connections

    with django_db_blocker.unblock():
        call_command("init", "--demo", verbosity=0)
        _DEMO["default"] = connections["default"].creation.serialize_db_to_string()


def _restore_demo() -> None:
    from django.db import connections

    from allo.kb.models import Fiche

    if not Fiche.objects.exists():
        from django.contrib.contenttypes.models import ContentType

        # the flush's post_migrate recreated content types and permissions: the copy brings its own
        ContentType.objects.all().delete()
        connections["default"].creation.deserialize_db_from_string(_DEMO["default"])
        ContentType.objects.clear_cache()


@pytest.fixture
def demo_live(transactional_db, live_server):
    """The demo data, back in the database the live server reads (transactional tests empty it)."""
    _restore_demo()
    return live_server


@pytest.fixture(scope="module", autouse=True)
def _demo_restored_after_browser_tests(django_db_setup, django_db_blocker):
    yield
    with django_db_blocker.unblock():
        _restore_demo()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, demo_live):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture
def live_router(demo_live, monkeypatch):
    """The embedded router, built and run as `allo serve` does (allo.bootstrap)."""
    from allo.bootstrap import bootstrap

    monkeypatch.setenv("ALLO_CC_HOURS", "always")
    services = bootstrap(start_router=True)
    yield services.router
    services.close()  # stops the router and waits for its thread


@pytest.fixture
def login(browser):
    """A logged-in page per staff member; their browser contexts are closed after the test, so no
    kept-alive connection outlives the live server (its threads would close a connection it no
    longer shares)."""
    contexts = []

    def _login(base, username):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.goto(base + "/connexion/")
        page.fill("#id_username", username)
        page.fill("#id_password", "allo-demo-2026")
        page.click("button[type=submit]:has-text('Se connecter')")
        page.locator("button:has-text('Se déconnecter')").first.wait_for()  # logged in before the next page
        return page

    yield _login
    for context in contexts:
        context.close()


def _reload_until(page, selector, timeout=30.0):  # generous: a busy machine (make test-under-load)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.reload()
        if page.locator(selector).count():
            return page.locator(selector)
        time.sleep(0.2)
    raise AssertionError(f"{selector} never appeared")


@pytest.fixture
def reload_until():
    """Reload a page until `selector` shows (this live server has no WebSocket to push changes)."""
    return _reload_until


# A few real service-public.fr fiches with their dossier and theme pages (the integration tests'
# dila_sample, plus F10293 where F34300's guided search leads), cut from the shared archives.
REAL_ARCHIVES = Path(__file__).resolve().parents[2].parent / "shared" / "kb" / "service-public-real"
DILA_SAMPLE = {
    "part.zip": ["F1", "F10027", "F34300", "F10041", "F1420", "F10403", "F10293", "N19785", "N20286", "N367",
                 "N10481", "N275", "N449", "N19803", "N19811", "N19812", "N19806", "menu", "redirections",
                 "centresDeContact"],
    "pro.zip": ["F10403", "N22781", "N24267", "menu", "redirections"],
}


@pytest.fixture
def dila_live(demo_live, tmp_path):
    """The demo and those real fiches, in the database the live server reads."""
    import zipfile

    from allo.kb.official_import import import_archives

    if not REAL_ARCHIVES.exists():
        pytest.skip(f"the real DILA archives are not at {REAL_ARCHIVES} (../shared/ of the project)")
    paths = []
    for name, wanted in DILA_SAMPLE.items():
        with zipfile.ZipFile(REAL_ARCHIVES / name) as source, zipfile.ZipFile(tmp_path / name, "w") as out:
            for stem in wanted:
                out.writestr(f"{stem}.xml", source.read(f"{stem}.xml"))
        paths.append(tmp_path / name)
    import_archives(paths)
    return demo_live
