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


def test_the_live_figures_are_built_through_their_schema(demo, monkeypatch):
    """live_stats validates what it returns against MurEnDirect, the body the API declares: a queue row
    missing a field is refused where it is built, not sent to the wallboards."""
    from pydantic import ValidationError

    from allo.contact_centre import services
    from allo.contact_centre.supervision import services as supervision

    live = services.live_stats()
    assert {"queues", "agents", "today", "alerts", "generated_at"} == set(live)
    assert all({"staffed", "ready", "status"} <= set(q) for q in live["queues"])

    def without_staffing(queues):
        for q in queues:
            q.update(alerts=[], status=None)  # no staffed / ready
        return []

    monkeypatch.setattr(supervision, "with_thresholds", without_staffing)
    with pytest.raises(ValidationError, match="staffed"):
        services.live_stats()
