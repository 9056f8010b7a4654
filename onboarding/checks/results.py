"""What a check records of each of its steps, and how a recorded step is shown.

A step is a dict {name, outcome, code, message, correlation_id, duration_ms,
diagnosis_key} kept in CheckRun.steps; it never holds a secret (Microsoft's
messages never echo one). Outcomes: passed, failed, skipped, and info for a line that
only informs (the roles in the token: a hint, never a verdict).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from onboarding.diagnosis import CATALOGUE, Diagnosis, diagnose, fix_path
from onboarding.models import CheckRun, Mailbox, MailboxScope
from onboarding.wizard.validators import is_personal_address

# Every test message carries both, so the operations app (and the customer's mail rules)
# can tell it from real mail: documented in README.md, "Test messages". Graph accepts
# only custom headers named x-... (tests/recordings/graph_sendmail_header_without_x_prefix).
TEST_SUBJECT_PREFIX = "[Mailbox portal check]"
TEST_SUBJECT = TEST_SUBJECT_PREFIX + " Connection check {id}"
TEST_HEADER = "X-Mailbox-Portal-Check"

STEP_LABELS = {
    "token": "Sign in as the application",
    # A personal account: the owner's own sign-in, renewed by its refresh token.
    "owner_token": "Sign in as the mailbox (its owner's Microsoft sign-in)",
    "permissions": "Permissions in the token (for information)",
    "read_inbox": "Read the inbox",
    "send_test": "Send a test message",
    "scope_proof": "Refused outside the scope (an address the app must not reach)",
    "password_sign_in": "Sign in with the mailbox password",
    "mailbox_sign_in": "Sign in as the mailbox (its owner's Microsoft sign-in)",
    # Not a step of its own: where a run that raised while recording its result stopped.
    "finish": "Record the result",
}


def passed(name: str, duration_ms: int, message: str = "") -> dict[str, Any]:
    return _entry(name, "passed", "", message, "", duration_ms, "")


def info(name: str, message: str) -> dict[str, Any]:
    """A line that informs and is never a failure by itself."""
    return _entry(name, "info", "", message, "", 0, "")


def skipped(name: str, message: str) -> dict[str, Any]:
    """A step not run on purpose, with the plain reason: never a failure, never a proof."""
    return _entry(name, "skipped", "", message, "", 0, "")


def failed(
    name: str, found: Diagnosis, code: str, message: str = "", correlation_id: str = ""
) -> dict[str, Any]:
    return _entry(name, "failed", code, message, correlation_id, 0, found.key)


def _entry(
    name: str,
    outcome: str,
    code: str,
    message: str,
    correlation_id: str,
    duration_ms: int,
    diagnosis_key: str,
) -> dict[str, Any]:
    return {
        "name": name,
        "outcome": outcome,
        "code": code,
        "message": message[:500],
        "correlation_id": correlation_id,
        "duration_ms": duration_ms,
        "diagnosis_key": diagnosis_key,
    }


def step_diagnosis(step: dict[str, Any]) -> Diagnosis | None:
    """The diagnosis to show for a recorded step (Microsoft's words for unknown codes)."""
    if step.get("outcome") != "failed":
        return None
    key = step.get("diagnosis_key", "")
    if key in CATALOGUE:
        return CATALOGUE[key]
    return diagnose(
        step.get("code", ""), step.get("message", ""), correlation_id=step.get("correlation_id", "")
    )


def first_failure(run: CheckRun) -> dict[str, Any]:
    """The run's first failed step ({} if none): the one its diagnosis comes from."""
    return next((step for step in run.steps if step["outcome"] == "failed"), {})


def status_context(run: CheckRun) -> dict[str, Any]:
    """What the status fragment shows: every step in order, with its diagnosis."""
    recorded = {step["name"]: step for step in run.steps}
    # A personal account signs in as its owner (its run, before any step is recorded).
    personal = "owner_token" in recorded or is_personal_address(run.mailbox.sign_in_name)
    first = "owner_token" if personal and "token" not in recorded else "token"
    names = [first, "permissions", "read_inbox", "send_test"]
    if "scope_proof" in recorded or (
        not personal and MailboxScope.objects.filter(tenant_id=run.mailbox.tenant_id).exists()
    ):
        names.append("scope_proof")
    if "mailbox_sign_in" in recorded:
        names.append("mailbox_sign_in")
    elif run.mailbox.has_password or "password_sign_in" in recorded:
        names.append("password_sign_in")
    if "finish" in recorded:
        names.append("finish")
    rows = []
    for name in names:
        step = recorded.get(name, {"outcome": _unrecorded(run)})
        found = step_diagnosis(step)
        rows.append(
            {
                "label": STEP_LABELS[name],
                "step": step,
                "diagnosis": found,
                "fix_url": fix_path(
                    tenant_id=run.mailbox.tenant_id, diagnosis=found, mailbox_id=run.mailbox_id
                ),
            }
        )
    # A check waiting for a consent to reach Microsoft's tokens says so (run.py).
    waiting = not run.is_finished and any(
        step.get("diagnosis_key") == "consent_propagating" for step in run.steps
    )
    return {
        "run": run,
        "rows": rows,
        "poll": True,
        "poll_ms": poll_ms(run),
        "waiting_for_consent": waiting,
        "test_message": test_message(run.mailbox),
    }


def test_message(mailbox: Mailbox) -> dict[str, Any]:
    """What a check sends, as the pages state it before anyone presses the button."""
    return {
        "sender": mailbox.address,
        "to": settings.PORTAL_CHECK_SEND_TO or mailbox.address,
        "to_itself": not settings.PORTAL_CHECK_SEND_TO,
        # Followed by the check's reference (its ID), which the header carries too.
        "subject": TEST_SUBJECT.format(id="").rstrip(),
        "subject_prefix": TEST_SUBJECT_PREFIX,
        "header": TEST_HEADER,
        "send_days": settings.PORTAL_RECHECK_SEND_DAYS,
        "recheck_hours": settings.PORTAL_RECHECK_HOURS,
    }


# The live pages poll a check this often while it runs (most finish within a second or
# two), then back off: a run waiting on a retry, or slow, needs no four polls a second.
FAST_POLL_MS = 250
SLOW_POLL_MS = 1000
FAST_POLL_FOR = timedelta(seconds=15)
# A finished run: sorts after every pending one (the verify step polls at the fastest).
IDLE_POLL_MS = 30000


# A run just finished: its consequences (health, the wizard's step) are written a
# moment after its result, so the page looks once more before it idles.
SETTLE_FOR = timedelta(seconds=5)


def poll_ms(run: CheckRun) -> int:
    now = timezone.now()
    if run.is_finished:
        recent = run.finished_at is not None and now - run.finished_at < SETTLE_FOR
        return SLOW_POLL_MS if recent else IDLE_POLL_MS
    if run.retry_at is not None and run.retry_at - now > timedelta(seconds=2):
        return SLOW_POLL_MS
    latest = max(filter(None, (run.created_at, run.started_at, run.retry_at)))
    return FAST_POLL_MS if now - latest < FAST_POLL_FOR else SLOW_POLL_MS


def _unrecorded(run: CheckRun) -> str:
    if run.is_finished:
        return "not_run"
    return "running" if run.status == CheckRun.Status.RUNNING else "waiting"
