"""Test-wide setup.

Tests are split by reach: `unit/` (pure modules, no database), `integration/` (Django and a real
database), `e2e/` (a served site driven by headless chromium).

Markers: `postgres` tests need a real PostgreSQL and run in `make test`'s PostgreSQL pass
(DATABASE_URL set from ALLO_TEST_DATABASE_URL); `any_db` tests run in both passes.
"""

from __future__ import annotations

import os

import pytest

# In-process requests through the ASGI application run in the test's own thread, inside its
# transaction (allo.web.wsgi_bridge); tests/integration/test_server.py runs the real pool.
os.environ.setdefault("ALLO_WEB_THREADS", "0")
# `allo init --demo` imports the shipped DILA archives (about a minute): tests load the demo without
# them, and import a sample of real fiches where they need some (tests/integration/conftest.py).
os.environ.setdefault("ALLO_DEMO_ARCHIVES", "")
# nor its five simulated weeks of call history (about 20 s); tests/integration/history loads a week
os.environ.setdefault("ALLO_DEMO_HISTORY_DAYS", "0")

TEST_DATA_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "var", "test"))
os.makedirs(os.path.join(TEST_DATA_DIR, "static"), exist_ok=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "any_db: run on SQLite and again in the PostgreSQL pass")
    from django.conf import settings

    # WhiteNoise warns when the configured static root is missing (servers built outside a test's
    # settings override, e.g. the live server's handler)
    os.makedirs(settings.STATIC_ROOT, exist_ok=True)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On SQLite, the test database is a file (one per test process), not Django's shared in-memory
    one: there, a thread writing (the router's) makes another's read or write fail at once ("database
    table is locked"), a lock no timeout waits for; in a file, WAL and the settings' busy timeout make
    it wait its turn, as in production. Django never closes an in-memory database; the file one is
    kept open the same way inside a test's own transaction, where a request served in the test's
    thread (the ASGI application called directly, a Channels consumer) would otherwise close it."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        yield
        return
    database.setdefault("TEST", {})["NAME"] = os.path.join(TEST_DATA_DIR, f"test-db-{os.getpid()}.sqlite3")
    from django.db.backends.sqlite3.base import DatabaseWrapper

    close = DatabaseWrapper.close

    def close_unless_in_a_test_transaction(self):
        if not self.in_atomic_block:
            close(self)

    DatabaseWrapper.close = close_unless_in_a_test_transaction
    yield
    for suffix in ("-wal", "-shm"):  # Django removes the database file; SQLite may leave these beside it
        path = database["TEST"]["NAME"] + suffix
        if os.path.exists(path):
            os.remove(path)


def _on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    if os.environ.get("ALLO_TEST_DATABASE_URL"):
        reason = "PostgreSQL test: runs in make test's PostgreSQL pass"
    else:
        reason = "PostgreSQL test: ALLO_TEST_DATABASE_URL is not set (CI sets it; see README)"
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings):
    """Tests serve static files from the apps' folders; production uses the hashed manifest."""
    settings.STATIC_ROOT = os.path.join(TEST_DATA_DIR, "static")
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }
