from __future__ import annotations

import pytest

from allo.bootstrap import bootstrap


@pytest.fixture
def router(demo, monkeypatch):
    """A router driven by the test (step() instead of a thread), centres always open."""
    monkeypatch.setenv("ALLO_CC_HOURS", "always")
    services = bootstrap(router=True)  # as `allo router` builds it, but driven by the test
    services.router.load()
    yield services.router
    services.close()


def drain(router) -> int:
    n = 0
    while True:
        k = router.step()
        if not k:
            return n
        n += k


@pytest.fixture
def telephony_token(db):
    from allo.contact_centre.tokens import create_token

    return create_token("telephony", "test")


@pytest.fixture
def api(client, telephony_token):
    """POST/GET as the telephony connector."""

    class Api:
        def post(self, path, data=None, token=telephony_token, raw=None):
            import json

            body = raw if raw is not None else json.dumps(data or {})
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return client.generic("POST", path, body, content_type="application/json", headers=headers)

        def get(self, path, token=telephony_token):
            return client.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})

    return Api()
