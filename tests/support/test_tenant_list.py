from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onboarding.models import Tenant
from tests.support.conftest import make_tenant


def names(response):
    return [tenant.name for tenant in response.context["tenants"]]


@pytest.fixture
def fleet(db):
    recent = timezone.now() - timedelta(hours=3)
    make_tenant("Alpha Air", expires_in=5, mailbox="ops@alpha.example", last_success_at=recent)
    make_tenant("Bravo Bus", expires_in=20, mailbox="ops@bravo.example", last_success_at=recent)
    make_tenant(
        "Charlie Cargo",
        expires_in=60,
        health=Tenant.Health.FAILING,
        mailbox="ops@charlie.example",
        mailbox_health=Tenant.Health.FAILING,
        diagnosis_code="app_not_found",
        last_success_at=recent,
    )
    make_tenant("Delta Drones", expires_in=-3, health=Tenant.Health.EXPIRED)
    make_tenant("Echo Express", step=2, created_days_ago=40, directory="echo-ex.onmicrosoft.com")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Alpha Air", "Bravo Bus", "Charlie Cargo", "Delta Drones", "Echo Express"]),
        ("expiring=7", ["Alpha Air"]),
        ("expiring=30", ["Alpha Air", "Bravo Bus"]),
        ("expiring=90", ["Alpha Air", "Bravo Bus", "Charlie Cargo"]),
        ("expired=1", ["Delta Drones"]),
        ("failing=1", ["Charlie Cargo"]),
        ("stuck=30", ["Echo Express"]),
        ("stuck=50", []),
        ("never_verified=1", ["Delta Drones", "Echo Express"]),
        ("expiring=30&failing=1", []),
    ],
)
def test_it_filters(staff_client, fleet, query, expected):
    assert names(staff_client.get(f"/support/?{query}")) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("bravo", ["Bravo Bus"]),
        ("echo-ex.onmicrosoft", ["Echo Express"]),
        ("ops@charlie", ["Charlie Cargo"]),
        ("nothing-like-this", []),
    ],
)
def test_it_searches_by_name_domain_and_mailbox(staff_client, fleet, q, expected):
    assert names(staff_client.get("/support/", {"q": q})) == expected


def test_it_searches_by_client_and_directory_id(staff_client, fleet):
    app = Tenant.objects.get(name="Bravo Bus").app_registration
    for value in [str(app.client_id), str(app.directory_id), str(app.client_id)[:8]]:
        assert names(staff_client.get("/support/", {"q": value})) == ["Bravo Bus"]


def test_it_sorts_by_expiry_with_tenants_without_a_secret_last(staff_client, fleet):
    response = staff_client.get("/support/?sort=expiry")
    assert names(response) == [
        "Delta Drones",
        "Alpha Air",
        "Bravo Bus",
        "Charlie Cargo",
        "Echo Express",
    ]


def test_it_shows_the_row_facts(staff_client, fleet):
    body = staff_client.get("/support/").content.decode()
    assert "5 days" in body
    assert "text-bg-danger" in body  # 5 days left is red
    assert "Application not found in your directory" in body  # Charlie Cargo's diagnosis
    assert "2 of 7" in body


@pytest.mark.parametrize(
    "query",
    [
        "page=999",
        "page=-1",
        "page=abc",
        "sort=password",
        "sort=-id;drop",
        "expiring=14",
        "expiring=abc",
        "stuck=-5",
        "stuck=99999999999999999999",
        "failing=yes",
        "q=%00",
        "q=a%00b",
        "q=" + "x" * 5000,
    ],
)
def test_it_survives_bad_input(staff_client, fleet, query):
    assert staff_client.get(f"/support/?{query}").status_code == 200


def test_it_paginates(staff_client, db):
    for number in range(55):
        make_tenant(f"Tenant {number:02d}")
    first = staff_client.get("/support/")
    assert len(first.context["tenants"]) == 50
    second = staff_client.get("/support/?page=2")
    assert names(second) == [f"Tenant {n:02d}" for n in range(50, 55)]


def _queries_for_list(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/support/?sort=-expiry&q=a").status_code == 200
    return len(queries)


def test_it_costs_the_same_queries_for_10_and_60_tenants(staff_client, db):
    def add(count, offset):
        for number in range(offset, offset + count):
            make_tenant(
                f"Tenant {number:03d} a",
                expires_in=number % 100,
                mailbox=f"ops{number}@a.example",
                diagnosis_code="app_not_found",
            )

    add(10, 0)
    few = _queries_for_list(staff_client)
    add(50, 10)
    many = _queries_for_list(staff_client)
    assert few == many
    assert len(staff_client.get("/support/?q=a").context["tenants"]) == 50
