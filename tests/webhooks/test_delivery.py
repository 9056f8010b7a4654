"""Webhook delivery against a real HTTP server on 127.0.0.1: signed as Standard Webhooks
says, retried after 500s and timeouts with the same webhook-id, in order per
connection, swept when its task was lost, and the endpoint disabled (support e-mailed)
when it keeps failing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.canary import assert_absent_from_database
from tests.webhooks.conftest import CONNECTION, OTHER_CONNECTION
from webhooks import deliveries, outbox, sending, tasks
from webhooks.models import Delivery, Endpoint

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TENANT = "5d0c3e8a-8f0e-4e64-9d37-1f2a3b4c5d6e"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a function as a task would, then run what it queued on commit (eagerly)."""

    def call(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            return function(*args, **kwargs)

    return call


def emit(run, event_type="connection.failing", *, connection=CONNECTION, tenant=TENANT, **data):
    data = data or {"diagnosis_code": "secret_expired"}
    return run(outbox.record, event_type, tenant_id=tenant, connection_id=connection, data=data)


def verify(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


def test_it_delivers_a_signed_event_that_standardwebhooks_verifies(
    clock, run, receiver, endpoint, canary_watch
):
    secret = endpoint[1]
    canary_watch.canaries.add(secret)  # never in a log, an e-mail, a task or a body
    event = emit(run, "connection.failing", diagnosis_code="secret_expired")
    [request] = receiver.received
    payload = verify(secret, request)
    assert payload == {
        "type": "connection.failing",
        "timestamp": "2026-03-02T09:00:00Z",
        "data": {
            "diagnosis_code": "secret_expired",
            "tenant_id": TENANT,
            "connection_id": str(CONNECTION),
            "sequence": 1,
        },
    }
    assert request.headers["webhook-id"] == event.pk
    assert event.pk.startswith("msg_")
    assert request.headers["webhook-timestamp"] == str(int(START.timestamp()))
    assert request.headers["content-type"] == "application/json"
    assert request.path == "/hooks/portal?source=test"
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    assert delivery.delivered_at == START
    # Stored encrypted: the secret is in no table (the vault's keyring seals it).
    assert_absent_from_database(secret)


def test_it_refuses_a_body_signed_with_another_secret_or_altered(clock, run, receiver, endpoint):
    emit(run)
    [request] = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint[1]).verify(request.body.replace(b"failing", b"healthy"), request.headers)


def test_it_retries_after_500s_with_backoff_and_the_same_webhook_id(clock, run, receiver, endpoint):
    receiver.answer(500, 503)
    event = emit(run)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500."
    # 5 s, jittered by up to a tenth.
    assert delivery.next_attempt_at is not None
    assert timedelta(seconds=4.5) <= delivery.next_attempt_at - START <= timedelta(seconds=5.5)
    # Not due yet: a task that runs early (a countdown is a hint) sends nothing.
    assert run(tasks.deliver, str(delivery.pk)) is False
    assert len(receiver.received) == 1

    clock.shift(6)
    run(tasks.deliver, str(delivery.pk))
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert delivery.next_attempt_at is not None
    assert delivery.last_attempt_at is not None
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(minutes=4.5) <= wait <= timedelta(minutes=5.5)

    clock.shift(6 * 60)
    run(tasks.deliver, str(delivery.pk))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 3)
    # Three requests, one webhook-id: a receiver that deduplicates processes it once.
    assert [r.webhook_id for r in receiver.received] == [event.pk] * 3
    assert [r.webhook_id for r in receiver.unique()] == [event.pk]
    # Each attempt is signed afresh (its own timestamp) over the same body.
    assert len({r.body for r in receiver.received}) == 1
    assert len({r.headers["webhook-timestamp"] for r in receiver.received}) == 3
    verify(endpoint[1], receiver.received[-1])
    assert Endpoint.objects.get().consecutive_failures == 0


def test_it_counts_a_receiver_slower_than_the_timeout_as_failed_and_retries(
    clock, run, receiver, endpoint
):
    receiver.answer(("slow", 1.5))
    emit(run)
    delivery = Delivery.objects.get()
    assert delivery.state == "pending"
    assert delivery.last_error == "Timed out after 0.5 seconds."
    assert delivery.last_status_code is None
    clock.shift(10)
    run(tasks.deliver, str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert len(receiver.unique()) == 1
    assert len(receiver.received) == 2


def test_it_does_not_follow_redirects(clock, run, receiver, endpoint):
    receiver.answer(302)
    emit(run)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == ("pending", 302)
    assert delivery.last_error == "HTTP 302: redirects are not followed."
    assert len(receiver.received) == 1


def test_a_worker_killed_between_the_outbox_write_and_the_send_still_delivers_once(
    clock, receiver, endpoint, django_capture_on_commit_callbacks
):
    # The transaction commits, then the worker dies: the queued task never runs.
    with django_capture_on_commit_callbacks(execute=False) as lost, transaction.atomic():
        event = outbox.record(
            "connection.verified", tenant_id=TENANT, connection_id=CONNECTION, data={}
        )
    assert len(lost) == 1
    assert receiver.received == []
    # Within the grace period the sweeper leaves it to its task.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep() == 0
    clock.shift(61)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep() == 1
        assert tasks.sweep() == 0
    clock.shift(3600)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep() == 0
    assert [r.webhook_id for r in receiver.received] == [event.pk]
    assert Delivery.objects.get().state == "delivered"


def test_a_sender_that_died_mid_send_is_replaced_once_its_claim_runs_out(
    clock, run, receiver, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        outbox.record("connection.verified", tenant_id=TENANT, connection_id=CONNECTION, data={})
    delivery = Delivery.objects.get()
    # A worker claims it and dies before it sends or records anything.
    assert sending._claim(str(delivery.pk)) is not None
    clock.shift(120)
    assert run(tasks.sweep) == 0  # still claimed: a live sender is never overtaken
    assert run(tasks.deliver, str(delivery.pk)) is False
    clock.shift(120)
    assert run(tasks.sweep) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    assert len(receiver.received) == 1


def test_it_delivers_in_order_per_connection_and_lets_other_connections_go(
    clock, run, receiver, endpoint
):
    receiver.answer(500)
    first = emit(run, "connection.failing")
    second = emit(run, "connection.recovered")
    elsewhere = emit(run, "connection.verified", connection=OTHER_CONNECTION)
    # The first failed; the second waits behind it; the other connection is not held up.
    assert [r.webhook_id for r in receiver.received] == [first.pk, elsewhere.pk]
    waiting = Delivery.objects.get(event=second)
    assert (waiting.state, waiting.attempts) == ("pending", 0)
    assert run(tasks.deliver, str(waiting.pk)) is False  # its task came: still waits
    clock.shift(120)
    # The sweeper offers only the first of the line, never the one behind it.
    assert sending.due() == [str(Delivery.objects.get(event=first).pk)]
    run(tasks.sweep)
    assert [r.webhook_id for r in receiver.received] == [
        first.pk,
        elsewhere.pk,
        first.pk,
        second.pk,
    ]
    sequences = [json.loads(r.body)["data"]["sequence"] for r in receiver.unique()]
    assert sequences == [1, 1, 2]


def test_it_gives_up_after_the_schedule_disables_the_endpoint_and_mails_support(
    clock, run, receiver, endpoint, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = (5, 60)
    receiver.answer(500, 500, 500)
    emit(run)
    delivery = Delivery.objects.get()
    for _ in range(2):
        clock.shift(200)  # past the jittered wait and the sweeper's grace
        run(tasks.sweep)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    hook = Endpoint.objects.get()
    assert hook.enabled is False
    assert hook.disabled_at == START + timedelta(seconds=400)
    assert hook.disabled_reason.startswith("All 3 attempts to deliver event msg_")
    [message] = mail.outbox
    assert message.to == ["support@vendor.example"]
    assert message.subject == f"Webhook endpoint disabled for Operations app: {hook.url}"
    assert "HTTP 500." in message.body
    assert str(hook.pk) in message.body
    assert endpoint[1] not in message.body
    # A disabled endpoint is not offered new events, and nothing more is sent to it.
    emit(run, "connection.recovered")
    clock.shift(3600)
    run(tasks.sweep)
    assert len(receiver.received) == 3
    assert Delivery.objects.count() == 1


def test_it_disables_an_endpoint_after_many_failures_in_a_row_over_a_day(
    clock, run, receiver, endpoint, settings
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.answer(*[500] * 10)
    emit(run, connection=CONNECTION)
    clock.shift(10 * 3600)
    emit(run, connection=OTHER_CONNECTION)
    assert Endpoint.objects.get().enabled  # two failures
    clock.shift(15 * 3600)
    run(tasks.sweep)  # the first connection's retry: a third failure, 25 hours on
    hook = Endpoint.objects.get()
    assert hook.enabled is False
    assert hook.disabled_reason.startswith("3 attempts in a row failed over 24 hours")
    assert len(mail.outbox) == 1


def test_a_success_resets_the_run_of_failures(clock, run, receiver, endpoint, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    receiver.answer(500)
    emit(run)
    clock.shift(25 * 3600)
    run(tasks.sweep)
    emit(run, "connection.recovered")
    hook = Endpoint.objects.get()
    assert (hook.enabled, hook.consecutive_failures, hook.failing_since) == (True, 0, None)


def test_support_sees_recent_deliveries_and_replays_one_with_the_same_id(
    clock, run, receiver, endpoint
):
    first = emit(run, "connection.failing")
    clock.shift(60)
    second = emit(run, "connection.recovered")
    hook = endpoint[0]
    assert [e.pk for e in deliveries.endpoints()] == [hook.pk]
    listed = list(deliveries.recent(hook.pk))
    assert [d.event_id for d in listed] == [second.pk, first.pk]
    assert all(d.state == "delivered" for d in listed)
    replayed = run(deliveries.replay, listed[1].pk)
    assert replayed.state == "pending"
    delivered = Delivery.objects.get(pk=listed[1].pk)
    assert (delivered.state, delivered.attempts) == ("delivered", 1)
    assert [r.webhook_id for r in receiver.received] == [first.pk, second.pk, first.pk]
    # The receiver recognises the replay as one it already processed.
    assert [r.webhook_id for r in receiver.unique()] == [first.pk, second.pk]


def test_replay_and_enable_after_a_disable(clock, run, receiver, endpoint, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = (5,)
    receiver.answer(500, 500)
    emit(run)
    clock.shift(10)
    run(tasks.sweep)  # not overdue by the grace yet
    clock.shift(60)
    run(tasks.sweep)
    failed = Delivery.objects.get()
    assert failed.state == "failed"
    assert not Endpoint.objects.get().enabled
    with pytest.raises(deliveries.ReplayRefused, match="enable it first"):
        deliveries.replay(failed.pk)
    assert run(deliveries.enable, endpoint[0].pk) == 0
    run(deliveries.replay, failed.pk)
    failed.refresh_from_db()
    assert failed.state == "delivered"
    assert len(receiver.received) == 3
    assert len(receiver.unique()) == 1


def test_enabling_again_sends_what_waited_in_order(clock, run, receiver, endpoint):
    receiver.answer(500)
    first = emit(run)
    second = emit(run, "connection.recovered")
    deliveries.disable(endpoint[0].pk)
    clock.shift(3600)
    run(tasks.sweep)
    assert len(receiver.received) == 1
    assert run(deliveries.enable, endpoint[0].pk) == 2
    assert [r.webhook_id for r in receiver.received] == [first.pk, first.pk, second.pk]


def test_it_signs_with_both_secrets_during_a_rotation_and_then_only_the_new(
    clock, run, receiver, endpoint
):
    from webhooks import endpoints

    hook, old = endpoint
    new = endpoints.rotate(hook)
    assert new != old
    assert new.startswith("whsec_")
    emit(run)
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify(new, request)
    verify(old, request)
    clock.shift(25 * 3600)
    emit(run, "connection.recovered")
    request = receiver.received[-1]
    verify(new, request)
    with pytest.raises(WebhookVerificationError):
        verify(old, request)


def test_a_secret_the_keyring_cannot_open_fails_the_attempt_without_sending(
    clock, run, receiver, endpoint, settings
):
    from portal import keyring

    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(keyring.generate_entry("other"))
    emit(run)
    delivery = Delivery.objects.get()
    assert delivery.state == "pending"
    assert delivery.last_error.startswith("The signing secret cannot be decrypted")
    assert receiver.received == []


def test_deleting_an_endpoint_mid_send_is_harmless(clock, run, receiver, endpoint):
    receiver.answer(500)
    emit(run)
    delivery = Delivery.objects.get()
    claimed = Delivery.objects.get(pk=delivery.pk)
    Endpoint.objects.all().delete()
    assert sending._finish(claimed, sending.http.Outcome(True, 204)).attempted


def test_a_captured_webhook_replayed_later_fails_verification(clock, run, receiver, endpoint):
    """Someone who captured a webhook cannot pass it off later: the signed timestamp
    ages out (Standard Webhooks' 5 minutes), and its webhook-id was already seen."""
    emit(run)
    [captured] = receiver.received
    verify(endpoint[1], captured)
    clock.shift(6 * 60)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(endpoint[1], captured)
    # A forged fresh timestamp breaks the signature instead.
    forged = dict(captured.headers, **{"webhook-timestamp": str(int(START.timestamp()) + 360)})
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(endpoint[1]).verify(captured.body, forged)


def test_a_revoked_account_hears_nothing_more_even_of_queued_events(
    clock, run, receiver, endpoint, account
):
    receiver.answer(500)
    emit(run)
    account.revoked_at = START
    account.save()
    clock.shift(3600)
    assert run(tasks.sweep) == 0
    assert len(receiver.received) == 1
    assert Delivery.objects.get().state == "pending"
