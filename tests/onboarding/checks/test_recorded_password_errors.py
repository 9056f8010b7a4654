"""Microsoft's recorded refusals of a mailbox password (tests/recordings/token_password_*),
replayed through the portal: the password sign-in on its own and the password step of a
check. Each comes out as its AADSTS code, the catalogue's diagnosis for it and Microsoft's
own words without the trace trailer ("Trace ID: ... Correlation ID: ... Timestamp: ...")."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from microsoft_emulator.scenarios import ready_directory
from onboarding import microsoft
from onboarding.checks import results as check_results
from onboarding.diagnosis import CATALOGUE, diagnose
from onboarding.microsoft import MicrosoftError
from onboarding.models import CheckRun
from tests.onboarding.check_helpers import configure, run_check, steps
from tests.recordings import Recording, load

pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")

# (recording, the code the portal reads from it, the catalogue's diagnosis)
RECORDED = [
    ("token_password_invalid_credentials", "AADSTS50126", "wrong_password"),
    ("token_password_user_not_found", "AADSTS50034", "wrong_password"),
    ("token_password_account_locked", "AADSTS50053", "account_locked"),
    ("token_password_account_disabled", "AADSTS50057", "account_disabled"),
    ("token_password_expired", "AADSTS50055", "password_expired"),
    ("token_password_mfa_required", "AADSTS50076", "mfa_required"),
    ("token_refresh_mfa_required", "AADSTS50076", "mfa_required"),
    ("token_password_mfa_registration_required", "AADSTS50079", "mfa_required"),
    ("token_password_blocked_by_conditional_access", "AADSTS53003", "mfa_required"),
    ("token_password_no_delegated_consent", "AADSTS65001", "delegated_consent_missing"),
]
NAMES = [name for name, _, _ in RECORDED]

# The trailer comes after CR LF (older answers, the docs) or after a space (newer ones).
_TRAILER = re.compile(r"(\r\n|\s)+Trace ID:.*", re.DOTALL)


def microsoft_words(recorded: Recording) -> str:
    """The recorded error_description up to its trace trailer (or its trailing CR LF)."""
    return _TRAILER.sub("", recorded.json()["error_description"]).strip()


@pytest.fixture
def delegated(emulated_microsoft):
    return ready_directory(emulated_microsoft, delegated=("Mail.Read", "Mail.Send"))


def sign_in(ready) -> MicrosoftError:
    with pytest.raises(MicrosoftError) as raised:
        microsoft.sign_in_with_password(
            directory=ready.directory.id,
            client_id=ready.app.client_id,
            username=ready.mailbox.upn,
            password="Mailbox-pass-1",
        )
    return raised.value


def token_requests(emulator) -> int:
    return emulator.counters()["requests"].get("token", 0)


@pytest.mark.parametrize(("name", "code", "key"), RECORDED, ids=NAMES)
def test_it_reads_the_recorded_refusal_as_microsoft_meant_it(
    emulated_microsoft, delegated, name, code, key
):
    recorded = load(name)
    recorded.replay_into(emulated_microsoft)
    error = sign_in(delegated)
    assert (error.code, error.status, error.transient) == (code, recorded.status, False)
    assert error.message == microsoft_words(recorded)
    assert "Trace ID" not in error.message
    assert not error.message.endswith("\r\n")
    assert error.correlation_id == recorded.json().get("correlation_id", "")
    assert diagnose(error.code, error.message).key == key
    # The password went to the token endpoint once, and got the recording.
    assert emulated_microsoft.counters()["injected"] == {"token:replay": 1}
    assert token_requests(emulated_microsoft) == 1


def test_it_reads_the_code_from_the_message_when_error_codes_are_missing(
    emulated_microsoft, delegated
):
    # As posted, this body has no error_codes: only its message names AADSTS50076.
    recorded = load("token_password_mfa_required")
    assert "error_codes" not in recorded.json()
    recorded.replay_into(emulated_microsoft)
    error = sign_in(delegated)
    assert (error.code, diagnose(error.code).key) == ("AADSTS50076", "mfa_required")
    assert error.message.startswith("AADSTS50076: Due to a configuration change")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "code", "key"), RECORDED, ids=NAMES)
def test_it_fails_only_the_password_step_of_a_check_with_the_recorded_refusal(
    acme, delegated, emulated_microsoft, django_capture_on_commit_callbacks, name, code, key
):
    # The app-only token first, so that the (scheduled) check's token step is answered
    # from msal's cache and the one token request it sends is the password sign-in.
    microsoft.acquire_app_token(
        directory=delegated.directory.id,
        client_id=delegated.app.client_id,
        client_secret=delegated.secret.value,
    )
    recorded = load(name)
    recorded.replay_into(emulated_microsoft)
    mailbox = configure(acme, delegated, password="Mailbox-pass-1")
    run = run_check(mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    assert run.status == CheckRun.Status.FAILED
    recorded_steps = steps(run)
    assert [recorded_steps[step] for step in ("token", "read_inbox", "send_test")] == [
        ("passed", "")
    ] * 3
    assert recorded_steps["password_sign_in"] == ("failed", key)
    assert (run.diagnosis_key, run.error_code) == (key, code)
    assert run.attempts == 1  # a refused password is permanent: not retried
    step = run.steps[-1]
    assert step["message"] == microsoft_words(recorded)
    assert step["correlation_id"] == recorded.json().get("correlation_id", "")
    found = check_results.step_diagnosis(step)
    assert found is not None
    assert (found.key, found.wizard_step) == (key, CATALOGUE[key].wizard_step)
    assert emulated_microsoft.counters()["injected"] == {"token:replay": 1}
    mailbox.refresh_from_db()
    assert mailbox.health == "degraded"


@pytest.mark.django_db
def test_it_shows_the_recorded_expired_password_with_its_fix_and_microsofts_code(
    client, alice, acme, delegated, emulated_microsoft, django_capture_on_commit_callbacks
):
    microsoft.acquire_app_token(
        directory=delegated.directory.id,
        client_id=delegated.app.client_id,
        client_secret=delegated.secret.value,
    )
    load("token_password_expired").replay_into(emulated_microsoft)
    mailbox = configure(acme, delegated, password="Mailbox-pass-1")
    run = run_check(mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    client.force_login(alice)
    page = client.get(reverse("checks:mailbox-check", kwargs={"mailbox_id": mailbox.pk}))
    body = page.content.decode()
    assert CATALOGUE["password_expired"].title in body
    assert "Microsoft's code: <code>AADSTS50055</code>" in body
    assert "c7fe4a42-67e4-4acd-9fb6-f4fb6db76d6a" in body  # the recorded correlation ID
    assert run.steps[-1]["message"] == "AADSTS50055: Password is expired."


def test_it_diagnoses_the_documented_security_defaults_refusal_as_mfa():
    # No response for AADSTS530035 was found; its documented words, and the code.
    documented = load("token_password_blocked_by_security_defaults").statement
    words = documented.split(" - ", 1)[1].split(". ")[0] + "."
    assert words == "Access has been blocked by security defaults."
    found = diagnose("AADSTS530035", f"AADSTS530035: {words}")
    assert found.key == "mfa_required"
    assert "security defaults" in found.explanation


def test_it_diagnoses_the_newer_lockout_message_as_a_locked_account():
    quoted = load("token_password_account_locked_message").statement
    code = quoted.split(":", 1)[0]
    assert (code, diagnose(code, quoted).key) == ("AADSTS50053", "account_locked")
