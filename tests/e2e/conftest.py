"""Browser tests: headless Debian chromium through Playwright's sync API, against pytest-django's live server.

The live server forces transactional tests, which empty the database after each test; the demo is
loaded once here, serialised, and restored from that copy before each browser test and again after
the module, so later tests in the session still find it.
"""

from __future__ import annotations

import os
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
