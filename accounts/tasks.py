"""Thin Celery tasks for accounts: ids in, the work in accounts.passwords."""

from __future__ import annotations

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts import passwords


# The worker builds the reset link itself from the user id, so no token ever
# travels through the broker, and the request that asked for it answers in the
# same time whether or not the address has an account.
@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def password_reset_send(user_id: str) -> bool:
    return passwords.password_reset_send(user_id=user_id)


@shared_task
def sessions_clear_expired() -> int:
    """Database sessions are never deleted by Django itself; beat runs this daily."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
