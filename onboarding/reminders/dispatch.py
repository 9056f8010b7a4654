"""Sending one claimed expiry reminder, exactly once.

A sender takes a claimed ReminderDispatch with a conditional UPDATE and holds it for a
lease, so that two workers never both send it and one that died is overtaken after the
lease. docs/reminders.md tells the whole story.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from onboarding import emails
from onboarding.audit import audit_record
from onboarding.client_secrets import secrets_in_use
from onboarding.models import ReminderDispatch
from onboarding.reminders.scan import lease
from onboarding.steps import RENEWAL_URL_NAME, SECRET, step_path

logger = logging.getLogger(__name__)

Status = ReminderDispatch.Status


def take(dispatch_id: int, now: datetime | None = None) -> int | None:
    """Become the one sender of a claimed reminder; returns the attempt number.

    Free to take: nobody has tried yet, or the last sender's lease ran out. The
    database re-checks this condition under the row lock, so of two workers racing
    for the same row exactly one updates it.
    """
    now = now or timezone.now()
    taken = ReminderDispatch.objects.filter(
        Q(attempts=0) | Q(lease_until__lt=now),
        pk=dispatch_id,
        status=Status.CLAIMED,
        attempts__lt=settings.REMINDER_MAX_ATTEMPTS,
    ).update(attempts=F("attempts") + 1, lease_until=now + lease())
    if not taken:
        return None
    return ReminderDispatch.objects.values_list("attempts", flat=True).get(pk=dispatch_id)


def _finish(dispatch_id: int, attempt: int, **changes: object) -> bool:
    """Record the outcome, provided this attempt still holds the row."""
    ours = ReminderDispatch.objects.filter(pk=dispatch_id, status=Status.CLAIMED, attempts=attempt)
    return bool(ours.update(lease_until=None, **changes))


def _give_back(dispatch_id: int, attempt: int, exc: BaseException) -> None:
    """After a failed attempt: free the row for a retry, or fail it for good."""
    last = attempt >= settings.REMINDER_MAX_ATTEMPTS
    ReminderDispatch.objects.filter(pk=dispatch_id, status=Status.CLAIMED, attempts=attempt).update(
        status=Status.FAILED if last else Status.CLAIMED,
        lease_until=None if last else timezone.now(),
        # The class only: an SMTP error's text may quote anything.
        error=type(exc).__name__,
    )


def _mark_sent(dispatch: ReminderDispatch, attempt: int, *, recipients: int) -> None:
    now = timezone.now()
    if not _finish(dispatch.pk, attempt, status=Status.SENT, sent_at=now, recipients=recipients):
        logger.warning("Reminder %s was sent after its lease ran out", dispatch.pk)
    audit_record(
        action="reminder.sent",
        tenant=dispatch.secret.app.tenant,
        obj=dispatch,
        threshold=dispatch.threshold,
        expires_on=dispatch.expires_on.isoformat(),
        recipients=recipients,
    )


def send(dispatch_id: int) -> str:
    """Send one claimed reminder if this worker can take it; returns what happened."""
    attempt = take(dispatch_id)
    if attempt is None:
        return "not ours"
    dispatch = ReminderDispatch.objects.select_related("secret__app__tenant").get(pk=dispatch_id)
    secret, tenant = dispatch.secret, dispatch.secret.app.tenant
    if not secrets_in_use().filter(pk=secret.pk, expires_on=dispatch.expires_on).exists():
        _finish(dispatch_id, attempt, status=Status.SKIPPED)
        return Status.SKIPPED
    to = tenant.recipients()
    if not to:
        _finish(dispatch_id, attempt, status=Status.FAILED, error="No admin or address to tell.")
        return Status.FAILED
    days_left = (secret.expires_on - tenant.local_today()).days
    renew_path = reverse(f"onboarding:{RENEWAL_URL_NAME}", args=[tenant.pk])
    if secret.is_certificate:
        # A new certificate is made in step 4; saved there, it is proved before it
        # replaces the one in use (renewal.workflow.certificate_renewal_start).
        renew_path = step_path(tenant.pk, SECRET) + "#certificate"
    try:
        emails.secret_expiry_reminder(
            to=to,
            tenant=tenant,
            app=secret.app,
            secret=secret,
            days_left=days_left,
            renew_url=settings.PORTAL_BASE_URL + renew_path,
        )
    except Exception as exc:
        _give_back(dispatch_id, attempt, exc)
        raise
    _mark_sent(dispatch, attempt, recipients=len(to))
    return Status.SENT
