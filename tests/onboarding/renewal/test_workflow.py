"""Renewal against the emulator: the new secret is proved before the old one goes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from accounts.actors import Actor
from microsoft_emulator.scenarios import ready_directory
from onboarding.checks.health import renewal_conclude
from onboarding.models import AuditEvent, CheckRun, ClientSecret
from onboarding.renewal import workflow as renewal
from onboarding.tasks import enqueue_requested
from tests.onboarding.check_helpers import configure

NEW_EXPIRY = date.today() + timedelta(days=180)


@pytest.fixture
def configured(emulated_microsoft, emulator, acme, alice):
    ready = ready_directory(emulator)
    mailbox = configure(acme, ready)
    return ready, mailbox, ClientSecret.objects.get(app__tenant=acme)


def begin(app, value, secret_id, alice):
    """Start a renewal and enqueue its check on commit, as the renewal view does."""
    requested = renewal.renewal_start(
        app=app, value=value, secret_id=secret_id, expires_on=NEW_EXPIRY, actor=Actor(user=alice)
    )
    enqueue_requested(requested)
    return requested.run


def start(app, value, secret_id, alice, capture):
    with capture(execute=True):
        return begin(app, value, secret_id, alice)


def test_it_switches_to_a_working_secret_and_retires_the_old(
    configured, emulator, alice, django_capture_on_commit_callbacks
):
    ready, _, old = configured
    new = emulator.add_secret(ready.app, display_name="Renewed")
    run = start(old.app, new.value, new.key_id, alice, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    old.refresh_from_db()
    current = ClientSecret.objects.get(app=old.app, status=ClientSecret.Status.ACTIVE)
    assert run.status == CheckRun.Status.PASSED
    assert str(current.secret_id) == new.key_id
    assert old.status == ClientSecret.Status.RETIRED
    assert AuditEvent.objects.filter(action="client_secret.renewed").count() == 1
    (message,) = [m for m in mail.outbox if "is in use" in m.subject]
    assert message.to == [alice.email]
    assert str(old.secret_id) in message.body


def test_it_keeps_the_old_secret_when_the_new_one_fails(
    configured, alice, django_capture_on_commit_callbacks
):
    _, _, old = configured
    wrong_value = "abc8Q~" + "x" * 34  # the right shape, unknown to Microsoft
    run = start(
        old.app,
        wrong_value,
        "0b6c4c9e-1111-4b7e-9a1d-5b1c2d3e4f50",
        alice,
        django_capture_on_commit_callbacks,
    )
    run.refresh_from_db()
    old.refresh_from_db()
    new = ClientSecret.objects.get(secret_id="0b6c4c9e-1111-4b7e-9a1d-5b1c2d3e4f50")
    assert run.status == CheckRun.Status.FAILED
    assert run.diagnosis_key == "wrong_secret"
    assert (old.status, new.status) == (ClientSecret.Status.ACTIVE, ClientSecret.Status.REJECTED)
    event = AuditEvent.objects.get(action="client_secret.renewal_failed")
    assert event.details["diagnosis"] == "wrong_secret"
    assert wrong_value not in str(event.details)


def test_it_concludes_once(configured, emulator, alice, django_capture_on_commit_callbacks):
    ready, _, old = configured
    new = emulator.add_secret(ready.app)
    run = start(old.app, new.value, new.key_id, alice, django_capture_on_commit_callbacks)
    assert renewal_conclude(run.pk) is None
    assert AuditEvent.objects.filter(action="client_secret.renewed").count() == 1


def test_it_supersedes_an_unfinished_renewal(configured, emulator, alice):
    ready, _, old = configured
    first = emulator.add_secret(ready.app)
    second = emulator.add_secret(ready.app)
    # Without executing on-commit callbacks, the first renewal stays pending.
    begin(old.app, first.value, first.key_id, alice)
    begin(old.app, second.value, second.key_id, alice)
    statuses = dict(ClientSecret.objects.values_list("secret_id", "status"))
    assert statuses[old.secret_id] == ClientSecret.Status.ACTIVE
    assert str(next(k for k, v in statuses.items() if v == "rejected")) == first.key_id
    assert str(next(k for k, v in statuses.items() if v == "pending")) == second.key_id


def test_it_needs_a_mailbox_to_prove_the_secret(acme, alice):
    from onboarding.models import AppRegistration

    app = AppRegistration.objects.create(
        tenant=acme, client_id="7c9e6679-7425-40de-944b-e07fc1f90ae7", directory="acme.example"
    )
    with pytest.raises(renewal.NoMailboxToVerify):
        renewal.renewal_start(
            app=app,
            value="abc8Q~" + "y" * 34,
            secret_id="0b6c4c9e-2222-4b7e-9a1d-5b1c2d3e4f50",
            expires_on=NEW_EXPIRY,
            actor=Actor(user=alice),
        )


# --- the pages ----------------------------------------------------------------------


def test_it_shows_only_the_hint_of_the_secret_in_use(client, configured, acme, alice):
    _, _, old = configured
    client.force_login(alice)
    response = client.get(reverse("onboarding:renew-secret", args=[acme.pk]))
    assert response.status_code == 200
    assert f"{old.hint}…" in response.content.decode()
    assert old.reveal() not in response.content.decode()


def test_it_renews_through_the_form(
    client, configured, emulator, acme, alice, django_capture_on_commit_callbacks
):
    ready, _, old = configured
    new = emulator.add_secret(ready.app)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("onboarding:renew-secret", args=[acme.pk]),
            {"value": new.value, "secret_id": new.key_id, "expiry": "180"},
        )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "is now in use" in page
    assert str(old.secret_id) in page
    assert new.value not in page


def test_it_hides_another_tenants_renewal(
    client, configured, emulator, globex, bob, alice, django_capture_on_commit_callbacks, acme
):
    ready, _, old = configured
    new = emulator.add_secret(ready.app)
    run = start(old.app, new.value, new.key_id, alice, django_capture_on_commit_callbacks)
    client.force_login(bob)
    assert client.get(reverse("onboarding:renew-status", args=[acme.pk, run.pk])).status_code == 404
    assert (
        client.get(reverse("onboarding:renew-status", args=[globex.pk, run.pk])).status_code == 404
    )


def test_it_sends_an_unfinished_setup_back_to_the_wizard(client, acme, alice):
    client.force_login(alice)
    response = client.get(reverse("onboarding:renew-secret", args=[acme.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding:resume", args=[acme.pk])
