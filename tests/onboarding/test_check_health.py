"""Health moves with each check; failing and recovery are each announced once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding import checks
from onboarding.models import AuditEvent, CheckRun, Mailbox
from tests.onboarding.check_helpers import configure, run_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


def health_of(mailbox: Mailbox) -> str:
    mailbox.refresh_from_db()
    return mailbox.health


def test_it_alerts_once_when_a_mailbox_starts_failing_and_once_when_it_recovers(
    settings, acme, alice, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    capture = django_capture_on_commit_callbacks
    assert run_check(mailbox, capture).status == "passed"
    assert health_of(mailbox) == "healthy"
    emulated_microsoft.add_access_policy(ready.app, ready.directory, [ready.admin.upn])
    run_check(mailbox, capture)
    assert (health_of(mailbox), len(mail.outbox)) == ("degraded", 0)
    run_check(mailbox, capture)
    run_check(mailbox, capture)
    assert health_of(mailbox) == "failing"
    alert, to_support = mail.outbox
    assert (alert.to, to_support.to) == ([alice.email], [settings.SUPPORT_EMAIL])
    assert mailbox.address in alert.subject
    assert "outside the application's allowed scope" in alert.body
    fix = reverse("onboarding:mailbox", args=[acme.pk])
    assert f"Fix it here: {settings.PORTAL_BASE_URL}{fix}" in alert.body
    emulated_microsoft.state.access_policies.clear()
    run_check(mailbox, capture)
    assert health_of(mailbox) == "healthy"
    assert [m.subject for m in mail.outbox[2:]] == [f"Mailbox {mailbox.address} works again"]
    acme.refresh_from_db()
    assert acme.health == "healthy"


def test_it_lets_only_one_of_two_racing_workers_announce_a_change(acme, alice, ready, monkeypatch):
    mailbox = configure(acme, ready)
    Mailbox.objects.filter(pk=mailbox.pk).update(health="degraded")
    runs = [
        CheckRun.objects.create(
            mailbox=mailbox, trigger="schedule", status="failed", finished_at=timezone.now()
        )
        for _ in range(2)
    ]
    # Both workers read "degraded" before either wrote.
    stale = Mailbox.objects.get(pk=mailbox.pk)
    monkeypatch.setattr(Mailbox.objects, "get", lambda **_: stale)
    for run in runs:
        checks.record_health(run)
    assert health_of(mailbox) == "failing"
    assert AuditEvent.objects.filter(action="mailbox.health_changed").count() == 1


def test_it_rates_the_tenant_by_its_least_healthy_mailbox(acme, ready):
    first = configure(acme, ready)
    Mailbox.objects.create(tenant=acme, address="second@acme.example", health="degraded")
    Mailbox.objects.filter(pk=first.pk).update(health="healthy")
    checks._record_tenant_health(acme.pk)
    acme.refresh_from_db()
    assert acme.health == "degraded"


def test_it_rechecks_verified_mailboxes_not_checked_recently(acme, ready, broker, settings):
    settings.PORTAL_RECHECK_HOURS = 6
    now = timezone.now()
    stale = configure(acme, ready)
    Mailbox.objects.filter(pk=stale.pk).update(
        last_success_at=now - timedelta(hours=7), last_checked_at=now - timedelta(hours=7)
    )
    Mailbox.objects.create(
        tenant=acme,
        address="fresh@acme.example",
        last_success_at=now - timedelta(hours=1),
        last_checked_at=now - timedelta(hours=1),
    )
    Mailbox.objects.create(
        tenant=acme, address="never@acme.example", last_checked_at=now - timedelta(hours=9)
    )
    with time_machine.travel(now, tick=False):
        assert checks.recheck_due() == 1
    [run] = CheckRun.objects.all()
    assert (run.mailbox_id, run.trigger) == (stale.pk, "schedule")
    assert checks.recheck_due() == 0  # its run is still queued


def test_it_spreads_the_rechecks_over_the_hour(
    acme, ready, broker, django_capture_on_commit_callbacks
):
    old = timezone.now() - timedelta(days=1)
    for number in range(4):
        Mailbox.objects.create(
            tenant=acme, address=f"m{number}@acme.example", last_success_at=old, last_checked_at=old
        )
    with django_capture_on_commit_callbacks(execute=True):
        checks.recheck_due()
    countdowns = sorted(countdown for _, countdown in broker.queued)
    assert countdowns == [0, 750, 1500, 2250]


def test_it_verifies_a_pending_secret_without_touching_the_mailbox_health(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    from datetime import date

    from onboarding.checks import check_request
    from onboarding.models import ClientSecret

    mailbox = configure(acme, ready, secret_value="abc8Q~wrongwrongwrongwrongwrongwrongwr")
    fresh = emulated_microsoft.add_secret(ready.app)
    pending = ClientSecret(
        app=acme.app_registration, secret_id=fresh.key_id, expires_on=date(2027, 6, 1)
    )
    pending.set_value(fresh.value)
    pending.save()
    with django_capture_on_commit_callbacks(execute=True):
        run = check_request(mailbox=mailbox, trigger="renewal", secret=pending)
    run.refresh_from_db()
    assert (run.status, run.secret) == ("passed", pending)
    assert health_of(mailbox) == "unknown"
