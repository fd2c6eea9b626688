"""Schemathesis over /api/openapi.json (issue 14): every operation of the contact centre's HTTP API,
fed with data the schema allows (positive) and data it refuses (negative), called in process through
the project's WSGI application (Django's handler, in the test's thread and transaction), with the
connector's and the supervisors' real tokens. No answer may be a server error, and every answer must
match the schema: a status it declares, its content type, its body's schema.

Bounded and deterministic: a fixed number of examples per operation and mode, derandomized (the
same cases on every run, so never flaky), no deadline (a busy 2-core machine is slow, not wrong), no
example database. About 20 s on a busy 2-core machine (load 13), on SQLite and again in the
PostgreSQL pass (any_db: PostgreSQL refuses some text SQLite stores, NUL above all). Each case it
found once is kept below as a plain regression test.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.django_db, pytest.mark.any_db]  # NUL and other text PostgreSQL refuses: both databases

EXAMPLES = 25  # per operation and scenario: about 450 requests in all
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# the WebSocket stream is described for the connector's authors; no HTTP request reaches it
NOT_HTTP = {"/api/telephony/commands"}


@pytest.fixture
def tokens(db):
    from allo.contact_centre.tokens import create_token

    return {"telephony": create_token("telephony", "schemathesis"),
            "supervisor": create_token("supervisor", "schemathesis")}


@pytest.fixture
def schema(router):
    """The schema as the application serves it, requests going through Django's WSGI handler. As in
    Django's test client, a request does not close the database connection when it ends: it is the
    test's, inside its transaction (with PostgreSQL's pool, closing it would fail there)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from allo.project.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _operations(schema):
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in NOT_HTTP:
            yield operation


def test_the_openapi_schema_describes_operations_we_can_call(schema):
    labels = {op.label for op in _operations(schema)}
    assert {"POST /api/telephony/calls", "GET /api/telephony/calls/{call_id}",
            "POST /api/telephony/calls/{call_id}/hangup", "POST /api/telephony/calls/{call_id}/alive",
            "POST /api/telephony/calls/{call_id}/callback-answer", "GET /api/supervision/live"} <= labels


@pytest.mark.parametrize("mode, credentials", [
    (GenerationMode.POSITIVE, "token"),
    (GenerationMode.POSITIVE, "none"),  # a client without a token: the refusals must be documented too
    (GenerationMode.POSITIVE, "live call"),  # {call_id} a real call: its answers, not just 404s
    (GenerationMode.NEGATIVE, "live call"),  # invalid bodies and values, on a real call's paths
])
def test_no_server_error_and_no_schema_violation(schema, tokens, router, mode, credentials):
    from allo.contact_centre import services

    call_id, _ = services.create_call("+33611223344", "3939", "1")
    while router.step():
        pass
    failures = []
    for operation in _operations(schema):
        token = tokens["supervisor" if operation.path.startswith("/api/supervision/") else "telephony"]
        headers = {"Authorization": f"Bearer {token}"} if credentials != "none" else {}
        fixed = {"call_id": call_id} if credentials == "live call" and "{call_id}" in operation.path else None
        strategy = operation.as_strategy(generation_mode=mode, headers=headers, path_parameters=fixed)

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Unsatisfiable:  # nothing in this operation's schema can be made invalid (a free string)
            assert mode == GenerationMode.NEGATIVE
        except BaseException as exc:  # every operation's failures (a FailureGroup), reported together
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            failures.append(f"{operation.label} ({mode}):\n{exc}")
        while router.step():  # the router applies what the calls journaled (no backlog between ops)
            pass
    assert not failures, "\n\n".join(failures)


# ---------------------------------------------------------------- cases schemathesis found once


def _documented(path: str, method: str) -> set[str]:
    from allo.contact_centre.telephony.openapi import SCHEMA

    return set(SCHEMA["paths"][path][method]["responses"])


@pytest.mark.parametrize("method, path, template", [
    ("post", "/api/telephony/calls", "/api/telephony/calls"),
    ("get", "/api/telephony/calls/x", "/api/telephony/calls/{call_id}"),
    ("post", "/api/telephony/calls/x/hangup", "/api/telephony/calls/{call_id}/hangup"),
    ("post", "/api/telephony/calls/x/alive", "/api/telephony/calls/{call_id}/alive"),
    ("post", "/api/telephony/calls/x/callback-answer", "/api/telephony/calls/{call_id}/callback-answer"),
    ("get", "/api/supervision/live", "/api/supervision/live"),
])
def test_a_request_without_credentials_gets_a_documented_json_401(client, method, path, template):
    """Found by schemathesis: only POST /calls and the live wall documented their 401."""
    r = getattr(client, method)(path)
    assert r.status_code == 401
    assert "Authentification requise" in r.json()["erreur"]
    assert {"401", "403"} <= _documented(template, method)


def test_a_second_callback_answer_is_a_documented_200(router, api):
    """Found by schemathesis: the same answer again is 200 {"accepted": false}, which the schema did
    not list (and no answer of hangup, alive or callback-answer had its body described)."""
    call_id = api.post("/api/telephony/calls", {"caller": "+33611223344", "dialed": "3939"}).json()["call_id"]
    first = api.post(f"/api/telephony/calls/{call_id}/callback-answer", {"accepted": True})
    again = api.post(f"/api/telephony/calls/{call_id}/callback-answer", {"accepted": True})
    assert (first.status_code, first.json()) == (202, {"call_id": call_id, "accepted": True})
    assert (again.status_code, again.json()) == (200, {"call_id": call_id, "accepted": False})
    assert {"200", "202"} <= _documented("/api/telephony/calls/{call_id}/callback-answer", "post")
    from allo.contact_centre.telephony.openapi import SCHEMA

    for path in ("/api/telephony/calls/{call_id}/hangup", "/api/telephony/calls/{call_id}/alive",
                 "/api/telephony/calls/{call_id}/callback-answer"):
        for status in ("200", "202"):
            assert SCHEMA["paths"][path]["post"]["responses"][status]["content"]["application/json"]["schema"] == \
                {"$ref": "#/components/schemas/EvenementRecu"}
