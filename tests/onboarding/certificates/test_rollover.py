"""The portal rolling its own certificate over against the emulator, through every
stage: a new key pair, Graph's addKey proved by the current key, a check with the new
certificate, the switch, and removeKey after the grace period. Checks of the mailbox
keep passing throughout, and no admin is e-mailed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.actors import Actor
from microsoft_emulator.scenarios import ready_directory
from onboarding import tasks
from onboarding.models import AppRegistration, AuditEvent, CertificateRollover, ClientSecret
from onboarding.renewal import rollover
from tests.onboarding.check_helpers import (
    certificate_in_use,
    configure,
    run_check,
    through_the_wizard,
)

pytestmark = pytest.mark.django_db

Stage = CertificateRollover.Stage


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


@pytest.fixture
def certified(acme, alice, ready, emulated_microsoft, django_capture_on_commit_callbacks):
    """A tenant whose certificate is in use, its object ID known, 20 days from expiry."""
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    credential, _ = certificate_in_use(
        acme, ready, emulated_microsoft, django_capture_on_commit_callbacks, by=alice
    )
    assert credential.status == ClientSecret.Status.ACTIVE
    AppRegistration.objects.filter(pk=credential.app_id).update(object_id=ready.app.object_id)
    ClientSecret.objects.filter(pk=credential.pk).update(
        expires_on=date.today() + timedelta(days=20)
    )
    mail.outbox.clear()
    return mailbox, credential


def advance_all(capture) -> list[str | None]:
    """What the beat and the workers do: scan, then advance each ready rollover."""
    stages = []
    with capture(execute=True):
        for rollover_id in rollover.scan():
            advanced = rollover.advance(rollover_id)
            tasks.enqueue_requested(advanced.checks)
            stages.append(advanced.stage)
    return stages


def thumbprints(app) -> set[str]:
    return {c.thumbprint for c in app.key_credentials}


def test_a_certificate_inside_the_lead_time_rolls_over_through_every_stage(
    certified, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox, old = certified
    capture = django_capture_on_commit_callbacks
    assert advance_all(capture) == [Stage.KEY_MADE]
    assert advance_all(capture) == [Stage.KEY_ADDED]
    row = CertificateRollover.objects.get()
    assert row.thumbprint in thumbprints(ready.app)  # addKey put it on the app
    assert old.thumbprint in thumbprints(ready.app)
    assert run_check(mailbox, capture).status == "passed"  # the old one still works

    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        assert advance_all(capture) == [Stage.PROVING]
        assert advance_all(capture) == []  # polled again only after CHECK_POLL
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert advance_all(capture) == [Stage.SWITCHED]
        new = CertificateRollover.objects.get().new
        assert new is not None
        assert new.status == ClientSecret.Status.ACTIVE
        assert new.thumbprint == row.thumbprint
        assert ClientSecret.objects.get(pk=old.pk).status == ClientSecret.Status.RETIRED
        assert run_check(mailbox, capture).status == "passed"  # now with the new one
        assert old.thumbprint in thumbprints(ready.app)  # kept for the grace period
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert advance_all(capture) == [Stage.DONE]
        assert thumbprints(ready.app) == {new.thumbprint}
        assert run_check(mailbox, capture).status == "passed"
    assert ClientSecret.objects.get(pk=old.pk).deleted_in_entra_at is not None
    assert mail.outbox == []  # nothing for the admins to do, nothing said
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "certificate.rollover_started",
        "certificate.rollover_key_made",
        "certificate.rollover_key_added",
        "certificate.rollover_proving",
        "certificate.rollover_switched",
        "certificate.rollover_done",
    } <= actions


def test_a_wrong_object_id_ends_in_the_named_diagnosis_and_the_current_one_keeps_working(
    certified, ready, django_capture_on_commit_callbacks
):
    mailbox, old = certified
    AppRegistration.objects.filter(pk=old.app_id).update(
        object_id="0f0f0f0f-0000-4000-8000-000000000000"
    )
    capture = django_capture_on_commit_callbacks
    assert advance_all(capture) == [Stage.KEY_MADE]
    assert advance_all(capture) == [Stage.FAILED]
    row = CertificateRollover.objects.get()
    assert row.diagnosis_key == "rollover_proof_refused"
    assert row.new is None
    assert thumbprints(ready.app) == {old.thumbprint}
    assert ClientSecret.objects.get(pk=old.pk).status == ClientSecret.Status.ACTIVE
    assert run_check(mailbox, capture).status == "passed"
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert "support@portal.example" in recipients or len(recipients) >= 2
    assert all("renew the certificate" in message.subject for message in mail.outbox)
    assert advance_all(capture) == []  # ended: never tried again by itself

    # The admin corrects the Object ID in step 4: the renewal gets a new try.
    from onboarding.wizard.services import save_object_id

    app = AppRegistration.objects.get(pk=old.app_id)
    assert save_object_id(app, ready.app.object_id, actor=Actor(user=None))
    assert advance_all(capture) == [Stage.KEY_MADE]
    assert advance_all(capture) == [Stage.KEY_ADDED]
    assert len(thumbprints(ready.app)) == 2


def test_certificates_that_roll_over_get_no_reminder_until_a_rollover_fails(
    certified, django_capture_on_commit_callbacks
):
    from onboarding.reminders import scan as reminders

    _, old = certified
    assert reminders.scan().claimed == []
    CertificateRollover.objects.create(app=old.app, old=old, stage=Stage.FAILED)
    assert len(reminders.scan().claimed) == 1


def test_a_credential_an_admin_saves_meanwhile_supersedes_the_rollover_quietly(
    certified, django_capture_on_commit_callbacks
):
    from onboarding.client_secrets import secret_reject

    _, old = certified
    capture = django_capture_on_commit_callbacks
    advance_all(capture)
    advance_all(capture)
    row = CertificateRollover.objects.get()
    assert row.stage == Stage.KEY_ADDED
    assert row.new is not None
    # An admin's own renewal rejects the pending certificate as superseded.
    secret_reject(row.new, superseded=True)
    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        assert advance_all(capture) == [Stage.PROVING]
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert advance_all(capture) == [Stage.FAILED]
    row.refresh_from_db()
    assert row.diagnosis_key == "rollover_superseded"
    assert ClientSecret.objects.get(pk=old.pk).status == ClientSecret.Status.ACTIVE
    assert mail.outbox == []  # the admin did it: nothing to tell
