"""Who may call what: keys (401), scopes (403), tenants (404 as for an unknown id),
rate limits (429), and that a refused call writes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from api import keys
from api.models import ApiCall, ServiceKey
from onboarding.models import AuditEvent

pytestmark = pytest.mark.django_db

ALL_SCOPES = ("connections:read", "tokens:issue", "credentials:export", "webhooks:manage")


def endpoints(box):
    """(method, path, body, scope) of every connection endpoint."""
    return [
        ("get", "/api/v1/connections/", None, "connections:read"),
        ("get", f"/api/v1/connections/{box.pk}/", None, "connections:read"),
        ("post", f"/api/v1/connections/{box.pk}/token", {}, "tokens:issue"),
        (
            "post",
            f"/api/v1/connections/{box.pk}/credentials",
            {"reason": "x" * 5},
            "credentials:export",
        ),
    ]


def call(client, method, path, body):
    if method == "get":
        return client.get(path)
    return client.post(path, body, format="json")


def nothing_written(before_audit: int) -> None:
    assert not ApiCall.objects.exists()
    assert AuditEvent.objects.count() == before_audit
    assert not ServiceKey.objects.exclude(last_used_at=None).exists()


def test_every_bad_key_gets_the_same_401(make_key, api, acme_box):
    good = make_key("connections:read")
    key_id = ServiceKey.objects.get().key_id
    expired = make_key("connections:read", expires_at=timezone.now() + timedelta(minutes=1))
    revoked = make_key("connections:read", name="Revoked")
    keys.revoke_key(ServiceKey.objects.get(key_id=revoked.split("_")[2]))
    before = AuditEvent.objects.count()
    bad_headers = [
        None,
        "Bearer",
        "Bearer ",
        f"Basic {good}",
        "Bearer not-a-key",
        f"Bearer mbp_live_{key_id}_{'A' * 43}",
        f"Bearer mbp_live_{'q' * 12}_{good[-43:]}",
        f"Bearer {revoked}",
        f"Bearer {good}x",
    ]
    bodies = set()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        bad_headers.append(f"Bearer {expired}")
        for header in bad_headers:
            client = api()
            if header is not None:
                client.credentials(HTTP_AUTHORIZATION=header)
            for method, path, body, _ in endpoints(acme_box):
                response = call(client, method, path, body)
                assert response.status_code == 401, (header, path)
                assert response["Content-Type"] == "application/problem+json"
                assert response["WWW-Authenticate"] == 'Bearer realm="api"'
                bodies.add(response.content)
    assert len(bodies) == 1
    assert b"urn:mailbox-portal:problem:unauthenticated" in bodies.pop()
    nothing_written(before)


@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_each_endpoint_needs_its_own_scope(scope, make_key, api, acme_box, settings):
    settings.PORTAL_API_CREDENTIAL_EXPORT = True
    key = make_key(scope)
    before = AuditEvent.objects.count()
    for method, path, body, needed in endpoints(acme_box):
        if needed == scope:
            continue
        response = call(api(key), method, path, body)
        assert response.status_code == 403, path
        assert response.json()["type"] == "urn:mailbox-portal:problem:forbidden"
        assert needed in response.json()["detail"]
    nothing_written(before)


def test_a_connection_outside_the_keys_tenants_is_exactly_an_unknown_id(
    make_key, api, acme, acme_box, globex_box, settings
):
    settings.PORTAL_API_CREDENTIAL_EXPORT = True
    key = make_key(*ALL_SCOPES, tenants=[acme])
    before = AuditEvent.objects.count()
    for method, path, body, _ in endpoints(globex_box)[1:]:
        foreign = call(api(key), method, path, body)
        unknown = call(api(key), method, path.replace(str(globex_box.pk), str(uuid.uuid4())), body)
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.content == unknown.content
        assert foreign["Content-Type"] == "application/problem+json"
    nothing_written(before)
    listed = api(key).get("/api/v1/connections/").json()["results"]
    assert [row["id"] for row in listed] == [str(acme_box.pk)]
    # Filtering on a foreign tenant shows nothing, like a tenant that does not exist.
    foreign = api(key).get(f"/api/v1/connections/?tenant={globex_box.tenant_id}")
    unknown = api(key).get(f"/api/v1/connections/?tenant={uuid.uuid4()}")
    assert foreign.json()["results"] == unknown.json()["results"] == []


def test_a_key_without_tenants_sees_every_tenant(make_key, api, acme_box, globex_box):
    key = make_key("connections:read")
    listed = api(key).get("/api/v1/connections/").json()["results"]
    assert {row["id"] for row in listed} == {str(acme_box.pk), str(globex_box.pk)}
    assert api(key).get(f"/api/v1/connections/{globex_box.pk}/").status_code == 200


def test_a_key_past_its_rate_gets_429_with_retry_after(make_key, api, acme_box, settings):
    settings.PORTAL_API_RATE_PER_KEY = "3/min"
    key, other = make_key("connections:read"), make_key("connections:read", name="Other")
    for _ in range(3):
        assert api(key).get("/api/v1/connections/").status_code == 200
    calls = ApiCall.objects.count()
    refused = api(key).get("/api/v1/connections/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["retry_after"] == int(refused["Retry-After"])
    assert ApiCall.objects.count() == calls  # refused: not recorded
    # Per key: another key is not slowed down.
    assert api(other).get("/api/v1/connections/").status_code == 200


def test_answered_calls_are_recorded_without_the_key(make_key, api, acme_box):
    key = make_key("connections:read")
    api(key).get(f"/api/v1/connections/{acme_box.pk}/")
    api(key).get("/api/v1/connections/")
    detail, listing = ApiCall.objects.order_by("at", "pk")
    assert (detail.action, detail.status) == ("connections.read", 200)
    assert detail.tenant_id == str(acme_box.tenant_id)
    assert detail.mailbox_id == str(acme_box.pk)
    assert detail.key_id == ServiceKey.objects.get().key_id
    assert (listing.action, listing.tenant_id, listing.details) == (
        "connections.list",
        "",
        {"count": 1},
    )
    secret = key.rsplit("_", 1)[1]
    assert all(secret not in str(row.__dict__) for row in (detail, listing))
    assert ServiceKey.objects.get().last_used_at is not None


def test_the_key_never_reaches_a_log(make_key, api, acme_box, canary_watch):
    key = make_key("connections:read")
    api(key).get("/api/v1/connections/")
    api(key + "x").get("/api/v1/connections/")  # refused: logged by Django as 401
    api(key).get("/api/v1/nowhere/")
    secret = key.rsplit("_", 1)[1]
    assert not [where for where in canary_watch.leaks(secret) if where.startswith("log")]
