from __future__ import annotations

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


@pytest.fixture(autouse=True)
def _search_index_checked_again():
    """Each test rolls its changes back, which sends no signal: the search index of this process is
    checked against the database again at each test's start, not up to a second later."""
    from allo.kb.search_service import index_may_be_stale

    index_may_be_stale()
