"""Thin Celery tasks: they take ids (never secrets, never model instances) and
call the module that owns the work."""

from __future__ import annotations

from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction

from onboarding import checks, invitations, reminders, renewal, wizard


# Mail servers fail transiently; the workflow records nothing until the mail
# is sent, so a retry never sends twice.
@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def invitation_accepted_notify(invitation_id: str) -> bool:
    return invitations.invitation_accepted_notify(invitation_id=invitation_id)


@shared_task
def run_mailbox_check(check_run_id: str) -> None:
    """One attempt of a check; a transient failure re-enqueues it after its delay."""
    delay = checks.check_run(check_run_id)
    if delay is not None:
        run_mailbox_check.apply_async((check_run_id,), countdown=delay)
        return
    # A renewal's check decides whether its new secret replaces the old one.
    renewal.renewal_conclude(check_run_id)
    wizard.record_progress_after_check(check_run_id)


@shared_task
def recheck_mailboxes() -> int:
    return checks.recheck_due()


@shared_task(ignore_result=True)
def scan_expiring_secrets() -> int:
    """Claim the reminders due now and queue one send per claimed dispatch."""
    result = reminders.scan()
    for dispatch_id in result.to_send:
        # Only once the claim is committed can a sender take it.
        transaction.on_commit(partial(send_expiry_reminder.delay, dispatch_id))
    return len(result.to_send)


@shared_task(
    ignore_result=True,
    # SMTP errors are OSErrors; the dispatch row is given back before the retry.
    autoretry_for=(OSError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=settings.REMINDER_MAX_ATTEMPTS - 1,
)
def send_expiry_reminder(dispatch_id: int) -> str:
    return reminders.send(dispatch_id)


@shared_task(ignore_result=True)
def send_reminder_digest() -> bool:
    return reminders.send_digest()
