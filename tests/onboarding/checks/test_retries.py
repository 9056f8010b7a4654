"""Retries: transient failures come back after max(Retry-After, backoff), permanent ones
fail at once, and two runs of one mailbox never overlap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.checks import claim as check_claim
from onboarding.checks import run as check_run
from onboarding.checks.claim import retry_delay
from onboarding.models import CheckRun
from tests.onboarding.check_helpers import configure, request_check, steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(acme, emulated_microsoft):
    return configure(acme, ready_directory(emulated_microsoft))


def request(mailbox, capture) -> CheckRun:
    with capture(execute=True):
        return request_check(mailbox=mailbox, trigger="wizard")


def deliver_all(broker) -> list[float]:
    countdowns = []
    while broker.queued:
        countdowns.append(broker.deliver())
    return countdowns


def test_it_retries_a_throttled_read_after_retry_after_and_then_passes(
    mailbox, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    emulated_microsoft.set_fault("graph.messages", throttle_share=1.0, retry_after=7)
    run = request(mailbox, django_capture_on_commit_callbacks)
    broker.deliver()
    run.refresh_from_db()
    assert (run.status, steps(run)["read_inbox"]) == ("queued", ("failed", "throttled"))
    assert run.retry_at is not None
    # Not re-run sooner than Microsoft asked: nothing reaches it before the countdown.
    [(_, countdown)] = broker.queued
    assert countdown >= 7
    assert emulated_microsoft.counters()["requests"]["graph.messages"] == 1
    emulated_microsoft.clear_faults()
    broker.deliver()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("passed", 2)


def test_it_gives_up_on_persistent_throttling_after_the_configured_attempts(
    mailbox, emulated_microsoft, broker, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_CHECK_MAX_ATTEMPTS = 3
    emulated_microsoft.set_fault("graph.messages", throttle_share=1.0, retry_after=1)
    run = request(mailbox, django_capture_on_commit_callbacks)
    deliver_all(broker)
    run.refresh_from_db()
    assert (run.status, run.attempts, run.diagnosis_key) == ("failed", 3, "throttled")
    assert emulated_microsoft.counters()["requests"]["graph.messages"] == 3


def test_it_retries_server_errors_then_reports_microsoft_unreachable(
    mailbox, emulated_microsoft, broker, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_CHECK_MAX_ATTEMPTS = 2
    emulated_microsoft.set_fault("token", error_share=1.0, error_status=503)
    run = request(mailbox, django_capture_on_commit_callbacks)
    assert len(deliver_all(broker)) == 2
    run.refresh_from_db()
    assert (run.status, run.diagnosis_key, run.error_code) == ("failed", "unreachable", "http_503")


def test_it_reports_microsoft_unreachable(
    mailbox, broker, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_CHECK_MAX_ATTEMPTS = 1
    settings.MICROSOFT_LOGIN_URL = "https://127.0.0.1:9"
    run = request(mailbox, django_capture_on_commit_callbacks)
    deliver_all(broker)
    run.refresh_from_db()
    assert steps(run)["token"] == ("failed", "unreachable")
    assert run.error_code == "unreachable"


def test_it_fails_a_permanent_error_at_once(
    acme, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready, secret_value="abc8Q~wrongwrongwrongwrongwrongwrongwr")
    run = request(mailbox, django_capture_on_commit_callbacks)
    assert len(deliver_all(broker)) == 1
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("failed", 1)


def test_it_waits_while_another_run_of_the_mailbox_is_running(
    mailbox, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    CheckRun.objects.create(
        mailbox=mailbox, trigger="support", status="running", started_at=timezone.now()
    )
    run = CheckRun.objects.create(mailbox=mailbox, trigger="wizard")
    delay = check_run.check_run(run.pk).retry_in
    assert delay is not None
    assert delay >= check_claim.BUSY_DELAY_SECONDS
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("queued", 0)
    assert emulated_microsoft.counters()["requests"] == {}


def test_it_hands_back_a_run_whose_worker_died(mailbox, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    dead = CheckRun.objects.create(
        mailbox=mailbox, trigger="wizard", status="running", started_at=long_ago, attempts=1
    )
    assert check_run.check_run(dead.pk).finished == dead
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("passed", 2)


def test_it_ignores_a_finished_or_unknown_run(mailbox):
    done = CheckRun.objects.create(mailbox=mailbox, trigger="wizard", status="passed")
    assert check_run.check_run(done.pk) == check_run.Attempt()
    assert check_run.check_run("6b1f3f0e-0000-4000-8000-000000000009") == check_run.Attempt()


def test_it_backs_off_exponentially_with_jitter():
    for attempt in (1, 2, 3, 4):
        ceiling = check_claim.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
        delays = [retry_delay(attempt, None) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1


def test_it_never_retries_sooner_than_retry_after_and_caps_the_backoff():
    assert retry_delay(1, 30.0) >= 30.0
    assert retry_delay(30, None) <= check_claim.BACKOFF_CAP_SECONDS
