"""Thin Celery tasks: they take ids (never secrets, never model instances), call the
package that owns the work, and enqueue what it returns once its transaction commits.

Task names are fixed (`name=`): queued messages and the beat schedule name them, so
moving a function between modules must never rename its task.

The enqueue helpers at the end are how views start work: workflows only say what to
run; the caller enqueues it, on commit, so a rolled-back request enqueues nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction

from onboarding.checks import run as check_runs
from onboarding.checks import schedule
from onboarding.checks.claim import Requested
from onboarding.delegated import keepalive
from onboarding.invitations import services as invitations
from onboarding.models import Invitation
from onboarding.reminders import digest, dispatch, scan
from onboarding.renewal import rollover
from onboarding.vendor import rollover as vendor_rollover
from onboarding.vendor import watch as vendor_watch


# Mail servers fail transiently; the workflow records nothing until the mail
# is sent, so a retry never sends twice.
@shared_task(
    name="onboarding.tasks.invitation_accepted_notify",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def invitation_accepted_notify(invitation_id: str) -> bool:
    return invitations.invitation_accepted_notify(invitation_id=invitation_id)


@shared_task(name="onboarding.tasks.run_mailbox_check")
def run_mailbox_check(check_run_id: str) -> None:
    """One attempt of a check; a transient failure re-enqueues it after its delay.

    Whatever the attempt raises (a lost database, a broker refusing the retry, a bug in
    recording the result), the run ends failed instead of staying queued or running,
    which would answer every later request for a check of its mailbox. Nothing is
    re-raised: Celery would log the exception's text, which may quote a secret."""
    try:
        attempt = check_runs.check_run(check_run_id)
        if attempt.retry_in is not None:
            run_mailbox_check.apply_async((check_run_id,), countdown=attempt.retry_in)
    except Exception as exc:  # the last line of defence
        check_runs.abandon(check_run_id, exc)


@shared_task(name="onboarding.tasks.recheck_mailboxes")
def recheck_mailboxes() -> int:
    due = schedule.recheck_due()
    for check_run_id, countdown in due.items():
        enqueue_check(check_run_id, countdown=countdown)
    return len(due)


@shared_task(name="onboarding.tasks.scan_expiring_secrets", ignore_result=True)
def scan_expiring_secrets() -> int:
    """Claim the reminders due now and queue one send per claimed dispatch."""
    result = scan.scan()
    for dispatch_id in result.to_send:
        # Only once the claim is committed can a sender take it.
        transaction.on_commit(partial(send_expiry_reminder.delay, dispatch_id))
    return len(result.to_send)


@shared_task(
    name="onboarding.tasks.send_expiry_reminder",
    ignore_result=True,
    # SMTP errors are OSErrors; the dispatch row is given back before the retry.
    autoretry_for=(OSError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=settings.REMINDER_MAX_ATTEMPTS - 1,
)
def send_expiry_reminder(dispatch_id: int) -> str:
    return dispatch.send(dispatch_id)


@shared_task(name="onboarding.tasks.warn_idle_sign_ins", ignore_result=True)
def warn_idle_sign_ins() -> int:
    return keepalive.warn_idle()


@shared_task(name="onboarding.tasks.send_reminder_digest", ignore_result=True)
def send_reminder_digest() -> bool:
    return digest.send_digest()


@shared_task(name="onboarding.tasks.roll_over_certificates", ignore_result=True)
def roll_over_certificates() -> int:
    """Claim the certificates due for rollover; advance each rollover ready to move on."""
    ready = rollover.scan()
    for rollover_id in ready:
        advance_rollover.delay(str(rollover_id))
    return len(ready)


# Waits longer than this are left to the next scan (every 15 minutes) rather than to a
# message held by the broker.
_ROLLOVER_COUNTDOWN_MAX = 600


@shared_task(name="onboarding.tasks.advance_rollover", ignore_result=True)
def advance_rollover(rollover_id: str) -> str | None:
    """One stage of a rollover; the next one is queued when it is due soon."""
    advanced = rollover.advance(rollover_id)
    enqueue_requested(advanced.checks)
    if advanced.wait is not None and advanced.wait.total_seconds() <= _ROLLOVER_COUNTDOWN_MAX:
        countdown = advanced.wait.total_seconds()
        transaction.on_commit(
            lambda: advance_rollover.apply_async((rollover_id,), countdown=countdown)
        )
    return advanced.stage


@shared_task(name="onboarding.tasks.watch_vendor_credential", ignore_result=True)
def watch_vendor_credential() -> list[str]:
    """Hourly: remind support of the vendor app certificate's expiry, and carry its
    rollover on (onboarding.vendor)."""
    reminded = vendor_watch.remind()
    advance_vendor_rollover.delay()
    return reminded


@shared_task(name="onboarding.tasks.advance_vendor_rollover", ignore_result=True)
def advance_vendor_rollover() -> str:
    """One stage of the vendor certificate's rollover; the next queued when due soon."""
    advanced = vendor_rollover.advance()
    if advanced.wait is not None and advanced.wait <= _ROLLOVER_COUNTDOWN_MAX:
        countdown = advanced.wait
        transaction.on_commit(lambda: advance_vendor_rollover.apply_async(countdown=countdown))
    return advanced.stage


# --- enqueueing, on commit ----------------------------------------------------------


def enqueue_check(check_run_id: object, countdown: float = 0.0) -> None:
    transaction.on_commit(
        lambda: run_mailbox_check.apply_async((str(check_run_id),), countdown=countdown)
    )


def enqueue_requested(requested: Requested | Iterable[Requested]) -> None:
    """Enqueue the checks a workflow asked for that are not queued already."""
    for one in [requested] if isinstance(requested, Requested) else requested:
        if one.is_new:
            enqueue_check(one.run.pk, countdown=one.countdown)


def enqueue_accepted_notice(invitation: Invitation) -> None:
    """The inviter hears that their invitation was accepted (a task: no secret in it)."""
    transaction.on_commit(partial(invitation_accepted_notify.delay, str(invitation.pk)))
