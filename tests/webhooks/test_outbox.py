"""Recording events: in the caller's transaction, numbered per connection, and offered
only to the endpoints that subscribed and whose account may see the tenant."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from api.models import ServiceAccount
from tests.webhooks.conftest import CONNECTION, OTHER_CONNECTION
from webhooks import endpoints, outbox
from webhooks.models import Delivery, OutboxEvent


def record(event_type="connection.failing", *, tenant, connection=CONNECTION, **data):
    with transaction.atomic():
        return outbox.record(event_type, tenant_id=tenant, connection_id=connection, data=data)


def make_endpoint(name, url, events, *, scopes=("webhooks:manage",), tenants=(), **fields):
    account = ServiceAccount.objects.create(name=name, scopes=list(scopes), **fields)
    account.tenants.set(tenants)
    return endpoints.create(account.pk, url=url, events=events)[0]


def test_it_refuses_to_record_outside_a_transaction(transactional_db):
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        outbox.record(
            "connection.failing", tenant_id=uuid.uuid4(), connection_id=CONNECTION, data={}
        )
    assert not OutboxEvent.objects.exists()


def test_it_refuses_an_unknown_event_type(db):
    with pytest.raises(ValueError, match="Unknown webhook event type"):
        record("connection.exploded", tenant=uuid.uuid4())
    assert not OutboxEvent.objects.exists()


def test_a_rolled_back_change_takes_its_event_and_deliveries_with_it(
    acme, django_capture_on_commit_callbacks
):
    make_endpoint("Ops", "http://127.0.0.1:9/hook", ["connection.failing"])

    def change_that_fails() -> None:
        with transaction.atomic():
            outbox.record(
                "connection.failing", tenant_id=acme.pk, connection_id=CONNECTION, data={}
            )
            raise ZeroDivisionError  # the change that caused the event fails

    with django_capture_on_commit_callbacks() as queued, pytest.raises(ZeroDivisionError):
        change_that_fails()
    assert queued == []
    assert not OutboxEvent.objects.exists()
    assert not Delivery.objects.exists()


def test_it_numbers_events_per_connection(acme):
    numbers = [
        record(tenant=acme.pk, connection=CONNECTION).sequence,
        record(tenant=acme.pk, connection=OTHER_CONNECTION).sequence,
        record(tenant=acme.pk, connection=CONNECTION).sequence,
    ]
    assert numbers == [1, 1, 2]
    ids = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert len(ids) == 3
    assert all(len(i) == 30 and i.startswith("msg_") for i in ids)


def test_it_offers_an_event_only_to_the_endpoints_that_may_have_it(acme, globex):
    url = "http://127.0.0.1:9/hook"
    everything = make_endpoint("All tenants", url, ["connection.failing"])
    acme_only = make_endpoint("Acme only", url, ["connection.failing"], tenants=[acme])
    make_endpoint("Globex only", url, ["connection.failing"], tenants=[globex])
    make_endpoint("Other events", url, ["credential.renewed"])
    make_endpoint("No scope", url, ["connection.failing"], scopes=["connections:read"])
    make_endpoint("Revoked", url, ["connection.failing"], revoked_at=timezone.now())
    make_endpoint(
        "Expired", url, ["connection.failing"], expires_at=timezone.now() - timedelta(hours=1)
    )
    disabled = make_endpoint("Disabled", url, ["connection.failing"])
    disabled.enabled = False
    disabled.save()
    event = record(tenant=acme.pk)
    assert set(event.deliveries.values_list("endpoint", flat=True)) == {
        everything.pk,
        acme_only.pk,
    }


def test_it_queues_deliveries_only_on_commit(acme, django_capture_on_commit_callbacks):
    make_endpoint("Ops", "http://127.0.0.1:9/hook", ["connection.failing"])
    with django_capture_on_commit_callbacks() as queued:
        event = record(tenant=acme.pk)
    assert [callback.args for callback in queued] == [(str(event.deliveries.get().pk),)]
