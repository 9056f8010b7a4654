"""The six events' payloads, and which health changes are worth an event."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.db import transaction

from tests.webhooks.conftest import CONNECTION, OTHER_CONNECTION
from webhooks import events

TENANT = uuid.uuid4()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("unknown", "healthy", "connection.verified"),
        ("healthy", "failing", "connection.failing"),
        ("degraded", "expired", "connection.failing"),
        ("unknown", "failing", "connection.failing"),
        ("failing", "healthy", "connection.recovered"),
        ("expired", "healthy", "connection.recovered"),
        ("failing", "expired", None),  # still unusable: nothing new for the app
        ("healthy", "degraded", None),
        ("degraded", "healthy", None),
        ("healthy", "healthy", None),
    ],
)
def test_it_maps_health_changes_to_events(db, old, new, expected):
    with transaction.atomic():
        event = events.health_changed(
            tenant_id=TENANT,
            connection_id=CONNECTION,
            old=old,
            new=new,
            diagnosis_code="wrong_secret",
        )
    if expected is None:
        assert event is None
    else:
        assert event is not None
        assert event.type == expected
        assert event.payload["data"] == {
            "health": new,
            "previous_health": old,
            "diagnosis_code": "wrong_secret",
            "tenant_id": str(TENANT),
            "connection_id": str(CONNECTION),
            "sequence": 1,
        }


def test_credential_events_go_to_every_connection_of_the_credential(db):
    with transaction.atomic():
        expiring = events.credential_expiring(
            tenant_id=TENANT,
            connection_ids=[CONNECTION, OTHER_CONNECTION],
            secret_id="99999999-8888-7777-6666-555555555555",
            expires_on=date(2026, 4, 1),
            days_left=7,
        )
        renewed = events.credential_renewed(
            tenant_id=TENANT,
            connection_ids=[CONNECTION],
            secret_id="11111111-8888-7777-6666-555555555555",
            expires_on=date(2028, 4, 1),
            retired_secret_ids=["99999999-8888-7777-6666-555555555555"],
        )
    assert [e.connection_id for e in expiring] == [CONNECTION, OTHER_CONNECTION]
    assert expiring[0].payload["data"]["expires_on"] == "2026-04-01"
    assert expiring[0].payload["data"]["days_left"] == 7
    [event] = renewed
    assert event.type == "credential.renewed"
    assert event.sequence == 2  # after the expiry reminder of the same connection
    assert event.payload["data"]["retired_secret_ids"] == ["99999999-8888-7777-6666-555555555555"]


def test_connection_removed(db):
    with transaction.atomic():
        event = events.connection_removed(
            tenant_id=TENANT, connection_id=CONNECTION, address="orders@acme.example"
        )
    assert event.type == "connection.removed"
    assert event.payload["data"]["address"] == "orders@acme.example"
