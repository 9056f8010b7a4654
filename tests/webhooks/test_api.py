"""/api/v1/webhooks/endpoints/: a key with `webhooks:manage` manages its own account's
endpoints; another account's look unknown; bad URLs and events are 400 problems."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from api import keys
from api.models import ApiCall
from tests.canary import assert_absent_from_database
from tests.webhooks.conftest import PUBLIC
from webhooks.models import Endpoint

BASE = "/api/v1/webhooks/endpoints/"
HOOK = "https://hooks.example.com/portal"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _public_hooks(dns):
    dns.answers["hooks.example.com"] = [PUBLIC]
    dns.answers["intranet.example.com"] = ["10.20.30.40"]


def client_for(*scopes: str, name: str = "Operations app") -> APIClient:
    issued = keys.create_account(name=name, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.value}")
    return client


@pytest.fixture
def ops(db) -> APIClient:
    return client_for("webhooks:manage", "connections:read")


@pytest.fixture
def rival(db) -> APIClient:
    return client_for("webhooks:manage", name="Another deployment")


def create(client: APIClient, **body):
    body = {"url": HOOK, "events": ["connection.failing", "connection.recovered"], **body}
    return client.post(BASE, body, format="json")


def test_it_registers_an_endpoint_and_shows_its_secret_only_once(ops):
    answer = create(ops)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["url"] == HOOK
    assert body["events"] == ["connection.failing", "connection.recovered"]
    assert body["enabled"] is True
    assert body["disabled_at"] is None
    assert body["secret"].startswith("whsec_")
    assert len(body["secret"]) > 40
    assert "no-store" in answer["Cache-Control"]
    listed = ops.get(BASE).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    read = ops.get(f"{BASE}{body['id']}/")
    assert read.status_code == 200
    assert body["secret"] not in read.content.decode() + json.dumps(listed)
    assert "secret" not in read.json()
    assert_absent_from_database(body["secret"])
    actions = list(ApiCall.objects.order_by("at", "pk").values_list("action", "status"))
    assert actions == [
        ("webhooks.endpoints.create", 201),
        ("webhooks.endpoints.list", 200),
        ("webhooks.endpoints.read", 200),
    ]


def test_it_rotates_the_secret(ops):
    first = create(ops).json()
    answer = ops.post(f"{BASE}{first['id']}/rotate-secret")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    body = answer.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != first["secret"]
    assert body["previous_secret_expires_at"] is not None


def test_it_deletes_an_endpoint(ops):
    first = create(ops).json()
    assert ops.delete(f"{BASE}{first['id']}/").status_code == 204
    assert not Endpoint.objects.exists()
    assert ops.get(f"{BASE}{first['id']}/").status_code == 404


def test_another_account_s_endpoint_is_answered_as_unknown(ops, rival):
    theirs = create(rival).json()["id"]
    for answer in (
        ops.get(f"{BASE}{theirs}/"),
        ops.delete(f"{BASE}{theirs}/"),
        ops.post(f"{BASE}{theirs}/rotate-secret"),
        ops.get(f"{BASE}00000000-0000-0000-0000-000000000000/"),
    ):
        assert answer.status_code == 404
        assert answer["Content-Type"] == PROBLEM
        assert answer.json()["detail"] == "There is no such webhook endpoint."
    assert ops.get(BASE).json() == {"results": []}
    assert Endpoint.objects.get().pk.hex == theirs.replace("-", "")


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"url": "https://intranet.example.com/x"}, "url", "private, loopback"),
        ({"url": "https://10.0.0.1/x"}, "url", "private, loopback"),
        ({"url": "http://127.0.0.1:8000/x"}, "url", "private, loopback"),
        ({"url": "https://portal.example.com/api/v1/"}, "url", "portal itself"),
        ({"url": "https://nowhere.example.com/x"}, "url", "does not resolve"),
        ({"url": "ftp://hooks.example.com/x"}, "url", "https://"),
        ({"url": 12}, "url", "https://"),
        ({"url": "x" * 2001}, "url", "no more than 2000"),
        ({"events": []}, "events", "at least 1"),
        ({"events": ["connection.exploded"]}, "events", "not a valid choice"),
        ({"events": "connection.failing"}, "events", "list"),
    ],
)
def test_it_refuses_bad_urls_and_events_with_a_problem_and_writes_nothing(
    ops, settings, body, field, says
):
    settings.WEBHOOK_ALLOWED_ADDRESSES = frozenset()
    answer = create(ops, **body)
    assert answer.status_code == 400
    assert answer["Content-Type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == 400
    assert problem["type"].startswith("urn:mailbox-portal:problem:")
    assert says in " ".join(problem["errors"][field])
    assert not Endpoint.objects.exists()
    assert not ApiCall.objects.exists()


def test_it_refuses_a_body_that_is_not_a_json_object(ops):
    assert ops.post(BASE, "[1, 2]", content_type="application/json").status_code == 400
    assert ops.post(BASE, "{not json", content_type="application/json").status_code == 400
    assert ops.post(BASE, "url=x", content_type="text/plain").status_code == 415
    huge = json.dumps({"url": HOOK, "events": ["connection.failing"], "pad": "x" * 20000})
    assert ops.post(BASE, huge, content_type="application/json").status_code == 413
    assert not Endpoint.objects.exists()


def test_it_limits_the_endpoints_of_an_account(ops, settings):
    settings.WEBHOOK_MAX_ENDPOINTS_PER_ACCOUNT = 2
    assert create(ops).status_code == 201
    assert create(ops).status_code == 201
    answer = create(ops)
    assert answer.status_code == 400
    assert "at most 2 webhook endpoints" in answer.json()["errors"]["url"][0]


def test_it_needs_a_key_with_the_webhooks_scope(db):
    anonymous = APIClient()
    assert anonymous.get(BASE).status_code == 401
    reader = client_for("connections:read", "tokens:issue")
    answer = create(reader)
    assert answer.status_code == 403
    assert "webhooks:manage" in answer.json()["detail"]
    assert reader.get(BASE).status_code == 403
    assert not Endpoint.objects.exists()


def test_the_schema_documents_the_webhook_endpoints(ops):
    schema = ops.get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/webhooks/endpoints/"])
    assert {"get", "delete"} <= set(paths["/api/v1/webhooks/endpoints/{id}/"])
    assert "post" in paths["/api/v1/webhooks/endpoints/{id}/rotate-secret"]
