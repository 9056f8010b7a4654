"""schemathesis against the live schema: every operation, bounded examples with a fixed
seed, a real key with every scope over seeded connections (the emulator behind the
token calls). No answer may be a 5xx, and every answer must match the schema (status,
content type, body)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from jwcrypto import jwk
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from microsoft_emulator.scenarios import ready_directory
from portal.wsgi import application
from tests.api.conftest import seed_connection
from tests.onboarding.check_helpers import configure

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """schemathesis calls the WSGI app itself, not through Django's test client, which is
    what normally keeps the request signals from closing the test's connection: closed
    (handed back to PostgreSQL's pool) inside the test's transaction, the next query
    could not open another one."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db, emulated_microsoft, acme, globex, make_key, settings):
    """A working connection (emulator), a failing one, and a key with every scope."""
    settings.PORTAL_API_CREDENTIAL_EXPORT = True
    settings.PORTAL_API_RATE_PER_KEY = "100000/min"
    working = configure(acme, ready_directory(emulated_microsoft))
    failing = seed_connection(
        globex, "ops@globex.example", health="failing", diagnosis="wrong_secret"
    )
    public = json.loads(jwk.JWK.generate(kty="RSA", size=2048).export_public())
    key = make_key(
        "connections:read",
        "tokens:issue",
        "credentials:export",
        "webhooks:manage",
        public_jwk=public,
    )
    return key, [str(working.pk), str(failing.pk)]


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_matches_the_schema(case, seeded):
    key, ids = seeded
    if "id" in (case.path_parameters or {}):
        # Most examples name a real connection (else every one would be a 404).
        generated = str(case.path_parameters["id"])
        if generated[-1] in "0123456789ab":
            case.path_parameters["id"] = ids[int(generated[-1], 16) % len(ids)]
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
