"""A secret is judged by the steps that use it, and a renewal never leaves the tenant
without a usable secret."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from accounts.actors import Actor
from microsoft_emulator.scenarios import ready_directory
from onboarding.models import AuditEvent, CheckRun, ClientSecret
from onboarding.renewal import workflow as renewal
from onboarding.tasks import enqueue_requested
from tests.onboarding.check_helpers import configure, run_check, steps

pytestmark = pytest.mark.django_db
Status = ClientSecret.Status
NEW_EXPIRY = date.today() + timedelta(days=180)


@pytest.fixture
def delegated(emulated_microsoft):
    return ready_directory(emulated_microsoft, delegated=("Mail.Read", "Mail.Send"))


def renew(app, value, secret_id, alice, capture):
    with capture(execute=True):
        requested = renewal.renewal_start(
            app=app, value=value, secret_id=secret_id, expires_on=NEW_EXPIRY, actor=Actor(alice)
        )
        enqueue_requested(requested)
    requested.run.refresh_from_db()
    return requested.run


def test_a_renewal_whose_secret_works_is_promoted_though_the_password_fails(
    acme, alice, delegated, emulated_microsoft, django_capture_on_commit_callbacks
):
    configure(acme, delegated, password="wrong")  # the mailbox password is refused
    old = ClientSecret.objects.get(app__tenant=acme)
    new = emulated_microsoft.add_secret(delegated.app, display_name="Renewed")

    run = renew(old.app, new.value, new.key_id, alice, django_capture_on_commit_callbacks)

    assert run.status == CheckRun.Status.FAILED  # the run tells of the password...
    assert steps(run)["password_sign_in"] == ("failed", "wrong_password")
    assert {steps(run)[name][0] for name in ("token", "read_inbox", "send_test")} == {"passed"}
    old.refresh_from_db()
    current = ClientSecret.objects.get(app=old.app, status=Status.ACTIVE)
    assert str(current.secret_id) == new.key_id  # ...but the secret that worked is in use
    assert old.status == Status.RETIRED
    assert AuditEvent.objects.filter(action="client_secret.renewed").count() == 1
    assert not AuditEvent.objects.filter(action="client_secret.renewal_failed").exists()


def test_a_renewal_whose_secret_fails_is_still_rejected_when_the_password_works(
    acme, alice, delegated, django_capture_on_commit_callbacks
):
    configure(acme, delegated, password="Mailbox-pass-1")
    old = ClientSecret.objects.get(app__tenant=acme)
    secret_id = "0b6c4c9e-3333-4b7e-9a1d-5b1c2d3e4f50"
    run = renew(old.app, "abc8Q~" + "z" * 34, secret_id, alice, django_capture_on_commit_callbacks)
    assert steps(run)["password_sign_in"] == ("passed", "")
    old.refresh_from_db()
    assert old.status == Status.ACTIVE
    assert ClientSecret.objects.get(secret_id=secret_id).status == Status.REJECTED


def test_a_first_secret_that_works_is_activated_though_the_password_fails(
    acme, delegated, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, delegated, password="wrong")
    first = ClientSecret.objects.get(app__tenant=acme)
    ClientSecret.objects.filter(pk=first.pk).update(status=Status.PENDING)  # the wizard's

    run = run_check(mailbox, django_capture_on_commit_callbacks)

    assert steps(run)["password_sign_in"] == ("failed", "wrong_password")
    first.refresh_from_db()
    assert first.status == Status.ACTIVE


def test_a_renewal_is_refused_while_the_first_secret_is_unverified(
    acme, alice, delegated, emulated_microsoft
):
    configure(acme, delegated)
    first = ClientSecret.objects.get(app__tenant=acme)
    ClientSecret.objects.filter(pk=first.pk).update(status=Status.PENDING)  # the wizard's
    new = emulated_microsoft.add_secret(delegated.app)

    with pytest.raises(renewal.FirstSecretUnverified, match="Finish the setup's verification"):
        renewal.renewal_start(
            app=first.app,
            value=new.value,
            secret_id=new.key_id,
            expires_on=NEW_EXPIRY,
            actor=Actor(alice),
        )

    first.refresh_from_db()
    assert first.status == Status.PENDING  # not rejected: still the one the wizard checks
    assert ClientSecret.objects.filter(app=first.app).count() == 1
    assert not CheckRun.objects.filter(secret__isnull=False).exists()


def test_a_renewal_still_supersedes_an_earlier_renewal(acme, alice, delegated, emulated_microsoft):
    configure(acme, delegated)
    active = ClientSecret.objects.get(app__tenant=acme)
    first, second = (
        emulated_microsoft.add_secret(delegated.app),
        emulated_microsoft.add_secret(delegated.app),
    )
    for made in (first, second):
        renewal.renewal_start(
            app=active.app,
            value=made.value,
            secret_id=made.key_id,
            expires_on=NEW_EXPIRY,
            actor=Actor(alice),
        )
    statuses = {str(k): v for k, v in ClientSecret.objects.values_list("secret_id", "status")}
    assert statuses[str(active.secret_id)] == Status.ACTIVE
    assert (statuses[first.key_id], statuses[second.key_id]) == (Status.REJECTED, Status.PENDING)


def test_the_renewal_page_sends_the_admin_back_to_finish_the_verification(
    client, acme, alice, delegated, emulated_microsoft
):
    configure(acme, delegated)
    first = ClientSecret.objects.get(app__tenant=acme)
    ClientSecret.objects.filter(pk=first.pk).update(status=Status.PENDING)
    new = emulated_microsoft.add_secret(delegated.app)
    client.force_login(alice)
    response = client.post(
        reverse("onboarding:renew-secret", args=[acme.pk]),
        {"value": new.value, "secret_id": new.key_id, "expiry": "180", "save_anyway": "on"},
        follow=True,
    )
    assert "Finish the setup&#x27;s verification first" in response.content.decode()
    first.refresh_from_db()
    assert first.status == Status.PENDING
    assert ClientSecret.objects.filter(app=first.app).count() == 1
