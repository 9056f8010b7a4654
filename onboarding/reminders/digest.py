"""The daily digest for support: reminders sent and failed, secrets about to expire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from onboarding import emails
from onboarding.client_secrets import secrets_in_use
from onboarding.models import ClientSecret, ReminderDispatch
from onboarding.reminders.scan import WEEK

Status = ReminderDispatch.Status


@dataclass
class Digest:
    sent: list[ReminderDispatch]
    failed: list[ReminderDispatch]
    expiring: list[ClientSecret]

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed or self.expiring)


def digest(now: datetime | None = None) -> Digest:
    """Reminders sent in the last day, failed ones still relevant, and secrets in use
    that expire within 7 days (or already have)."""
    now = now or timezone.now()
    dispatches = ReminderDispatch.objects.select_related("secret__app__tenant")
    in_use = secrets_in_use()
    return Digest(
        sent=list(dispatches.filter(status=Status.SENT, sent_at__gte=now - timedelta(days=1))),
        # Listed every day until the secret is replaced: somebody must tell the tenant.
        failed=list(dispatches.filter(status=Status.FAILED, secret__in=in_use)),
        expiring=list(
            in_use.filter(expires_on__lte=now.date() + timedelta(days=WEEK))
            .select_related("app__tenant")
            .order_by("expires_on")
        ),
    )


def send_digest(now: datetime | None = None) -> bool:
    """E-mail the digest to support, at most once per UTC day; False if not sent."""
    now = now or timezone.now()
    content = digest(now)
    key = f"reminder-digest:{now.date().isoformat()}"
    if not content or not cache.add(key, True, timeout=2 * 86400):
        return False
    try:
        emails.reminder_digest(
            to=[settings.SUPPORT_EMAIL],
            sent=content.sent,
            failed=content.failed,
            expiring=content.expiring,
            today=now.date(),
        )
    except Exception:
        cache.delete(key)
        raise
    return True
