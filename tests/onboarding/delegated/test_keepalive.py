"""Keep-alive: scheduled checks use each owner's sign-in at least daily, and a sign-in
the checks could not use for 76 days is warned about once, 14 days before Microsoft's
90-day limit (AADSTS700082), to the admins and the owner, with a Connect again link."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from onboarding.delegated import keepalive
from onboarding.models import CheckRun, MailboxSignIn
from onboarding.tasks import warn_idle_sign_ins
from tests.onboarding.check_helpers import run_check, steps
from tests.personal_mailbox import UPN

pytestmark = pytest.mark.django_db


def test_a_scheduled_check_refreshes_a_sign_in_last_used_over_a_day_ago(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks
):
    before = connected.reveal_refresh_token()
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1), tick=False):
        # The emulator's clock moves with the test's: its access token is still cached
        # in the portal (it lives an hour), yet the refresh token must be used.
        run = run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    assert run.status == CheckRun.Status.PASSED, run.steps
    after = MailboxSignIn.objects.get()
    assert after.reveal_refresh_token() != before
    assert after.refreshed_at > connected.refreshed_at + timedelta(days=1)


def test_an_idle_sign_in_is_warned_about_once_before_microsoft_ends_it(connected, personal):
    mail.outbox.clear()
    with time_machine.travel(timezone.now() + timedelta(days=75)):
        assert warn_idle_sign_ins() == 0
    with time_machine.travel(timezone.now() + timedelta(days=77)):
        assert warn_idle_sign_ins() == 1
        assert warn_idle_sign_ins() == 0  # once per idle period
    assert sorted(m.to[0] for m in mail.outbox) == sorted([UPN, "alice@acme.example"])
    ends = (connected.refreshed_at + keepalive.INACTIVITY_LIMIT).strftime("%-d %B %Y")
    body = mail.outbox[0].body
    assert f"this one on {ends}" in body
    assert "/onboarding/connect/" in body
    assert MailboxSignIn.objects.get().reveal_refresh_token() not in body


def test_a_refresh_after_a_warning_starts_a_new_period(connected, personal):
    with time_machine.travel(timezone.now() + timedelta(days=77)):
        assert warn_idle_sign_ins() == 1
        MailboxSignIn.objects.update(refreshed_at=timezone.now())
    with time_machine.travel(timezone.now() + timedelta(days=77 + 77)):
        assert warn_idle_sign_ins() == 1


def test_a_scheduled_check_the_same_day_uses_no_refresh(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks
):
    emulated_microsoft.reset_counters()
    run = run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    assert steps(run)["owner_token"] == ("passed", "")
    assert emulated_microsoft.counters()["requests"].get("token", 0) == 0


def test_a_sign_in_unused_for_90_days_ends_with_its_diagnosis(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks
):
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        run = run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    assert steps(run) == {"owner_token": ("failed", "sign_in_expired")}
    assert run.error_code == "AADSTS700082"
