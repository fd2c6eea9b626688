from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.fixture
def demo(db):
    """The demo organisation and accounts, loaded as `allo init --demo` does."""
    call_command("init", "--demo", verbosity=0)


@pytest.fixture
def login_as(client, demo):
    from allo.accounts.models import User

    def _login(username: str):
        client.force_login(User.objects.get(username=username))
        return client

    return _login
