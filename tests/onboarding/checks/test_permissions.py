"""Permissions through the check's real path (task, msal, the emulator): the roles in the
token are a hint, Graph's answers decide, and a consent granted moments ago is waited for.

Recordings: tests/recordings/exchange_rbac_for_applications.json (access granted in
Exchange, no roles in the token), token_roles_not_for_clients.json,
graph_access_denied_without_mail_permission.json, graph_sendmail_no_permissions_in_
access_token.json, consent_propagation_token_without_roles.json.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.checks import settling
from onboarding.models import AppRegistration, CheckRun
from tests.onboarding.check_helpers import (
    configure,
    request_check,
    run_check,
    steps,
    through_the_wizard,
)
from tests.recordings import load

pytestmark = pytest.mark.django_db

FULL_ACCESS = "Application Mail Full Access"


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


# --- access granted in Exchange: no roles in the token ---------------------------------


def test_it_passes_a_mailbox_exchange_grants_to_an_app_without_roles(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    # The RBAC for Applications set-up: Entra consent removed, Exchange grants the mailbox.
    ready = ready_directory(emulated_microsoft, consent=False)
    emulated_microsoft.add_exchange_role_assignment(
        ready.app, ready.directory, FULL_ACCESS, [ready.mailbox.upn]
    )
    mailbox = configure(acme, ready)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.PASSED, run.steps
    assert steps(run) == {
        "token": ("passed", ""),
        "permissions": ("info", ""),
        "read_inbox": ("passed", ""),
        "send_test": ("passed", ""),
    }
    assert run.steps[1]["message"].startswith("Roles in the token: none.")
    mailbox.refresh_from_db()
    assert mailbox.health == "healthy"


def test_a_token_without_roles_that_graph_accepts_stays_in_the_cache(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft, consent=False)
    emulated_microsoft.add_exchange_role_assignment(ready.app, ready.directory, FULL_ACCESS)
    mailbox = configure(acme, ready)
    for _ in range(3):  # scheduled re-checks: they take the cached token while it lasts
        run = run_check(mailbox, django_capture_on_commit_callbacks, trigger="schedule")
        assert run.status == "passed"
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id.lower(): 1}


def test_it_reads_a_mailbox_outside_the_exchange_grant_as_missing_consent(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft, consent=False)
    emulated_microsoft.add_exchange_role_assignment(
        ready.app, ready.directory, FULL_ACCESS, [ready.admin.upn]
    )
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", "no_consent")
    assert steps(run)["send_test"] == ("failed", "no_consent")
    assert run.error_code == "ErrorAccessDenied"


def test_it_names_the_missing_role_when_exchange_grants_only_reading(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft, consent=False)
    emulated_microsoft.add_exchange_role_assignment(
        ready.app, ready.directory, "Application Mail.Read"
    )
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("passed", "")
    # No role at all in the token: nothing tells the two permissions apart.
    assert steps(run)["send_test"] == ("failed", "no_consent")


# --- Microsoft's recorded refusals --------------------------------------------------


@pytest.mark.parametrize(("consented", "key"), [(False, "no_consent"), (True, "access_denied")])
def test_it_judges_graphs_recorded_403_by_the_roles_in_the_token(
    acme, emulated_microsoft, django_capture_on_commit_callbacks, consented, key
):
    ready = ready_directory(emulated_microsoft, consent=consented)
    load("graph_access_denied_without_mail_permission").replay_into(emulated_microsoft)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", key)
    assert run.error_code == "ErrorAccessDenied"


def test_it_reads_no_permissions_in_access_token_as_missing_consent(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    # Graph's other answer to a token without roles is a 401, not a 403.
    load("graph_sendmail_no_permissions_in_access_token").replay_into(emulated_microsoft)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert steps(run)["send_test"] == ("failed", "no_consent")
    assert run.error_code == "NoPermissionsInAccessToken"


def test_a_cached_token_refused_for_lack_of_roles_is_replaced_once(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft, consent=False)
    mailbox = configure(acme, ready)
    run_check(mailbox, django_capture_on_commit_callbacks)  # caches a token without roles
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", "no_consent")
    # The second check's cached token was refused and replaced, once, not per step.
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id.lower(): 2}


# --- a consent granted moments ago ----------------------------------------------------


@pytest.fixture
def just_consented(acme, emulated_microsoft):
    """Consent granted now, in the emulator and in the portal; Microsoft's tokens get the
    roles two minutes later."""
    emulated_microsoft.set_consent_propagation(120)
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    return mailbox


def request(mailbox, capture) -> CheckRun:
    with capture(execute=True):
        return request_check(mailbox=mailbox, trigger="wizard")


def test_it_waits_for_a_consent_just_granted_and_then_passes(
    just_consented, emulated_microsoft, broker, client, alice, django_capture_on_commit_callbacks
):
    run = request(just_consented, django_capture_on_commit_callbacks)
    broker.deliver()
    run.refresh_from_db()
    assert run.status == "queued"
    assert steps(run)["read_inbox"] == ("failed", "consent_propagating")
    [(_, countdown)] = broker.queued
    assert countdown == settling.CONSENT_RETRY_SECONDS
    client.force_login(alice)
    fragment = client.get(reverse("checks:check-status", args=[run.pk])).content.decode()
    expected = timezone.localtime(run.retry_at).strftime("%H:%M")
    assert (
        "Microsoft is still applying the consent granted a moment ago; "
        f"trying again at {expected}." in fragment
    )
    emulated_microsoft.advance_clock(settling.CONSENT_RETRY_SECONDS + 40)
    broker.deliver()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("passed", 2), run.steps


def test_it_stops_waiting_after_the_attempts_and_says_consent_is_missing(
    just_consented, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    emulated_microsoft.set_consent_propagation(3600)
    run = request(just_consented, django_capture_on_commit_callbacks)
    while broker.queued:
        broker.deliver()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.diagnosis_key) == ("failed", 4, "no_consent")
    assert steps(run)["send_test"] == ("failed", "no_consent")


def test_it_waits_at_most_five_minutes_in_all(
    just_consented, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    emulated_microsoft.set_consent_propagation(3600)
    run = request(just_consented, django_capture_on_commit_callbacks)
    broker.deliver()
    with time_machine.travel(timezone.now() + timedelta(minutes=4)):
        broker.deliver()  # another 90 s would end past the five minutes
    run.refresh_from_db()
    assert (run.status, run.attempts, run.diagnosis_key) == ("failed", 2, "no_consent")
    assert not broker.queued


def test_it_does_not_wait_when_the_consent_is_not_recent(
    just_consented, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    AppRegistration.objects.update(consent_granted_at=timezone.now() - timedelta(hours=1))
    run = request(just_consented, django_capture_on_commit_callbacks)
    broker.deliver()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.diagnosis_key) == ("failed", 1, "no_consent")
