"""Asking for a check, and claiming one so that no mailbox is checked twice at once.

`check_request` creates a queued CheckRun and says whether the caller must enqueue it
(on commit: see onboarding.tasks); it never enqueues anything itself.

No overlap: a partial unique index allows one `running` CheckRun per mailbox, and a
run is claimed with a conditional UPDATE (queued -> running), so two workers in any
number of processes never check the same mailbox at once; a run whose worker died is
handed back after the task's hard time limit.

Test messages: a scheduled re-check sends one only when the last one sent from the
mailbox is PORTAL_RECHECK_SEND_DAYS days old (`test_message_due`; see
onboarding.checks.schedule); a check someone asked for always sends.

Retries: a transient failure (429, 5xx, unreachable) sends the run back to `queued`
and the task re-enqueues it after max(Retry-After, exponential backoff with jitter).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from onboarding.checks import health
from onboarding.microsoft import MicrosoftError
from onboarding.models import CheckRun, ClientSecret, Mailbox, Tenant
from onboarding.progress import progress_for
from onboarding.steps import VERIFY

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
# When another run of the same mailbox holds the claim: try again soon.
BUSY_DELAY_SECONDS = 5.0


@dataclass(frozen=True)
class Requested:
    """A check asked for. `is_new`: the caller must enqueue it once the transaction
    commits; otherwise a run already queued or running answers the request."""

    run: CheckRun
    is_new: bool
    countdown: float = 0.0


def check_request(
    *,
    mailbox: Mailbox,
    trigger: str,
    requested_by: User | None = None,
    secret: ClientSecret | None = None,
) -> Requested:
    """A queued CheckRun. A run of the same mailbox (and secret) that is still queued or
    running is returned instead, so requests never pile up."""
    pending = CheckRun.objects.filter(
        mailbox=mailbox,
        secret=secret,
        status__in=(CheckRun.Status.QUEUED, CheckRun.Status.RUNNING),
    ).first()
    if pending is not None:
        return Requested(pending, is_new=False)
    run = CheckRun.objects.create(
        mailbox=mailbox, trigger=trigger, requested_by=requested_by, secret=secret
    )
    return Requested(run, is_new=True)


def retry_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds before attempt `attempt + 1`: exponential backoff with full jitter over
    its upper half, never sooner than Microsoft's Retry-After."""
    backoff = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    jittered = random.uniform(backoff / 2, backoff)  # noqa: S311 - spreading, not secrecy
    return max(jittered, retry_after or 0.0)


def claim(check_run_id: str | uuid.UUID) -> CheckRun | float | None:
    """queued -> running with a conditional UPDATE; the unique index refuses a second
    running run of the mailbox. Returns the claimed run, seconds to wait while another
    run of the mailbox is busy, or None: nothing to do (finished, unknown, or claimed)."""
    for attempt in (1, 2):
        try:
            if _claim_update(check_run_id):
                # With the mailbox's own sign-in, if any, which the check needs.
                # And the tenant's mailbox scope, if limited (onboarding.scope.proof).
                runs = CheckRun.objects.select_related(
                    "mailbox",
                    "mailbox__tenant",
                    "mailbox__sign_in",
                    "mailbox__tenant__mailbox_scope",
                )
                return runs.get(pk=check_run_id)
            busy = False
        except IntegrityError:
            busy = True
        # Not claimed: this run, or another of its mailbox, is running. Its worker may
        # have died (a redelivered task finds its own run so): hand such a run back
        # to `queued` and try once more.
        if attempt == 2 or not _release_stale(check_run_id):
            break
    if busy:
        return BUSY_DELAY_SECONDS + random.uniform(0, BUSY_DELAY_SECONDS)  # noqa: S311
    return None


def _claim_update(check_run_id: str | uuid.UUID) -> int:
    with transaction.atomic():
        return CheckRun.objects.filter(pk=check_run_id, status=CheckRun.Status.QUEUED).update(
            status=CheckRun.Status.RUNNING,
            started_at=timezone.now(),
            retry_at=None,
            attempts=F("attempts") + 1,
        )


def _release_stale(check_run_id: str | uuid.UUID) -> int:
    """Send back to `queued` a run of the same mailbox still `running` after the task's
    hard time limit: its worker is gone."""
    stale = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    mailbox = CheckRun.objects.filter(pk=check_run_id).values("mailbox_id")
    return CheckRun.objects.filter(
        mailbox_id__in=mailbox, status=CheckRun.Status.RUNNING, started_at__lt=stale
    ).update(status=CheckRun.Status.QUEUED)


def requeue(run: CheckRun, steps: list[dict[str, Any]], error: MicrosoftError) -> float:
    """Give a run that failed transiently back to `queued`; the seconds until its retry."""
    delay = retry_delay(run.attempts, error.retry_after)
    CheckRun.objects.filter(pk=run.pk).update(
        status=CheckRun.Status.QUEUED,
        steps=steps,
        retry_at=timezone.now() + timedelta(seconds=delay),
    )
    return delay


def checks_after_change(
    tenant: Tenant,
    *,
    requested_by: User | None,
    mailbox_ids: Iterable[object] | None = None,
) -> list[Requested]:
    """An answer the checks depend on changed (app, consent, secret, mailbox): forget
    the results it made meaningless and, once the setup is complete enough to verify,
    ask for a check of each mailbox concerned. Checks start from such a save or from a
    button (POST), never from showing a page."""
    ids = None if mailbox_ids is None else list(mailbox_ids)
    health.verification_reset(tenant, ids)
    if not progress_for(tenant).is_reachable(VERIFY):
        return []
    mailboxes = tenant.mailboxes.all() if ids is None else tenant.mailboxes.filter(pk__in=ids)
    trigger = CheckRun.Trigger.WIZARD
    return [
        check_request(mailbox=mailbox, trigger=trigger, requested_by=requested_by)
        for mailbox in mailboxes.order_by("address")
    ]


# "Run check again" is refused this soon after the mailbox's last check was requested.
CHECK_AGAIN_SECONDS = 30
TOO_SOON = "The last check was moments ago; try again in {seconds} s."


def check_again_wait(mailbox: Mailbox) -> int:
    """Seconds before a person may ask for another check of the mailbox (0: now)."""
    latest = mailbox.check_runs.first()
    since = timezone.now() - timedelta(seconds=CHECK_AGAIN_SECONDS)
    if latest is not None and latest.is_finished and latest.created_at > since:
        return int((latest.created_at - since).total_seconds()) + 1
    return 0


def check_again(*, mailbox: Mailbox, user: User) -> Requested | int:
    """A check asked for by a person: a tenant admin (the wizard) or support. Returns
    the seconds to wait instead when the last check was requested moments ago."""
    wait = check_again_wait(mailbox)
    if wait:
        return wait
    member = user.memberships.filter(tenant_id=mailbox.tenant_id).exists()
    trigger = CheckRun.Trigger.WIZARD if member else CheckRun.Trigger.SUPPORT
    return check_request(mailbox=mailbox, trigger=trigger, requested_by=user)


# --- whether a check sends its test message ------------------------------------------


@dataclass(frozen=True)
class SendDecision:
    """Whether this run sends its test message; `last_sent_at`: when the last one went
    out (None: none within PORTAL_RECHECK_SEND_DAYS days, or not looked up)."""

    send: bool
    last_sent_at: datetime | None = None

    def reason(self) -> str:
        """Why the step was skipped, in plain words."""
        days = settings.PORTAL_RECHECK_SEND_DAYS
        when = f" on {self.last_sent_at:%d %b %Y at %H:%M} UTC" if self.last_sent_at else ""
        return (
            f"Not sent this time: a scheduled check sends a test message at most every "
            f"{days} day{'s' if days != 1 else ''}, and the last one was sent{when}. "
            "Sign-in, permissions and the inbox read were checked as usual."
        )


def test_message_due(run: CheckRun) -> SendDecision:
    """Send unless the run is a scheduled one and a test message went out from the
    mailbox less than PORTAL_RECHECK_SEND_DAYS days ago."""
    if run.trigger != CheckRun.Trigger.SCHEDULE:
        return SendDecision(send=True)
    last = last_test_sent_at(run.mailbox_id, exclude=run.pk)
    if last is None:
        return SendDecision(send=True)
    old_enough = timezone.now() - last >= timedelta(days=settings.PORTAL_RECHECK_SEND_DAYS)
    return SendDecision(send=old_enough, last_sent_at=last)


def last_test_sent_at(mailbox_id: uuid.UUID, *, exclude: uuid.UUID) -> datetime | None:
    """When the newest test message Graph accepted for the mailbox was sent (`exclude`:
    the run asking), looked for within the last PORTAL_RECHECK_SEND_DAYS days only (an
    older one decides nothing): a few dozen runs at most, read in Python, as the steps
    are JSON."""
    since = timezone.now() - timedelta(days=settings.PORTAL_RECHECK_SEND_DAYS)
    recent = (
        CheckRun.objects.filter(mailbox_id=mailbox_id, finished_at__gte=since)
        .exclude(pk=exclude)
        .order_by("-finished_at")
        .values_list("finished_at", "steps")
    )
    for finished_at, steps in recent:
        if any(
            step.get("name") == "send_test" and step.get("outcome") == "passed"
            for step in steps or []
        ):
            return finished_at
    return None
