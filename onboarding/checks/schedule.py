"""Scheduled re-checks: every verified mailbox is checked again each period.

A scheduled re-check proves the token, the permissions and the inbox read each
PORTAL_RECHECK_HOURS, but sends its test message only when the last one sent from the
mailbox is PORTAL_RECHECK_SEND_DAYS days old or more: a message every six hours in the
inbox the operations app reads is a surprise nobody asked for. A check someone asks for
(the wizard, support, a save, a renewal) always sends. The run decides as it starts
(onboarding.checks.claim.test_message_due: run.py may not import this module).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from onboarding.models import CheckRun, Mailbox

# Beat runs the sweep hourly; each sweep enqueues the checks due in the next hour.
RECHECK_SWEEP_SECONDS = 3600


def recheck_due() -> dict[uuid.UUID, float]:
    """The scheduled checks of the coming hour, created queued: {check run id: seconds
    to wait}, for the caller to enqueue once the transaction commits.

    Every verified mailbox (one that has passed once) has a fixed slot in the
    PORTAL_RECHECK_HOURS period, taken from its id, and is checked at that slot each
    period: the load spreads evenly over the period, however many mailboxes were set up
    at once. A mailbox checked within the last half period (someone pressed "Run check
    again") skips its slot; one not checked for two periods (beat was down) is checked
    in this hour, spread over it.
    """
    now = timezone.now()
    period = settings.PORTAL_RECHECK_HOURS * 3600
    pending = CheckRun.objects.filter(
        mailbox=OuterRef("pk"), status__in=(CheckRun.Status.QUEUED, CheckRun.Status.RUNNING)
    )
    verified = (
        Mailbox.objects.filter(last_success_at__isnull=False)
        .exclude(Exists(pending))
        .values_list("pk", "last_checked_at")
    )
    due: dict[uuid.UUID, float] = {}
    overdue: list[uuid.UUID] = []
    for mailbox_id, last_checked_at in verified:
        age = (now - last_checked_at).total_seconds() if last_checked_at else 2 * period
        if age >= 2 * period:
            overdue.append(mailbox_id)
            continue
        wait = (mailbox_id.int % period - now.timestamp()) % period  # until its slot
        if wait < RECHECK_SWEEP_SECONDS and age >= period / 2:
            due[mailbox_id] = wait
    for index, mailbox_id in enumerate(overdue):
        due[mailbox_id] = index * RECHECK_SWEEP_SECONDS / len(overdue)
    runs = {}
    for mailbox_id, countdown in due.items():
        run = CheckRun.objects.create(mailbox_id=mailbox_id, trigger=CheckRun.Trigger.SCHEDULE)
        runs[run.pk] = countdown
    return runs
