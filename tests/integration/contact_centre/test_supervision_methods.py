"""GET /api/supervision/live is read-only (issue 14, finding 9): other methods get 405."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_the_live_figures_refuse_writes_with_405(client, demo, method):
    from allo.contact_centre.tokens import create_token

    headers = {"Authorization": f"Bearer {create_token('supervisor')}"}
    response = client.generic(method, "/api/supervision/live", b"{}", content_type="application/json",
                              headers=headers)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "erreur" in response.json()
    assert client.get("/api/supervision/live", headers=headers).status_code == 200
