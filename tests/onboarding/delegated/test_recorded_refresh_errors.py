"""Microsoft's recorded refusals of a refresh token (tests/recordings/), replayed
through the portal's check of a connected Outlook.com mailbox: each fails the owner's
sign-in step with the sign-in's own diagnosis ("Connect again" in step 5), keeps the
refresh token stored as it was, and is not retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from onboarding.checks import results as check_results
from onboarding.diagnosis import CATALOGUE
from onboarding.models import CheckRun, MailboxSignIn
from onboarding.steps import MAILBOX
from tests.onboarding.check_helpers import run_check, steps
from tests.onboarding.checks.test_recorded_password_errors import microsoft_words
from tests.recordings import load

pytestmark = pytest.mark.django_db

# (recording, the code the portal reads from it, the sign-in's diagnosis)
RECORDED = [
    ("token_refresh_revoked_password_change", "AADSTS50173", "sign_in_revoked"),
    ("token_refresh_malformed", "AADSTS70000", "sign_in_revoked"),
    ("token_refresh_inactive", "AADSTS700082", "sign_in_expired"),
    ("token_refresh_mfa_required", "AADSTS50076", "sign_in_interaction"),
    ("token_password_mfa_registration_required", "AADSTS50079", "sign_in_interaction"),
    ("token_password_blocked_by_conditional_access", "AADSTS53003", "sign_in_interaction"),
    ("token_password_no_delegated_consent", "AADSTS65001", "sign_in_consent_withdrawn"),
    ("token_password_account_disabled", "AADSTS50057", "sign_in_blocked"),
    ("token_password_account_locked", "AADSTS50053", "sign_in_blocked"),
]


@pytest.mark.parametrize(("name", "code", "key"), RECORDED, ids=[n for n, _, _ in RECORDED])
def test_a_recorded_refusal_of_the_refresh_fails_the_owners_sign_in_with_its_fix(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks, name, code, key
):
    stored = bytes(MailboxSignIn.objects.get(pk=connected.pk).refresh_token_ciphertext)
    recorded = load(name)
    recorded.replay_into(emulated_microsoft)
    run = run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="support")
    assert run.status == CheckRun.Status.FAILED
    assert steps(run) == {"owner_token": ("failed", key)}
    assert (run.diagnosis_key, run.error_code, run.attempts) == (key, code, 1)
    step = run.steps[0]
    assert step["message"] == microsoft_words(recorded)
    found = check_results.step_diagnosis(step)
    assert found is not None
    assert (found.key, found.wizard_step) == (key, MAILBOX)
    assert found.title == CATALOGUE[key].title
    assert emulated_microsoft.counters()["injected"] == {"token:replay": 1}
    # Nothing half-stored: the refresh token is the one from before the refusal.
    assert bytes(MailboxSignIn.objects.get(pk=connected.pk).refresh_token_ciphertext) == stored


def test_a_throttled_refresh_in_plain_text_is_retried_not_diagnosed(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks, broker
):
    load("token_throttled_plain_text").replay_into(emulated_microsoft)
    run = run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="support")
    broker.deliver()  # the first attempt: Microsoft throttles the refresh
    run.refresh_from_db()
    assert run.status == CheckRun.Status.QUEUED  # handed back for a retry
    assert [step["diagnosis_key"] for step in run.steps] == ["throttled"]
    assert run.retry_at is not None
    # At the retry's time (after Retry-After: msal replays a 429 until then, as it should)
    # Microsoft answers again and the retry passes.
    with time_machine.travel(run.retry_at + timedelta(seconds=1)):
        broker.deliver()
    run.refresh_from_db()
    assert run.status == CheckRun.Status.PASSED, run.steps


def test_a_failing_token_endpoint_is_retried_not_diagnosed(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks, broker
):
    emulated_microsoft.set_fault("token", error_share=1.0, error_status=503)
    run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="support")
    broker.deliver()
    emulated_microsoft.clear_faults()
    run = personal.mailbox.check_runs.latest("created_at")
    assert run.status == CheckRun.Status.QUEUED
    assert [step["diagnosis_key"] for step in run.steps] == ["unreachable"]
    stored = bytes(MailboxSignIn.objects.get().refresh_token_ciphertext)
    # msal answers a 5xx from its throttling cache for a minute (its http_cache, as
    # it should): the retry after that reaches Microsoft.
    with time_machine.travel(run.retry_at + timedelta(seconds=61)):
        broker.deliver()
    run.refresh_from_db()
    assert run.status == CheckRun.Status.PASSED, run.steps
    assert bytes(MailboxSignIn.objects.get().refresh_token_ciphertext) != stored
