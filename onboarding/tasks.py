"""Thin Celery tasks: they take ids (never secrets, never model instances) and
call the module that owns the work."""

from __future__ import annotations

from celery import shared_task

from onboarding import invitations


# Mail servers fail transiently; the workflow records nothing until the mail
# is sent, so a retry never sends twice.
@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def invitation_accepted_notify(invitation_id: str) -> bool:
    return invitations.invitation_accepted_notify(invitation_id=invitation_id)
