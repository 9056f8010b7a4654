"""The check, through the real task and real msal against the emulator: one test per
error the guide's steps can produce."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.conf import settings
from django.db import connection

from microsoft_emulator.scenarios import ready_directory
from onboarding.checks import results as check_results
from onboarding.checks import run as check_run
from onboarding.checks.claim import check_request
from onboarding.checks.run import TEST_SUBJECT
from onboarding.models import CheckRun, Mailbox
from tests.canary import assert_absent_from_database
from tests.onboarding.check_helpers import configure, run_check, steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


def test_it_passes_every_step_for_a_directory_set_up_as_the_guide_says(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.PASSED
    assert steps(run) == {
        "token": ("passed", ""),
        "permissions": ("info", ""),
        "read_inbox": ("passed", ""),
        "send_test": ("passed", ""),
    }
    assert run.steps[1]["message"] == "Roles in the token: Mail.Read, Mail.Send."
    assert all(step["duration_ms"] >= 0 for step in run.steps)
    assert run.started_at
    assert run.finished_at
    assert run.attempts == 1


def test_it_sends_the_test_message_to_the_mailbox_itself_without_keeping_it(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    user = emulated_microsoft.state.directories[0].users[1]
    assert [m.subject for m in user.messages][-1] == TEST_SUBJECT.format(id=run.pk)
    assert "portal" in TEST_SUBJECT.lower()
    assert user.sent == []


def test_it_requests_one_token_per_credential_for_many_scheduled_checks(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    for _ in range(5):
        run = run_check(mailbox, django_capture_on_commit_callbacks, trigger="schedule")
        assert run.status == "passed"
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id.lower(): 1}


@pytest.mark.parametrize("trigger", ["wizard", "support"])
def test_a_check_someone_asks_for_finds_a_secret_deleted_in_entra_at_once(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks, trigger
):
    mailbox = configure(acme, ready)
    assert run_check(mailbox, django_capture_on_commit_callbacks).status == "passed"
    ready.app.secrets.remove(ready.secret)  # deleted in Entra: the cached token lives on
    scheduled = run_check(mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    assert scheduled.status == "passed"  # until the cached token ends (up to an hour)
    asked = run_check(mailbox, django_capture_on_commit_callbacks, trigger=trigger)
    assert asked.status == "failed"
    assert steps(asked)["token"] == ("failed", "no_credential_in_entra")


def test_a_quick_passing_check_of_a_healthy_mailbox_costs_seven_statements(
    acme, ready, emulated_microsoft, django_assert_num_queries
):
    # What a scheduled re-check costs the database: claim (in a savepoint: two more
    # statements), load, secret, when the last test message was sent (claim.
    # test_message_due), result, health, consent confirmation (one UPDATE that matches
    # nothing once confirmed). Worker throughput depends on it (bench/checks_bench.py).
    mailbox = configure(acme, ready)
    Mailbox.objects.filter(pk=mailbox.pk).update(health="healthy")
    run = CheckRun.objects.create(mailbox=mailbox, trigger="schedule")
    with django_assert_num_queries(7 + 2):
        attempt = check_run.check_run(run.pk)
    assert attempt.finished is not None
    assert attempt.finished.status == "passed"


def test_a_slow_check_saves_each_step_before_waiting_on_microsoft(
    acme, ready, emulated_microsoft, monkeypatch
):
    # The live page polls every second: a slow step must not hide the ones before it.
    monkeypatch.setattr(check_run, "PROGRESS_SAVE_SECONDS", 0.2)
    emulated_microsoft.set_fault("graph.messages", latency_ms=300)
    emulated_microsoft.set_fault("graph.sendMail", latency_ms=300)
    run = CheckRun.objects.create(mailbox=configure(acme, ready), trigger="wizard")
    seen: list[list[str]] = []
    original = check_run.microsoft.send_test_message

    def send_and_look(**kwargs):
        seen.append([step["name"] for step in CheckRun.objects.get(pk=run.pk).steps])
        return original(**kwargs)

    monkeypatch.setattr(check_run.microsoft, "send_test_message", send_and_look)
    assert check_run.check_run(run.pk).finished is not None
    # While the message was being sent, the steps before it were already saved.
    assert seen == [["token", "permissions", "read_inbox"]]


def test_it_returns_the_pending_run_instead_of_queueing_another(acme, ready, broker):
    mailbox = configure(acme, ready)
    first = check_request(mailbox=mailbox, trigger="wizard").run
    assert check_request(mailbox=mailbox, trigger="support").run == first


def test_it_never_records_the_secret_or_the_password(
    acme, emulated_microsoft, canary, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    secret, password = canary(), canary("password")
    mailbox = configure(acme, ready, secret_value=secret, password=password)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["token"] == ("failed", "wrong_secret")
    assert_absent_from_database(secret, password)


# --- the app-only token -----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"directory": "6b1f3f0e-0000-4000-8000-000000000001"}, "directory_not_found"),
        ({"directory": "no such directory!"}, "directory_malformed"),
        ({"client_id": "6b1f3f0e-0000-4000-8000-000000000002"}, "app_not_found"),
        ({"secret_value": "abc8Q~notTheRightValueAtAllxxxxxxxxxxxxxx"}, "wrong_secret"),
    ],
)
def test_it_diagnoses_a_wrong_id_or_secret(
    acme, ready, django_capture_on_commit_callbacks, change, key
):
    run = run_check(configure(acme, ready, **change), django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.FAILED
    assert (run.diagnosis_key, steps(run)["token"]) == (key, ("failed", key))
    assert "read_inbox" not in steps(run)


def test_it_recognises_a_pasted_secret_id(acme, ready, django_capture_on_commit_callbacks):
    mailbox = configure(acme, ready, secret_value=ready.secret.key_id)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.diagnosis_key == "secret_id_pasted"
    assert run.steps[0]["code"] == "AADSTS7000215"


def test_it_diagnoses_an_expired_secret_and_marks_the_mailbox_expired(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    expired = emulated_microsoft.add_secret(ready.app, days=-1)
    mailbox = configure(acme, ready, secret_value=expired.value)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert (run.diagnosis_key, run.error_code) == ("secret_expired", "AADSTS7000222")
    mailbox.refresh_from_db()
    acme.refresh_from_db()
    assert mailbox.health == acme.health == "expired"


def test_it_diagnoses_a_client_secret_deleted_in_entra(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    # With public client flows on (as the guide asks), Microsoft answers a secret for an
    # app without any credential with AADSTS700025, not "wrong secret".
    mailbox = configure(acme, ready)
    with emulated_microsoft.store.lock:
        ready.app.secrets = []
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert (run.diagnosis_key, run.error_code) == ("no_credential_in_entra", "AADSTS700025")
    found = check_results.step_diagnosis(run.steps[0])
    assert found is not None
    assert found.wizard_step == 4


# --- permissions and the mailbox ----------------------------------------------------


def test_it_diagnoses_missing_admin_consent_from_graphs_refusal(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    # The roles never skip a step: Graph is asked, and its 403 with a token without
    # roles is what says consent is missing.
    ready = ready_directory(emulated_microsoft, consent=False)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert steps(run) == {
        "token": ("passed", ""),
        "permissions": ("info", ""),
        "read_inbox": ("failed", "no_consent"),
        "send_test": ("failed", "no_consent"),
    }
    assert (run.diagnosis_key, run.error_code) == ("no_consent", "ErrorAccessDenied")
    assert run.steps[1]["message"].startswith("Roles in the token: none.")


def test_it_names_the_one_mail_role_missing_when_graph_refuses_that_step(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    emulated_microsoft.set_consent(ready.app, ready.directory, app_roles=["Mail.Read"])
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert steps(run)["permissions"] == ("info", "")
    assert steps(run)["read_inbox"] == ("passed", "")
    assert steps(run)["send_test"] == ("failed", "missing_mail_send")


def test_it_diagnoses_a_mailbox_outside_the_access_policy(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    emulated_microsoft.add_access_policy(ready.app, ready.directory, [ready.admin.upn])
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", "mailbox_out_of_scope")
    assert run.error_code == "ErrorAccessDenied"
    assert run.correlation_id


def test_it_diagnoses_an_unknown_user(acme, ready, django_capture_on_commit_callbacks):
    mailbox = configure(acme, ready, address="nobody@contoso.onmicrosoft.com")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", "unknown_user")
    assert steps(run)["send_test"] == ("failed", "unknown_user")


def test_it_diagnoses_a_user_without_a_mailbox(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    emulated_microsoft.update_user(ready.mailbox, mailbox=False)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", "no_mailbox")


def test_it_diagnoses_a_token_graph_rejects(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    emulated_microsoft.set_fault("graph.messages", error_share=1.0, error_status=401)
    mailbox = configure(acme, ready)
    run_check(mailbox, django_capture_on_commit_callbacks)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    # The second check's cached token was rejected, and so was the fresh one it asked for.
    assert steps(run)["read_inbox"] == ("failed", "token_rejected")
    assert steps(run)["send_test"] == ("passed", "")
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id.lower(): 2}


def test_a_cached_token_graph_rejects_is_replaced_and_the_request_sent_again(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    run_check(mailbox, django_capture_on_commit_callbacks)
    emulated_microsoft.advance_clock(2 * 3600)  # msal still trusts its cached token
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == "passed", run.steps
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id.lower(): 2}


def test_consent_granted_after_a_failed_check_shows_at_the_next_check(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    # The first check's token has no roles and stays in the cache for an hour; the
    # admin grants consent and presses "Run check again" a minute later.
    ready = ready_directory(emulated_microsoft, consent=False)
    mailbox = configure(acme, ready)
    first = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(first)["read_inbox"] == ("failed", "no_consent")
    emulated_microsoft.grant_admin_consent(ready.app, ready.directory)
    second = run_check(mailbox, django_capture_on_commit_callbacks)
    assert second.status == "passed", second.steps
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id.lower(): 2}


def test_a_directory_deleted_since_the_token_was_cached_gets_its_own_diagnosis(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    run_check(mailbox, django_capture_on_commit_callbacks)
    emulated_microsoft.state.directories.remove(ready.directory)
    run = run_check(mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    # Graph rejects the cached token (its directory is gone); the fresh token request
    # then names the cause.
    assert steps(run)["read_inbox"] == ("failed", "directory_not_found")


# --- the password sign-in ---------------------------------------------------------


@pytest.fixture
def delegated(emulated_microsoft):
    return ready_directory(emulated_microsoft, delegated=("Mail.Read", "Mail.Send"))


def test_it_signs_in_with_a_stored_password_as_its_own_line(
    acme, delegated, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, delegated, password="Mailbox-pass-1")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == "passed"
    assert steps(run)["password_sign_in"] == ("passed", "")


def test_it_diagnoses_a_wrong_password_and_only_degrades_the_mailbox(
    acme, delegated, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, delegated, password="wrong")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["password_sign_in"] == ("failed", "wrong_password")
    assert run.error_code == "AADSTS50126"
    mailbox.refresh_from_db()
    assert mailbox.health == "degraded"


@pytest.mark.parametrize(
    ("blocked", "code", "key"),
    [
        ("disabled", "AADSTS50057", "account_disabled"),
        ("locked", "AADSTS50053", "account_locked"),
        ("password_expired", "AADSTS50055", "password_expired"),
    ],
)
def test_it_tells_a_blocked_account_from_a_wrong_password(
    acme, delegated, emulated_microsoft, django_capture_on_commit_callbacks, blocked, code, key
):
    emulated_microsoft.update_user(delegated.mailbox, blocked=blocked)
    run = run_check(
        configure(acme, delegated, password="Mailbox-pass-1"), django_capture_on_commit_callbacks
    )
    assert (steps(run)["password_sign_in"], run.error_code) == (("failed", key), code)
    found = check_results.step_diagnosis(run.steps[-1])
    assert found is not None
    assert found.wizard_step == 5


def test_it_diagnoses_mfa(acme, delegated, emulated_microsoft, django_capture_on_commit_callbacks):
    emulated_microsoft.update_user(delegated.mailbox, mfa_required=True)
    run = run_check(
        configure(acme, delegated, password="Mailbox-pass-1"), django_capture_on_commit_callbacks
    )
    assert (steps(run)["password_sign_in"], run.error_code) == (
        ("failed", "mfa_required"),
        "AADSTS50076",
    )


def test_it_diagnoses_public_client_flows_off(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft, delegated=("Mail.Read",), public_client=False)
    run = run_check(
        configure(acme, ready, password="Mailbox-pass-1"), django_capture_on_commit_callbacks
    )
    assert steps(run)["password_sign_in"] == ("failed", "public_client_disabled")


def test_it_diagnoses_missing_delegated_consent(acme, ready, django_capture_on_commit_callbacks):
    run = run_check(
        configure(acme, ready, password="Mailbox-pass-1"), django_capture_on_commit_callbacks
    )
    assert (steps(run)["password_sign_in"], run.error_code) == (
        ("failed", "delegated_consent_missing"),
        "AADSTS65001",
    )


def test_a_personal_account_not_connected_by_its_owner_needs_that_and_nothing_else(
    acme, delegated, emulated_microsoft, django_capture_on_commit_callbacks
):
    # Neither app-only access nor a password reaches an Outlook.com account: the check
    # says that its owner must connect it, and sends no password to Microsoft.
    emulated_microsoft.add_personal_account("someone@outlook.com", "Personal-pass-1")
    mailbox = configure(acme, delegated, address="someone@outlook.com", password="Personal-pass-1")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run) == {"owner_token": ("failed", "sign_in_missing")}
    assert emulated_microsoft.counters()["requests"].get("token", 0) == 0


def test_it_fails_plainly_without_an_app_registration(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox = acme.mailboxes.create(address=f"{uuid.uuid4().hex}@acme.example")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run) == {"token": ("failed", "app_missing")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="SQLite's shared in-memory test database locks tables across threads; "
    "make test and CI run this on PostgreSQL",
)
def test_it_requests_one_token_when_threads_check_one_credential_at_once(
    acme, emulated_microsoft, broker
):
    ready = ready_directory(emulated_microsoft)
    first = configure(acme, ready)
    mailboxes = [first] + [
        acme.mailboxes.create(
            address=emulated_microsoft.add_user(
                ready.directory, f"m{n}@contoso.onmicrosoft.com", "pw"
            ).upn
        )
        for n in range(5)
    ]
    runs = [CheckRun.objects.create(mailbox=m, trigger="schedule") for m in mailboxes]

    def check(run: CheckRun) -> None:
        try:
            check_run.check_run(run.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=check, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(CheckRun.objects.values_list("status", flat=True)) == {"passed"}
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id.lower(): 1}


def test_it_checks_and_then_activates_the_first_secret_of_the_wizard(
    acme, ready, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    acme.app_registration.secrets.update(status="pending")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == "passed"
    assert acme.app_registration.secrets.get().status == "active"


# --- the password sign-in when the operations app does not use it --------------------


@pytest.mark.parametrize("methods", [frozenset(), frozenset({"interactive"})])
def test_without_the_password_method_a_stored_password_is_not_tried(
    acme, ready, settings, django_capture_on_commit_callbacks, methods
):
    settings.OPERATIONS_SIGN_IN = methods
    # A wrong password would fail the step (and degrade the mailbox) if it were tried.
    mailbox = configure(acme, ready, password="wrong")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.PASSED
    assert steps(run)["password_sign_in"] == ("skipped", "")
    skipped = next(step for step in run.steps if step["name"] == "password_sign_in")
    assert skipped["message"] == check_run.PASSWORD_NOT_NEEDED
    mailbox.refresh_from_db()
    assert mailbox.health == "healthy"


def test_without_the_password_method_the_step_shows_as_not_needed_with_no_password(
    acme, ready, settings, django_capture_on_commit_callbacks
):
    settings.OPERATIONS_SIGN_IN = frozenset()
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.PASSED
    rows = {row["label"]: row["step"] for row in check_results.status_context(run)["rows"]}
    shown = rows[check_results.STEP_LABELS["password_sign_in"]]
    assert shown["outcome"] == "skipped"
    assert shown["message"].startswith("Not needed")


def test_with_the_password_method_and_no_password_there_is_no_password_step(
    acme, ready, settings, django_capture_on_commit_callbacks
):
    settings.OPERATIONS_SIGN_IN = frozenset({"interactive", "password"})
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.PASSED
    assert "password_sign_in" not in steps(run)


def test_with_the_password_method_a_wrong_stored_password_still_fails_its_step(
    acme, delegated, settings, django_capture_on_commit_callbacks
):
    settings.OPERATIONS_SIGN_IN = frozenset({"password"})
    mailbox = configure(acme, delegated, password="wrong")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["password_sign_in"] == ("failed", "wrong_password")
