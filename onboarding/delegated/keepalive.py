"""Keeping the owners' sign-ins alive. Microsoft ends a refresh token left unused for
90 days (AADSTS700082: tests/recordings/token_refresh_inactive.json); the scheduled
re-check uses each sign-in (onboarding.checks.run refreshes it when its last refresh is
older than REFRESH_EVERY). Should checks not run for a mailbox (the portal down, its
workers stopped, the mailbox failing on something else first), the daily scan here warns
the tenant's admins and the mailbox's owner WARN_BEFORE the limit, once per idle period.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from onboarding import emails
from onboarding.delegated.links import owner_url
from onboarding.models import MailboxSignIn

# Microsoft's limit for a refresh token's inactivity.
INACTIVITY_LIMIT = timedelta(days=90)
# A scheduled check refreshes a sign-in whose last refresh is older than this.
REFRESH_EVERY = timedelta(days=1)
WARN_BEFORE = timedelta(days=14)


def refresh_due(sign_in: MailboxSignIn) -> bool:
    return timezone.now() - sign_in.refreshed_at >= REFRESH_EVERY


def warn_idle() -> int:
    """Warn once for each sign-in unused for INACTIVITY_LIMIT - WARN_BEFORE; the number
    warned. The conditional UPDATE claims each warning, so two scans never both send."""
    now = timezone.now()
    idle = MailboxSignIn.objects.filter(
        refreshed_at__lte=now - (INACTIVITY_LIMIT - WARN_BEFORE)
    ).filter(Q(idle_warned_at__isnull=True) | Q(idle_warned_at__lt=F("refreshed_at")))
    warned = 0
    for sign_in in idle.select_related("mailbox__tenant"):
        claimed = MailboxSignIn.objects.filter(
            pk=sign_in.pk, idle_warned_at=sign_in.idle_warned_at, refreshed_at=sign_in.refreshed_at
        ).update(idle_warned_at=now)
        if not claimed:
            continue
        mailbox = sign_in.mailbox
        emails.sign_in_idle(
            to=mailbox.tenant.recipients(mailbox.address),
            mailbox=mailbox,
            last_used=sign_in.refreshed_at,
            ends=sign_in.refreshed_at + INACTIVITY_LIMIT,
            connect_link=owner_url(mailbox),
        )
        warned += 1
    return warned
