"""A stored secret that no longer decrypts (a key retired before rotation finished, a
backup restored under other keys) fails its check with its own diagnosis, tells support
once per stored value, and never holds back later checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.checks import schedule
from onboarding.checks.health import UNREADABLE_ACTION
from onboarding.models import AuditEvent, CheckRun, ClientSecret, Mailbox
from onboarding.tasks import run_mailbox_check
from tests.onboarding.check_helpers import configure, run_check, steps

pytestmark = pytest.mark.django_db

SUBJECT = "Stored secret unreadable"


@pytest.fixture
def delegated(emulated_microsoft):
    return ready_directory(emulated_microsoft, delegated=("Mail.Read", "Mail.Send"))


def corrupt(model, pk, field):
    """Flip one bit of the stored ciphertext: it no longer decrypts for its row."""
    blob = bytearray(model.objects.values_list(field, flat=True).get(pk=pk))
    blob[-1] ^= 1
    model.objects.filter(pk=pk).update(**{field: bytes(blob)})


def support_alerts():
    return [m for m in mail.outbox if SUBJECT in m.subject]


def assert_nothing_secret(*secrets):
    for message in mail.outbox:
        alternatives = getattr(message, "alternatives", [])
        texts = [message.subject, message.body, *(str(a[0]) for a in alternatives)]
        assert not any(secret in text for secret in secrets for text in texts)
    events = AuditEvent.objects.values_list("details", flat=True)
    assert not any(secret in str(details) for secret in secrets for details in events)


def test_an_undecryptable_client_secret_fails_the_check_and_tells_support_once(
    acme, delegated, canary, django_capture_on_commit_callbacks, caplog
):
    value = canary()
    mailbox = configure(acme, delegated, secret_value=value)
    secret = ClientSecret.objects.get(app__tenant=acme)
    corrupt(ClientSecret, secret.pk, "value_ciphertext")

    first = run_check(mailbox, django_capture_on_commit_callbacks)
    second = run_check(mailbox, django_capture_on_commit_callbacks)

    for run in (first, second):
        assert run.status == CheckRun.Status.FAILED
        assert run.diagnosis_key == "secret_unreadable"
        assert steps(run)["token"] == ("failed", "secret_unreadable")
    assert first.pk != second.pk  # the first run ended: the second was claimed and run
    (alert,) = support_alerts()
    assert alert.to == [settings.SUPPORT_EMAIL]
    assert str(secret.secret_id) in alert.body
    assert "step 4" in alert.body
    assert AuditEvent.objects.filter(action=UNREADABLE_ACTION).count() == 1
    assert_nothing_secret(value)
    assert value not in caplog.text


def test_an_undecryptable_mailbox_password_fails_the_check_and_tells_support_once(
    acme, delegated, canary, django_capture_on_commit_callbacks, caplog
):
    password = canary("password")
    mailbox = configure(acme, delegated, password=password)
    corrupt(Mailbox, mailbox.pk, "password_ciphertext")
    mailbox.refresh_from_db()

    runs = [run_check(mailbox, django_capture_on_commit_callbacks) for _ in range(2)]

    for run in runs:
        assert run.status == CheckRun.Status.FAILED
        assert run.diagnosis_key == "password_unreadable"
        assert steps(run)["password_sign_in"] == ("failed", "password_unreadable")
        assert steps(run)["send_test"] == ("passed", "")
    (alert,) = support_alerts()
    assert alert.to == [settings.SUPPORT_EMAIL]
    assert "mailbox password" in alert.body
    assert "step 5" in alert.body
    mailbox.refresh_from_db()
    assert mailbox.health == "degraded"
    assert_nothing_secret(password)
    assert password not in caplog.text


def test_a_re_entered_password_that_fails_again_is_announced_again(
    acme, delegated, canary, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, delegated, password=canary("password"))
    corrupt(Mailbox, mailbox.pk, "password_ciphertext")
    mailbox.refresh_from_db()
    run_check(mailbox, django_capture_on_commit_callbacks)

    mailbox.set_password(canary("password"))  # re-entered in step 5...
    mailbox.save()
    corrupt(Mailbox, mailbox.pk, "password_ciphertext")  # ...and lost again
    mailbox.refresh_from_db()
    run_check(mailbox, django_capture_on_commit_callbacks)
    run_check(mailbox, django_capture_on_commit_callbacks)

    assert len(support_alerts()) == 2
    assert AuditEvent.objects.filter(action=UNREADABLE_ACTION).count() == 2


def test_the_scheduled_recheck_keeps_checking_a_mailbox_with_an_unreadable_secret(
    acme, delegated, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, delegated)
    assert run_check(mailbox, django_capture_on_commit_callbacks).status == "passed"
    secret = ClientSecret.objects.get(app__tenant=acme)
    corrupt(ClientSecret, secret.pk, "value_ciphertext")
    assert run_check(mailbox, django_capture_on_commit_callbacks).status == "failed"

    # Two periods later, the sweep still includes it, and its check runs to the end.
    long_ago = timezone.now() - timedelta(hours=2 * settings.PORTAL_RECHECK_HOURS)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_checked_at=long_ago)
    due = schedule.recheck_due()
    (run_id,) = due
    run_mailbox_check.run(str(run_id))
    run = CheckRun.objects.get(pk=run_id)
    assert run.mailbox_id == mailbox.pk
    assert (run.status, run.diagnosis_key) == (CheckRun.Status.FAILED, "secret_unreadable")
    assert len(support_alerts()) == 1
    assert AuditEvent.objects.filter(action=UNREADABLE_ACTION).count() == 1
