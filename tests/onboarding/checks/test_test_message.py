"""The test message a check sends: what marks it (subject prefix, x- header), where it
goes (PORTAL_CHECK_SEND_TO), and when a scheduled re-check sends one at all
(PORTAL_RECHECK_SEND_DAYS), through the real task and msal against the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.checks import claim
from onboarding.checks import run as check_run
from onboarding.checks.results import (
    FAST_POLL_MS,
    IDLE_POLL_MS,
    SLOW_POLL_MS,
    TEST_HEADER,
    TEST_SUBJECT_PREFIX,
    poll_ms,
    status_context,
)
from onboarding.microsoft import acquire_app_token
from onboarding.models import AppRegistration, CheckRun, Mailbox
from tests.onboarding.check_helpers import configure, steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


@pytest.fixture
def mailbox(acme, ready) -> Mailbox:
    return configure(acme, ready)


def check(mailbox: Mailbox, trigger: str = CheckRun.Trigger.WIZARD) -> CheckRun:
    run = CheckRun.objects.create(mailbox=mailbox, trigger=trigger)
    finished = check_run.check_run(run.pk).finished
    assert finished is not None
    return finished


def inbox_of(emulated_microsoft, upn: str):
    user = next(u for d in emulated_microsoft.state.directories for u in d.users if u.upn == upn)
    return user.messages


def sent_a_run(mailbox: Mailbox, days_ago: float, outcome: str = "passed") -> CheckRun:
    finished = timezone.now() - timedelta(days=days_ago)
    return CheckRun.objects.create(
        mailbox=mailbox,
        trigger=CheckRun.Trigger.SCHEDULE,
        status=CheckRun.Status.PASSED if outcome == "passed" else CheckRun.Status.FAILED,
        created_at=finished,
        finished_at=finished,
        steps=[{"name": "send_test", "outcome": outcome}],
    )


# --- what the message carries --------------------------------------------------------


def test_the_test_message_carries_the_subject_prefix_and_the_x_header(
    mailbox, ready, emulated_microsoft
):
    run = check(mailbox)
    delivered = inbox_of(emulated_microsoft, ready.mailbox.upn)[-1]
    assert delivered.subject == f"{TEST_SUBJECT_PREFIX} Connection check {run.pk}"
    assert emulated_microsoft.store.headers_of(delivered) == {TEST_HEADER: str(run.pk)}
    assert TEST_HEADER.lower().startswith("x-")


def test_the_header_is_readable_through_graph_as_the_operations_app_would_filter(
    mailbox, ready, emulated_microsoft
):
    # Graph returns internetMessageHeaders on $select only, as the emulator does.
    run = check(mailbox)
    token = acquire_app_token(
        directory=ready.directory.id,
        client_id=ready.app.client_id,
        client_secret=ready.secret.value,
    ).access_token
    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulated_microsoft.ca_path)
    url = f"{emulated_microsoft.graph_url}/v1.0/users/{ready.mailbox.upn}/messages"
    headers = {"Authorization": f"Bearer {token}"}
    plain = session.get(url, headers=headers, params={"$top": "1"}).json()["value"][0]
    assert "internetMessageHeaders" not in plain
    selected = session.get(
        url, headers=headers, params={"$top": "1", "$select": "subject,internetMessageHeaders"}
    ).json()["value"][0]
    assert selected["internetMessageHeaders"] == [{"name": TEST_HEADER, "value": str(run.pk)}]


def test_portal_check_send_to_sends_the_test_outside_the_mailbox(
    acme, ready, emulated_microsoft, settings
):
    settings.PORTAL_CHECK_SEND_TO = ready.admin.upn
    mailbox = configure(acme, ready)
    before = len(inbox_of(emulated_microsoft, ready.mailbox.upn))
    run = check(mailbox)
    assert steps(run)["send_test"] == ("passed", "")
    # Nothing new in the inbox the operations app reads; the message is at the address.
    assert len(inbox_of(emulated_microsoft, ready.mailbox.upn)) == before
    delivered = inbox_of(emulated_microsoft, ready.admin.upn)[-1]
    assert delivered.to == [ready.admin.upn]
    assert delivered.subject.startswith(TEST_SUBJECT_PREFIX)
    assert status_context(run)["test_message"]["to"] == ready.admin.upn
    assert status_context(run)["test_message"]["to_itself"] is False


def test_by_default_the_pages_say_it_goes_to_the_mailbox_itself(mailbox, settings):
    settings.PORTAL_CHECK_SEND_TO = ""
    facts = status_context(check(mailbox))["test_message"]
    assert (facts["sender"], facts["to"], facts["to_itself"]) == (
        mailbox.address,
        mailbox.address,
        True,
    )
    assert facts["subject"] == f"{TEST_SUBJECT_PREFIX} Connection check"
    assert facts["header"] == TEST_HEADER


# --- when a scheduled re-check sends ------------------------------------------------


def decision(mailbox: Mailbox, trigger: str) -> claim.SendDecision:
    run = CheckRun.objects.create(mailbox=mailbox, trigger=trigger)
    return claim.test_message_due(run)


def test_a_scheduled_check_of_a_mailbox_never_sent_to_sends(mailbox):
    assert decision(mailbox, CheckRun.Trigger.SCHEDULE).send


def test_a_scheduled_check_six_days_after_the_last_message_does_not_send(mailbox, settings):
    settings.PORTAL_RECHECK_SEND_DAYS = 7
    last = sent_a_run(mailbox, days_ago=6)
    found = decision(mailbox, CheckRun.Trigger.SCHEDULE)
    assert not found.send
    assert found.last_sent_at == last.finished_at
    assert "at most every 7 days" in found.reason()


def test_a_scheduled_check_seven_days_after_the_last_message_sends(mailbox, settings):
    settings.PORTAL_RECHECK_SEND_DAYS = 7
    sent_a_run(mailbox, days_ago=7)
    assert decision(mailbox, CheckRun.Trigger.SCHEDULE).send


def test_a_send_that_failed_does_not_count_as_sent(mailbox, settings):
    settings.PORTAL_RECHECK_SEND_DAYS = 7
    sent_a_run(mailbox, days_ago=1, outcome="failed")
    assert decision(mailbox, CheckRun.Trigger.SCHEDULE).send


@pytest.mark.parametrize(
    "trigger",
    [CheckRun.Trigger.WIZARD, CheckRun.Trigger.SUPPORT, CheckRun.Trigger.RENEWAL],
)
def test_a_check_someone_asked_for_always_sends(mailbox, trigger):
    sent_a_run(mailbox, days_ago=0.01)
    assert decision(mailbox, trigger).send


def test_a_scheduled_check_that_skips_the_send_passes_and_says_why(
    mailbox, ready, emulated_microsoft
):
    sent_a_run(mailbox, days_ago=2)
    before = len(inbox_of(emulated_microsoft, ready.mailbox.upn))
    run = check(mailbox, CheckRun.Trigger.SCHEDULE)
    assert run.status == CheckRun.Status.PASSED
    assert steps(run) == {
        "token": ("passed", ""),
        "permissions": ("info", ""),
        "read_inbox": ("passed", ""),
        "send_test": ("skipped", ""),
    }
    skipped = next(step for step in run.steps if step["name"] == "send_test")
    assert skipped["message"].startswith("Not sent this time: a scheduled check sends")
    assert len(inbox_of(emulated_microsoft, ready.mailbox.upn)) == before
    mailbox.refresh_from_db()
    assert mailbox.health == "healthy"


def test_a_scheduled_check_that_did_not_send_confirms_no_consent(acme, mailbox):
    # Consent is confirmed by a check that read AND sent with the app's token.
    app = AppRegistration.objects.get(tenant=acme)
    AppRegistration.objects.filter(pk=app.pk).update(
        consent_granted_at=timezone.now() - timedelta(days=3), consent_confirmed_at=None
    )
    sent_a_run(mailbox, days_ago=1)
    assert steps(check(mailbox, CheckRun.Trigger.SCHEDULE))["send_test"][0] == "skipped"
    app.refresh_from_db()
    assert app.consent_confirmed_at is None
    assert steps(check(mailbox, CheckRun.Trigger.WIZARD))["send_test"][0] == "passed"
    app.refresh_from_db()
    assert app.consent_confirmed_at is not None


# --- how fast the live pages poll ----------------------------------------------------


def test_the_live_page_polls_fast_while_a_check_starts_then_backs_off(mailbox):
    with time_machine.travel("2026-12-01 10:00:00 +0000", tick=False) as clock:
        run = CheckRun.objects.create(mailbox=mailbox, trigger=CheckRun.Trigger.WIZARD)
        assert poll_ms(run) == FAST_POLL_MS
        clock.shift(timedelta(seconds=20))
        assert poll_ms(run) == SLOW_POLL_MS  # a slow check needs no four polls a second
        run.retry_at = timezone.now() + timedelta(seconds=60)
        assert poll_ms(run) == SLOW_POLL_MS  # waiting on a retry
        run.status = CheckRun.Status.PASSED
        assert poll_ms(run) == IDLE_POLL_MS


@pytest.mark.parametrize(
    "headers",
    [{"Mailbox-Portal-Check": "1"}, {f"x-{i}": "v" for i in range(6)}],
)
def test_the_portal_never_sends_headers_graph_would_refuse(headers):
    # Graph would refuse the whole message (InvalidInternetMessageHeader...): fail early.
    from onboarding.microsoft import send_test_message

    with pytest.raises(ValueError, match="x-"):
        send_test_message(
            access_token="unused",
            mailbox="m@example.com",
            to="m@example.com",
            subject="s",
            body="b",
            headers=headers,
        )


def test_the_worker_polls_the_file_broker_ten_times_a_second():
    # `make run`'s broker is a folder: the worker must not wait a second to start a check.
    from portal.celery import FILE_BROKER_POLLING_SECONDS, app

    if not str(app.conf.broker_url).startswith("filesystem:"):
        pytest.skip("REDIS_URL is set: Redis pushes tasks, nothing polls")
    with app.connection_for_write() as connection:
        options = connection.transport_options or {}
        assert options["polling_interval"] == FILE_BROKER_POLLING_SECONDS
    assert FILE_BROKER_POLLING_SECONDS <= 0.1
