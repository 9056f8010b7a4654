"""A check never stays running: whatever a step or the task's own machinery raises, the
run ends failed with the "unexpected" diagnosis and a correlation ID, the error is
logged by type and place only (never its text, which may quote a secret), and the next
check of the mailbox can be asked for and runs."""

from __future__ import annotations

from xml.etree import ElementTree

import msal
import pytest

from microsoft_emulator.scenarios import ready_directory
from onboarding import microsoft
from onboarding.checks import health
from onboarding.checks import run as check_run
from onboarding.checks.claim import check_request
from onboarding.diagnosis import diagnose
from onboarding.models import CheckRun, ClientSecret, Mailbox
from onboarding.tasks import run_mailbox_check
from tests.onboarding.check_helpers import configure, request_check, steps

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning"),
]


@pytest.fixture
def mailbox(acme, emulated_microsoft) -> Mailbox:
    ready = ready_directory(emulated_microsoft, delegated=("Mail.Read", "Mail.Send"))
    return configure(acme, ready, password="Mailbox-pass-1")


@pytest.fixture
def secret(canary) -> str:
    """Secret-shaped text in the exception's message: it must reach no log."""
    return canary()


def raising(text: str):
    def fail(*args, **kwargs):
        raise RuntimeError(f"broke while holding {text}")

    return fail


def requested(mailbox, capture) -> CheckRun:
    with capture(execute=True):
        return request_check(mailbox=mailbox, trigger="wizard")


def assert_failed_unexpectedly(run: CheckRun, step: str) -> None:
    run.refresh_from_db()
    assert run.status == CheckRun.Status.FAILED
    assert steps(run)[step] == ("failed", "unexpected")
    assert (run.diagnosis_key, run.correlation_id) == ("unexpected", str(run.pk))
    assert run.finished_at is not None


def assert_the_next_check_runs(mailbox, broker, emulated_microsoft, capture) -> None:
    emulated_microsoft.clear_faults()
    broker.queued.clear()
    following = requested(mailbox, capture)
    assert following.status == CheckRun.Status.QUEUED  # a new run, not the stuck one
    broker.deliver()
    following.refresh_from_db()
    assert following.status == CheckRun.Status.PASSED, following.steps


@pytest.mark.parametrize(
    ("target", "name", "step"),
    [
        (microsoft, "acquire_app_token", "token"),
        (microsoft, "read_inbox", "read_inbox"),
        (microsoft, "send_test_message", "send_test"),
        (microsoft, "sign_in_with_password", "password_sign_in"),
        (ClientSecret, "reveal", "token"),
        (Mailbox, "reveal_password", "password_sign_in"),
        (check_run, "_secret_for", "token"),  # outside any step
    ],
)
def test_a_step_that_raises_ends_the_run_failed(
    mailbox,
    broker,
    emulated_microsoft,
    monkeypatch,
    caplog,
    secret,
    django_capture_on_commit_callbacks,
    target,
    name,
    step,
):
    run = requested(mailbox, django_capture_on_commit_callbacks)
    with monkeypatch.context() as patch:
        patch.setattr(target, name, raising(secret))
        broker.deliver()
    assert_failed_unexpectedly(run, step)
    assert f"step {step}: unexpected RuntimeError at" in caplog.text
    assert secret not in caplog.text
    assert broker.queued == []  # failed for good, not retried
    assert_the_next_check_runs(
        mailbox, broker, emulated_microsoft, django_capture_on_commit_callbacks
    )


def throttle_reads(emulated_microsoft) -> None:
    emulated_microsoft.set_fault("graph.messages", throttle_share=1.0, retry_after=1)


@pytest.mark.parametrize(
    ("target", "name", "transient"),
    [
        (check_run, "claim", False),
        (check_run, "_finish", False),
        (health, "check_finished", False),
        (check_run, "requeue", True),
        (run_mailbox_check, "apply_async", True),  # the broker refuses the retry
    ],
)
def test_the_task_fails_a_run_whose_machinery_raises(
    mailbox,
    broker,
    emulated_microsoft,
    monkeypatch,
    caplog,
    secret,
    django_capture_on_commit_callbacks,
    target,
    name,
    transient,
):
    run = requested(mailbox, django_capture_on_commit_callbacks)
    if transient:
        throttle_reads(emulated_microsoft)
    with monkeypatch.context() as patch:
        patch.setattr(target, name, raising(secret))
        broker.deliver()  # the task itself: it never raises
    assert_failed_unexpectedly(run, "finish")
    assert "step finish: unexpected RuntimeError at" in caplog.text
    assert secret not in caplog.text
    assert_the_next_check_runs(
        mailbox, broker, emulated_microsoft, django_capture_on_commit_callbacks
    )


def test_a_passed_run_whose_health_cannot_be_recorded_is_failed(
    mailbox, broker, monkeypatch, secret, django_capture_on_commit_callbacks
):
    # Its meaning was never recorded (no health, no first secret activated): it must be
    # run again, so it does not stand as passed.
    run = requested(mailbox, django_capture_on_commit_callbacks)
    with monkeypatch.context() as patch:
        patch.setattr(health, "check_finished", raising(secret))
        broker.deliver()
    run.refresh_from_db()
    assert run.status == CheckRun.Status.FAILED
    assert steps(run)["send_test"] == ("passed", "")
    assert steps(run)["finish"] == ("failed", "unexpected")


def test_abandoning_never_raises(mailbox, monkeypatch, caplog, secret):
    run = check_request(mailbox=mailbox, trigger="wizard").run
    monkeypatch.setattr(CheckRun.objects, "select_related", raising(secret))
    check_run.abandon(run.pk, RuntimeError(secret))
    assert "could not be failed after an unexpected RuntimeError" in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("error", "key"),
    [
        # msal's WS-Trust route: the customer's AD FS refused the password, or its MEX
        # (or answer) is no XML.
        (
            RuntimeError("WsTrust server returned error in RSTR: {'reason': 'x'}"),
            "federated_domain",
        ),
        (ElementTree.ParseError("syntax error: line 1, column 0"), "federated_domain"),
        (KeyError("access_token"), "unexpected"),
    ],
)
def test_it_diagnoses_msal_raising_in_the_password_step(
    mailbox, emulated_microsoft, broker, monkeypatch, django_capture_on_commit_callbacks, error, key
):
    def acquire(*args, **kwargs):
        raise error

    run = requested(mailbox, django_capture_on_commit_callbacks)
    monkeypatch.setattr(msal.PublicClientApplication, "acquire_token_by_username_password", acquire)
    broker.deliver()
    run.refresh_from_db()
    assert run.status == CheckRun.Status.FAILED
    assert steps(run)["password_sign_in"] == ("failed", key)
    if key == "unexpected":
        assert run.correlation_id == str(run.pk)
        assert "access_token" not in run.steps[-1]["message"]  # msal's text is not kept
    mailbox.refresh_from_db()
    assert mailbox.health == "degraded"  # a password-only failure


def test_the_catalogue_diagnoses_the_unexpected():
    found = diagnose("unexpected", "msal failed with KeyError.", correlation_id="run-1")
    assert (found.key, found.wizard_step, found.correlation_id) == ("unexpected", None, "run-1")
    assert "correlation ID" in found.fix[-1]
