"""Microsoft's real throttling answer, replayed through the portal's own code: a 429 with
Retry-After and a plain-text body "Too Many Requests" (not OAuth JSON), on which msal
fails decoding JSON. The portal reads the status first: transient, retried after
Retry-After, never "unexpected"."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding import microsoft
from onboarding.microsoft import MicrosoftError
from onboarding.models import CheckRun
from tests.onboarding.check_helpers import configure, request_check, steps
from tests.recordings import load

pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")

THROTTLED = load("token_throttled_plain_text")


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft, delegated=("Mail.Read",))


def app_token(ready) -> microsoft.AppToken:
    return microsoft.acquire_app_token(
        directory=ready.directory.id,
        client_id=ready.app.client_id,
        client_secret=ready.secret.value,
    )


def failure(call, *args, **kwargs) -> MicrosoftError:
    with pytest.raises(MicrosoftError) as raised:
        call(*args, **kwargs)
    return raised.value


def as_throttled(error: MicrosoftError) -> tuple[object, ...]:
    return (error.code, error.status, error.transient, error.retry_after)


def test_it_reads_the_plain_text_429_as_throttling_with_its_retry_after(emulated_microsoft, ready):
    THROTTLED.replay_into(emulated_microsoft)
    assert as_throttled(failure(app_token, ready)) == ("http_429", 429, True, 60.0)
    # After Retry-After (msal keeps the 429 that long), Microsoft answers and so does the
    # portal.
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
        assert app_token(ready).access_token


def test_it_reads_the_429_msal_replays_from_its_own_cache(emulated_microsoft, ready):
    # msal keeps a 429 for Retry-After seconds and answers the same request from it
    # without sending it: the portal sees that answer through msal's client, not the wire.
    THROTTLED.replay_into(emulated_microsoft)
    first, second = failure(app_token, ready), failure(app_token, ready)
    assert as_throttled(first) == as_throttled(second) == ("http_429", 429, True, 60.0)
    assert emulated_microsoft.counters()["requests"]["token"] == 1


def test_it_reads_a_throttled_discovery_as_throttling_without_asking_again(
    emulated_microsoft, ready
):
    # The first token request builds msal's app, which runs discovery: msal calls any
    # 4xx there a bad tenant (a ValueError).
    emulated_microsoft.replay(
        "discovery", status=429, body=THROTTLED.body, headers=THROTTLED.headers
    )
    assert as_throttled(failure(app_token, ready)) == ("http_429", 429, True, 60.0)
    assert emulated_microsoft.counters()["requests"]["discovery"] == 1


def test_it_reads_a_throttled_directory_lookup_as_throttling(emulated_microsoft, ready):
    emulated_microsoft.replay(
        "discovery", status=429, body=THROTTLED.body, headers=THROTTLED.headers
    )
    error = failure(microsoft.discover_directory, ready.directory.id)
    assert as_throttled(error) == ("http_429", 429, True, 60.0)


def test_it_reads_a_throttled_password_sign_in_as_throttling(emulated_microsoft, ready):
    microsoft.discover_directory(ready.directory.id)  # not the request throttled
    THROTTLED.replay_into(emulated_microsoft)
    error = failure(
        microsoft.sign_in_with_password,
        directory=ready.directory.id,
        client_id=ready.app.client_id,
        username=ready.mailbox.upn,
        password="Mailbox-pass-1",
    )
    assert as_throttled(error) == ("http_429", 429, True, 60.0)


@pytest.mark.django_db
def test_a_throttled_check_is_retried_after_retry_after_and_then_passes(
    acme, ready, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    THROTTLED.replay_into(emulated_microsoft)
    with django_capture_on_commit_callbacks(execute=True):
        run = request_check(mailbox=mailbox, trigger="wizard")
    broker.deliver()
    run.refresh_from_db()
    assert (run.status, steps(run)["token"]) == (CheckRun.Status.QUEUED, ("failed", "throttled"))
    [(_, countdown)] = broker.queued
    assert countdown >= 60  # never sooner than Microsoft asked
    # msal's own cache keeps the 429 for Retry-After seconds of real time.
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
        broker.deliver()
    run.refresh_from_db()
    assert (run.status, run.attempts) == (CheckRun.Status.PASSED, 2)
