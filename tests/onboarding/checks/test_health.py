"""Health moves with each check; failing and recovery are each announced once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding import tasks
from onboarding.checks import health as check_health
from onboarding.checks import schedule as check_schedule
from onboarding.models import AuditEvent, CheckRun, Mailbox
from tests.onboarding.check_helpers import configure, request_check, run_check

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
        check_health.record_health(run)
    assert health_of(mailbox) == "failing"
    assert AuditEvent.objects.filter(action="mailbox.health_changed").count() == 1


def test_it_rates_the_tenant_by_its_least_healthy_mailbox(acme, ready):
    first = configure(acme, ready)
    Mailbox.objects.create(tenant=acme, address="second@acme.example", health="degraded")
    Mailbox.objects.filter(pk=first.pk).update(health="healthy")
    assert check_health.tenant_recompute(acme.pk) == "degraded"
    acme.refresh_from_db()
    assert acme.health == "degraded"


PERIOD = 6 * 3600


def mailbox_with_slot(tenant, now, in_seconds: float, *, checked_hours_ago: float | None):
    """A verified mailbox whose re-check slot comes `in_seconds` after `now`."""
    slot = int(now.timestamp() + in_seconds) % PERIOD
    base = uuid.uuid4().int
    last = now - timedelta(hours=checked_hours_ago) if checked_hours_ago is not None else None
    return Mailbox.objects.create(
        id=uuid.UUID(int=base - base % PERIOD + slot),
        tenant=tenant,
        address=f"m{base % 10**9}@acme.example",
        last_success_at=last,
        last_checked_at=last,
    )


def test_it_rechecks_each_verified_mailbox_at_its_slot(acme, broker, settings):
    settings.PORTAL_RECHECK_HOURS = 6
    now = timezone.now().replace(microsecond=0)
    due = mailbox_with_slot(acme, now, 600, checked_hours_ago=5)
    mailbox_with_slot(acme, now, 2 * 3600, checked_hours_ago=5)  # slot in the next sweep
    mailbox_with_slot(acme, now, 600, checked_hours_ago=1)  # checked by hand: skips it
    mailbox_with_slot(acme, now, 600, checked_hours_ago=None)  # never verified
    with time_machine.travel(now, tick=False):
        runs = check_schedule.recheck_due()
        [run] = CheckRun.objects.all()
        assert runs == {run.pk: 600}
        assert (run.mailbox_id, run.trigger) == (due.pk, "schedule")
        assert check_schedule.recheck_due() == {}  # its run is still queued


def test_it_enqueues_a_check_for_its_slot_not_at_once(
    acme, broker, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_RECHECK_HOURS = 6
    now = timezone.now().replace(microsecond=0)
    mailbox_with_slot(acme, now, 1500, checked_hours_ago=6)
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.recheck_mailboxes() == 1
    assert [countdown for _, countdown in broker.queued] == [1500]


def test_it_catches_up_on_mailboxes_missed_for_two_periods_over_the_hour(
    acme, broker, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_RECHECK_HOURS = 6
    now = timezone.now().replace(microsecond=0)
    for _ in range(4):  # slots far away, but not checked for 13 hours (beat was down)
        mailbox_with_slot(acme, now, 4 * 3600, checked_hours_ago=13)
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.recheck_mailboxes() == 4
    assert sorted(countdown for _, countdown in broker.queued) == [0, 900, 1800, 2700]


def test_it_spreads_mailboxes_set_up_at_once_over_the_whole_period(acme, broker, settings):
    settings.PORTAL_RECHECK_HOURS = 6
    now = timezone.now().replace(microsecond=0)
    checked = now - timedelta(hours=3)
    Mailbox.objects.bulk_create(
        Mailbox(
            tenant=acme,
            address=f"m{n}@acme.example",
            last_success_at=checked,
            last_checked_at=checked,
        )
        for n in range(600)
    )
    per_sweep = []
    for hour in range(6):
        sweep = now + timedelta(hours=hour)
        with time_machine.travel(sweep, tick=False):
            per_sweep.append(len(check_schedule.recheck_due()))
        # The sweep's checks ran: done, and checked at their slot.
        CheckRun.objects.update(status="passed")
        Mailbox.objects.filter(check_runs__isnull=False).update(last_checked_at=sweep)
    assert sum(per_sweep) == 600
    assert CheckRun.objects.values("mailbox").distinct().count() == 600  # each once
    assert all(50 <= count <= 150 for count in per_sweep), per_sweep


def test_it_promotes_a_pending_secret_that_passes_and_then_records_health(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    from datetime import date

    from onboarding.models import ClientSecret

    mailbox = configure(acme, ready, secret_value="abc8Q~wrongwrongwrongwrongwrongwrongwr")
    fresh = emulated_microsoft.add_secret(ready.app)
    pending = ClientSecret(
        app=acme.app_registration, secret_id=fresh.key_id, expires_on=date(2027, 6, 1)
    )
    pending.set_value(fresh.value)
    pending.save()
    with django_capture_on_commit_callbacks(execute=True):
        run = request_check(mailbox=mailbox, trigger="renewal", secret=pending)
    run.refresh_from_db()
    assert (run.status, run.secret) == ("passed", pending)
    pending.refresh_from_db()
    # The renewal workflow (onboarding.renewal) makes the proved secret the active one;
    # only then is the mailbox's health what the check saw.
    assert pending.status == ClientSecret.Status.ACTIVE
    assert health_of(mailbox) == "healthy"


def test_it_leaves_health_alone_when_a_pending_secret_fails(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    from datetime import date

    from onboarding.models import ClientSecret

    mailbox = configure(acme, ready)
    pending = ClientSecret(
        app=acme.app_registration,
        secret_id="0b6c4c9e-4444-4b7e-9a1d-5b1c2d3e4f50",
        expires_on=date(2027, 6, 1),
    )
    pending.set_value("abc8Q~wrongwrongwrongwrongwrongwrongwr")
    pending.save()
    with django_capture_on_commit_callbacks(execute=True):
        run = request_check(mailbox=mailbox, trigger="renewal", secret=pending)
    run.refresh_from_db()
    pending.refresh_from_db()
    assert (run.status, pending.status) == ("failed", ClientSecret.Status.REJECTED)
    assert health_of(mailbox) == "unknown"
