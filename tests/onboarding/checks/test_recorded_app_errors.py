"""Microsoft's recorded refusals of the application, its secret and its directory, and
Graph's of its token and its pace (tests/recordings), replayed into the emulated cloud
and read through the portal's own code: the MicrosoftError code, the diagnosis the portal
derives, and Microsoft's own words shown without their trace trailer."""

from __future__ import annotations

import re
from typing import Any

import pytest

from microsoft_emulator.scenarios import ready_directory
from onboarding import microsoft
from onboarding.diagnosis import diagnose
from onboarding.microsoft import MicrosoftError
from onboarding.models import CheckRun
from tests.onboarding.check_helpers import configure, request_check, run_check, steps
from tests.recordings import Recording, load

pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")

TRAILER = re.compile(r"\s+Trace ID:.*", re.DOTALL)


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft, delegated=("Mail.Read",))


def words(recorded: Recording) -> str:
    """Microsoft's message in the recording, up to its Trace ID trailer."""
    return TRAILER.sub("", recorded.json()["error_description"])


def step(run: CheckRun, name: str) -> dict[str, Any]:
    return next(entry for entry in run.steps if entry["name"] == name)


def failure(call, *args, **kwargs) -> MicrosoftError:
    with pytest.raises(MicrosoftError) as raised:
        call(*args, **kwargs)
    return raised.value


# --- the token step of a check -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "code", "key"),
    [
        ("token_unknown_client_id", "AADSTS700016", "app_not_found"),
        ("token_invalid_client_secret", "AADSTS7000215", "wrong_secret"),
        ("token_expired_client_secret", "AADSTS7000222", "secret_expired"),
        ("token_client_is_public", "AADSTS700025", "no_credential_in_entra"),
        ("token_malformed_tenant", "AADSTS900023", "directory_malformed"),
    ],
)
def test_it_diagnoses_the_recorded_token_refusal(
    name, code, key, acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    recorded = load(name)
    recorded.replay_into(emulated_microsoft)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    token = step(run, "token")
    assert run.status == CheckRun.Status.FAILED
    assert (run.error_code, run.diagnosis_key) == (code, key)
    assert (token["outcome"], token["code"], token["diagnosis_key"]) == ("failed", code, key)
    assert token["message"] == words(recorded)
    assert "Trace ID" not in token["message"]
    assert run.correlation_id == recorded.json().get("correlation_id", "")
    assert run.attempts == 1  # permanent: not retried
    assert emulated_microsoft.counters()["injected"] == {"token:replay": 1}


@pytest.mark.django_db
def test_it_diagnoses_the_recorded_unknown_tenant_behind_msals_value_error(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    # msal turns the discovery's 400 into a ValueError; the portal asks discovery once
    # more for Microsoft's own answer. Both requests get the recording.
    recorded = load("discovery_tenant_not_found")
    recorded.replay_into(emulated_microsoft, times=2)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    token = step(run, "token")
    assert (run.error_code, run.diagnosis_key) == ("AADSTS90002", "directory_not_found")
    assert token["message"] == words(recorded)
    # The 2025 trailer is separated by spaces, not CR LF: it is cut all the same.
    assert token["message"].endswith("no active subscriptions for the tenant.")
    assert run.correlation_id == "0774b819-134d-4815-9573-a31a98397420"
    assert emulated_microsoft.counters()["injected"] == {"discovery:replay": 2}


def test_it_reads_the_recorded_unknown_tenant_when_looking_the_directory_up(
    emulated_microsoft, ready
):
    recorded = load("discovery_tenant_not_found")
    recorded.replay_into(emulated_microsoft)
    error = failure(microsoft.discover_directory, ready.directory.id)
    assert (error.code, error.status, error.transient) == ("AADSTS90002", 400, False)
    assert error.message == words(recorded)
    assert diagnose(error.code, error.message).key == "directory_not_found"


# --- the password sign-in ------------------------------------------------------------


def sign_in(ready, directory: str = "") -> MicrosoftError:
    return failure(
        microsoft.sign_in_with_password,
        directory=directory or ready.directory.id,
        client_id=ready.app.client_id,
        username=ready.mailbox.upn,
        password="Mailbox-pass-1",
    )


def test_it_diagnoses_the_recorded_aadsts7000218_of_a_password_sign_in(emulated_microsoft, ready):
    recorded = load("token_public_client_flows_disabled")
    recorded.replay_into(emulated_microsoft)
    error = sign_in(ready)
    assert (error.code, error.status, error.transient) == ("AADSTS7000218", 401, False)
    assert error.message == words(recorded)
    assert error.correlation_id == "51a39edf-8fd5-4fed-81c6-ac744e08b654"
    found = diagnose(error.code, error.message, status=error.status)
    assert found.key == "public_client_disabled"
    assert found.microsoft_message == words(recorded)


def test_it_diagnoses_aadsts9001023_in_microsofts_recorded_words(emulated_microsoft, ready):
    # No response of Microsoft's was found for this one, only its words as MSAL.NET
    # relayed them: the emulator's own answer, held to those words, stands in.
    quoted = load("token_grant_not_supported_on_common").statement.splitlines()[0]
    error = sign_in(ready, directory="consumers")
    assert error.code == "AADSTS9001023"
    assert error.message == quoted.removeprefix("InnerException : ")
    assert diagnose(error.code, error.message).key == "personal_account"


# --- Microsoft Graph ---------------------------------------------------------------


@pytest.mark.django_db
def test_it_diagnoses_the_recorded_invalid_audience_on_the_inbox_read(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    recorded = load("graph_invalid_authentication_token_audience")
    recorded.replay_into(emulated_microsoft)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    read = step(run, "read_inbox")
    assert (read["outcome"], read["code"], read["diagnosis_key"]) == (
        "failed",
        "InvalidAuthenticationToken",
        "token_rejected",
    )
    assert read["message"] == recorded.json()["error"]["message"]
    assert read["correlation_id"] == "49fef2a7-61c7-4529-9ee8-539a352c2f59"
    # A fresh token that Graph refuses is not asked for again; the next step goes on.
    assert steps(run)["send_test"] == ("passed", "")
    assert emulated_microsoft.counters()["requests"]["token"] == 1
    assert (run.status, run.diagnosis_key) == (CheckRun.Status.FAILED, "token_rejected")


def app_token(ready) -> str:
    return microsoft.acquire_app_token(
        directory=ready.directory.id,
        client_id=ready.app.client_id,
        client_secret=ready.secret.value,
    ).access_token


def test_it_reads_graphs_documented_429_as_throttling_with_its_retry_after(
    emulated_microsoft, ready
):
    access = app_token(ready)
    load("graph_throttled_documented").replay_into(emulated_microsoft)
    error = failure(microsoft.read_inbox, access_token=access, mailbox=ready.mailbox.upn)
    assert (error.code, error.status, error.transient, error.retry_after) == (
        "TooManyRequests",
        429,
        True,
        10.0,
    )
    assert error.message == "Please retry again later."
    assert error.correlation_id == "94fb3b52-452a-4535-a601-69e0a90e3aa2"
    assert diagnose(error.code, error.message, status=error.status).key == "throttled"


def test_it_reads_the_recorded_application_throttled_without_inner_error(emulated_microsoft, ready):
    access = app_token(ready)
    load("graph_messages_application_throttled").replay_into(emulated_microsoft)
    error = failure(microsoft.read_inbox, access_token=access, mailbox=ready.mailbox.upn)
    # No innerError, no Retry-After: the code and message still say what happened.
    assert (error.code, error.status, error.transient, error.retry_after) == (
        "ApplicationThrottled",
        429,
        True,
        None,
    )
    assert error.message == "Application is over its MailboxConcurrency limit."
    assert error.correlation_id == ""
    assert diagnose(error.code, error.message, status=error.status).key == "throttled"


@pytest.mark.django_db
def test_a_check_throttled_as_documented_waits_its_retry_after_and_then_passes(
    acme, ready, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    load("graph_throttled_documented").replay_into(emulated_microsoft)
    with django_capture_on_commit_callbacks(execute=True):
        run = request_check(mailbox=mailbox, trigger="wizard")
    broker.deliver()
    run.refresh_from_db()
    assert (run.status, steps(run)["read_inbox"]) == (
        CheckRun.Status.QUEUED,
        ("failed", "throttled"),
    )
    [(_, countdown)] = broker.queued
    assert countdown >= 10  # never sooner than Microsoft asked
    broker.deliver()
    run.refresh_from_db()
    assert (run.status, run.attempts) == (CheckRun.Status.PASSED, 2)
