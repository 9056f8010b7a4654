"""What onboarding tells the operations app's webhook endpoints, end to end: the check
against the emulator changes a mailbox's health, the change writes its event in the same
transaction, and the endpoint (a real HTTP server here) receives it, signed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from accounts.actors import Actor
from api.models import ServiceAccount
from microsoft_emulator.scenarios import ready_directory
from onboarding.checks import health
from onboarding.models import CheckRun, ClientSecret
from onboarding.reminders import scan
from onboarding.wizard import services as wizard
from tests.onboarding.check_helpers import configure, run_check
from tests.webhooks.receiver import Receiver, start
from webhooks import endpoints
from webhooks.models import EVENT_TYPES, OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_receiver_allowed(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_ADDRESSES = frozenset({"127.0.0.1"})
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


@pytest.fixture
def receiver():
    running = start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def subscribed(db, receiver: Receiver) -> str:
    """An operations-app account subscribed to every event; returns the signing secret."""
    account = ServiceAccount.objects.create(
        name="Operations app", scopes=["connections:read", "webhooks:manage"]
    )
    _, secret = endpoints.create(account.pk, url=receiver.url, events=sorted(EVENT_TYPES))
    return secret


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


def received(receiver: Receiver, secret: str) -> list[dict]:
    """Each delivery, its signature verified as the operations app would."""
    verifier = Webhook(secret)
    return [verifier.verify(r.body, r.headers) for r in receiver.unique()]


def verified_then_failing(acme, ready, emulator, capture):
    """A mailbox that passed its first check, then failed enough to be failing (an
    access policy leaves it out); the policy is lifted again at the end."""
    mailbox = configure(acme, ready)
    assert run_check(mailbox, capture).status == "passed"
    emulator.add_access_policy(ready.app, ready.directory, [ready.admin.upn])
    for _ in range(3):  # degraded first, then failing after PORTAL_CHECK_FAILING_AFTER
        run_check(mailbox, capture)
    emulator.state.access_policies.clear()
    return mailbox


def test_it_tells_the_endpoint_verified_failing_and_recovered(
    acme, ready, emulated_microsoft, receiver, subscribed, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    mailbox = verified_then_failing(acme, ready, emulated_microsoft, capture)
    run_check(mailbox, capture)
    events = received(receiver, subscribed)
    assert [event["type"] for event in events] == [
        "connection.verified",
        "connection.failing",
        "connection.recovered",
    ]
    assert {event["data"]["connection_id"] for event in events} == {str(mailbox.pk)}
    failing = events[1]["data"]
    assert (failing["health"], failing["diagnosis_code"]) == ("failing", "mailbox_out_of_scope")


def test_a_connection_fixed_by_a_saved_change_is_recovered_not_verified_again(
    acme, ready, emulated_microsoft, receiver, subscribed, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    mailbox = verified_then_failing(acme, ready, emulated_microsoft, capture)
    # The admin saves a change: the health goes back to unknown without an event.
    health.verification_reset(acme)
    assert run_check(mailbox, capture).status == "passed"
    assert [event["type"] for event in received(receiver, subscribed)] == [
        "connection.verified",
        "connection.failing",
        "connection.recovered",
    ]


def test_it_writes_no_event_when_the_health_stays_the_same(acme, ready, subscribed):
    mailbox = configure(acme, ready)
    mailbox.health = "healthy"
    mailbox.save(update_fields=["health"])
    run = CheckRun.objects.create(mailbox=mailbox, trigger="schedule", status="passed")
    health.record_health(run)
    assert not OutboxEvent.objects.exists()


def test_it_tells_the_endpoint_a_mailbox_was_removed(
    acme, alice, ready, receiver, subscribed, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    connection_id = str(mailbox.pk)  # a deleted instance forgets its pk
    with django_capture_on_commit_callbacks(execute=True):
        wizard.remove_mailbox(mailbox, actor=Actor(user=alice))
    (event,) = received(receiver, subscribed)
    assert event["type"] == "connection.removed"
    assert event["data"]["connection_id"] == connection_id
    assert event["data"]["address"] == mailbox.address


def test_it_tells_the_endpoint_a_secret_reaches_a_reminder_threshold(
    acme, ready, receiver, subscribed, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    secret = ClientSecret.objects.get(app__tenant=acme)
    secret.expires_on = acme.local_today() + timedelta(days=7)
    secret.save(update_fields=["expires_on"])
    with django_capture_on_commit_callbacks(execute=True):
        result = scan.scan()
    assert result.claimed
    (event,) = received(receiver, subscribed)
    assert event["type"] == "credential.expiring"
    assert event["data"]["connection_id"] == str(mailbox.pk)
    assert event["data"]["days_left"] == 7
    assert event["data"]["secret_id"] == str(secret.secret_id)
    # No secret value travels in a webhook.
    assert ready.secret.value not in json.dumps(event)


def test_it_writes_no_event_for_an_account_that_may_not_see_the_tenant(
    acme, globex, ready, receiver, django_capture_on_commit_callbacks
):
    other = ServiceAccount.objects.create(name="Globex only", scopes=["webhooks:manage"])
    other.tenants.set([globex])
    endpoints.create(other.pk, url=receiver.url, events=sorted(EVENT_TYPES))
    mailbox = configure(acme, ready)
    assert run_check(mailbox, django_capture_on_commit_callbacks).status == "passed"
    assert receiver.received == []
