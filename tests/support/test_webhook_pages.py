"""Support's webhook pages: every endpoint, one endpoint's deliveries, replay, enable
and disable; never a signing secret."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from api import keys
from onboarding.models import AuditEvent
from webhooks import addresses, endpoints, outbox, tasks
from webhooks.models import Delivery, Endpoint


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    """The deliveries handed to the worker, instead of sending them."""
    sent: list[str] = []
    monkeypatch.setattr(tasks.deliver, "delay", sent.append)
    return sent


@pytest.fixture
def endpoint_and_secret(acme, monkeypatch) -> tuple[Endpoint, str]:
    # The operations app's host is made up: answer its name with a public address.
    monkeypatch.setattr(addresses, "_resolve", lambda host, port: ("192.0.2.80",))
    account = keys.create_account(name="Ops app", scopes=["webhooks:manage"]).key.account
    endpoint, secret = endpoints.create(
        account.pk, url="https://hooks.ops.example/portal", events=["connection.failing"]
    )
    return endpoint, secret


def _failed_delivery(endpoint: Endpoint, tenant) -> Delivery:
    with transaction.atomic():
        event = outbox.record(
            "connection.failing",
            tenant_id=tenant.pk,
            connection_id=uuid.uuid4(),
            data={"diagnosis": {"code": "secret_invalid"}},
        )
    Delivery.objects.filter(event=event).update(
        state=Delivery.State.FAILED,
        attempts=9,
        last_status_code=500,
        last_error="The endpoint answered 500.",
        last_attempt_at=timezone.now(),
        next_attempt_at=None,
    )
    return Delivery.objects.get(event=event, endpoint=endpoint)


def test_the_list_and_the_endpoint_page_show_deliveries_and_no_secret(
    staff_client, acme, endpoint_and_secret, queued
):
    endpoint, secret = endpoint_and_secret
    delivery = _failed_delivery(endpoint, acme)
    listing = staff_client.get("/support/webhooks/").content.decode()
    assert "https://hooks.ops.example/portal" in listing
    assert "Ops app" in listing
    assert "connection.failing" in listing
    assert "Enabled" in listing
    page = staff_client.get(f"/support/webhooks/{endpoint.pk}/").content.decode()
    assert delivery.event_id in page
    assert "The endpoint answered 500." in page
    assert "Given up" in page
    for shown in (listing, page):
        assert secret not in shown
        assert "whsec_" not in shown


def test_replay_sends_the_delivery_again_with_its_webhook_id(
    staff_client, acme, endpoint_and_secret, queued, django_capture_on_commit_callbacks
):
    endpoint, _ = endpoint_and_secret
    delivery = _failed_delivery(endpoint, acme)
    queued.clear()
    url = f"/support/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/replay/"
    assert staff_client.get(url).status_code == 405  # a change, so POST only
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, follow=True)
    assert f"The delivery {delivery.event_id} is queued to be sent again" in (
        response.content.decode()
    )
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING
    assert delivery.attempts == 0
    assert queued == [str(delivery.pk)]
    event = AuditEvent.objects.get(action="webhooks.delivery_replayed")
    assert event.details["webhook_id"] == delivery.event_id
    assert event.actor_label == "charlie@vendor.example"


def test_disable_asks_first_then_replay_is_refused_until_enabled(
    staff_client, acme, endpoint_and_secret, queued
):
    endpoint, _ = endpoint_and_secret
    delivery = _failed_delivery(endpoint, acme)
    url = f"/support/webhooks/{endpoint.pk}/disable/"
    assert "Disable this endpoint?" in staff_client.get(url).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.enabled  # asking changed nothing
    staff_client.post(url, {"reason": "Their server is being moved."})
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "Their server is being moved."
    assert "Their server is being moved." in staff_client.get("/support/webhooks/").content.decode()

    replay = f"/support/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/replay/"
    response = staff_client.post(replay, follow=True)
    assert "Not replayed. The endpoint is disabled: enable it first." in response.content.decode()
    assert not AuditEvent.objects.filter(action="webhooks.delivery_replayed").exists()

    response = staff_client.post(f"/support/webhooks/{endpoint.pk}/enable/", follow=True)
    assert "The endpoint is enabled." in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert endpoint.disabled_reason == ""
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"webhooks.endpoint_disabled", "webhooks.endpoint_enabled"} <= actions


def test_an_empty_reason_gets_the_default_and_a_long_one_is_refused(
    staff_client, endpoint_and_secret
):
    endpoint, _ = endpoint_and_secret
    url = f"/support/webhooks/{endpoint.pk}/disable/"
    response = staff_client.post(url, {"reason": "x" * 301})
    assert response.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.enabled
    staff_client.post(url, {"reason": "  "})
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == "Disabled by support."


def test_a_delivery_of_another_endpoint_is_a_404(staff_client, acme, endpoint_and_secret, queued):
    endpoint, _ = endpoint_and_secret
    other, _ = endpoints.create(
        endpoint.owner_id, url="https://other.ops.example/hook", events=["connection.failing"]
    )
    delivery = _failed_delivery(endpoint, acme)
    other_delivery = Delivery.objects.get(endpoint=other, event=delivery.event)
    url = f"/support/webhooks/{endpoint.pk}/deliveries/{other_delivery.pk}/replay/"
    assert staff_client.post(url).status_code == 404
    assert staff_client.get(f"/support/webhooks/{uuid.uuid4()}/").status_code == 404


def test_no_endpoint_yet(staff_client):
    assert "No webhook endpoint yet." in staff_client.get("/support/webhooks/").content.decode()
