"""GET /api/v1/connections/ and /{id}/: the rows, filters, pages, ETags; never a secret."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from api.models import ApiCall
from onboarding.models import AppRegistration, Mailbox, Tenant
from tests.api.conftest import seed_connection

pytestmark = pytest.mark.django_db

LIST = "/api/v1/connections/"


def test_a_row_says_everything_the_operations_app_needs_and_no_secret(make_key, api, acme, canary):
    secret, password = canary(), canary("password")
    acme.customer_reference = "CRM-0042"
    acme.save()
    box = seed_connection(acme, "orders@acme.example", secret_value=secret)
    box.upn = "orders@acme.onmicrosoft.com"
    box.set_password(password)
    box.health, box.diagnosis_code = Tenant.Health.DEGRADED, "password_wrong"
    box.last_checked_at = box.last_success_at = timezone.now()
    box.save()
    AppRegistration.objects.filter(tenant=acme).update(consent_granted_at=timezone.now())
    response = api(make_key("connections:read")).get(f"{LIST}{box.pk}/")
    assert response.status_code == 200
    row = response.json()
    assert row["tenant"] == {
        "id": str(acme.pk),
        "name": acme.name,
        "customer_reference": "CRM-0042",
    }
    assert row["mailbox"] == {
        "address": "orders@acme.example",
        "upn": "orders@acme.onmicrosoft.com",
    }
    assert row["health"] == "degraded"
    assert row["diagnosis"]["code"] == "password_wrong"
    assert row["diagnosis"]["title"]
    assert row["credential"]["type"] == "client_secret"
    assert row["credential"]["secret_id"] == "99999999-8888-7777-6666-555555555555"
    assert row["consent"] == {"state": "claimed"}
    assert row["last_success_at"].endswith("Z")
    # The canary fixture fails the test if either secret reached this response.


def test_a_connection_without_app_or_secret_still_lists(make_key, api, acme):
    box = Mailbox.objects.create(tenant=acme, address="new@acme.example")
    row = api(make_key("connections:read")).get(f"{LIST}{box.pk}/").json()
    assert row["credential"] is None
    assert row["consent"] == {"state": "none"}
    assert row["diagnosis"] is None
    assert row["health"] == "unknown"


def test_it_filters_by_tenant_health_and_change(make_key, api, acme, globex):
    with time_machine.travel("2026-01-01T00:00Z"):
        acme.save()  # the tenant's last change too
        old = seed_connection(acme, "old@acme.example")
    new = seed_connection(globex, "new@globex.example", health=Tenant.Health.FAILING)
    client = api(make_key("connections:read"))

    def ids(query):
        response = client.get(LIST, query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids({"tenant": str(acme.pk)}) == {str(old.pk)}
    assert ids({"health": "failing"}) == {str(new.pk)}
    assert ids({"changed_since": "2026-06-01T00:00:00Z"}) == {str(new.pk)}
    assert ids({"changed_since": "2025-12-31T23:00:00+00:00"}) == {str(old.pk), str(new.pk)}
    # A check moves a connection's change time.
    Mailbox.objects.filter(pk=old.pk).update(last_checked_at=timezone.now())
    assert ids({"changed_since": (timezone.now() - timedelta(minutes=1)).isoformat()}) == {
        str(old.pk),
        str(new.pk),
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"tenant": "acme"}, "tenant"),
        ({"health": "sick"}, "health"),
        ({"changed_since": "yesterday"}, "changed_since"),
        ({"changed_since": "2026-01-01T00:00:00"}, "changed_since"),  # no time zone
        ({"changed_since": "2026-13-45T00:00:00Z"}, "changed_since"),
        ({"changed_since": "x" * 5000}, "changed_since"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "100000"}, "page_size"),
        ({"cursor": "bz14"}, "cursor"),  # base64 of "o=x"
    ],
)
def test_bad_parameters_are_a_400_problem_naming_them(query, field, make_key, api, acme_box):
    response = api(make_key("connections:read")).get(LIST, query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:mailbox-portal:problem:invalid-request"
    assert field in problem["errors"]
    assert not ApiCall.objects.exists()  # a refused call writes nothing


def test_pages_follow_a_cursor(make_key, api, acme):
    boxes = [seed_connection(acme, f"box{i}@acme.example") for i in range(5)]
    client = api(make_key("connections:read"))
    seen, url = [], f"{LIST}?page_size=2"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == [str(box.pk) for box in boxes]


def test_an_unchanged_resource_answers_304_to_its_etag(make_key, api, acme_box):
    client = api(make_key("connections:read"))
    for path in (LIST, f"{LIST}{acme_box.pk}/"):
        first = client.get(path)
        etag = first["ETag"]
        assert etag
        again = client.get(path, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304
        assert again.content == b""
    Mailbox.objects.filter(pk=acme_box.pk).update(health=Tenant.Health.FAILING)
    changed = client.get(f"{LIST}{acme_box.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["health"] == "failing"


def test_the_list_takes_a_fixed_number_of_queries(
    make_key, api, acme, django_assert_max_num_queries
):
    for i in range(20):
        seed_connection(acme, f"box{i}@acme.example")
    client = api(make_key("connections:read"))
    # key + account, the tenant list, the page, the call record, last-used: not per row.
    with django_assert_max_num_queries(8):
        assert len(client.get(LIST).json()["results"]) == 20
