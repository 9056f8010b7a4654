"""The daily scan of expiry reminders: which secret is due for which reminder, and
claiming each exactly once.

Each day the scan works out, for every secret in use, the most recent threshold it has
crossed in its tenant's time zone (30, 14, 7, 3, 1 and 0 days before expiry by
default, then every 7 days once expired); a certificate that the portal renews by
itself is due for none (client_secrets.rolls_over_itself). Creating the ReminderDispatch row for
(secret, expiry, threshold) is the claim: the unique constraint lets only one scan
create it. Senders take it from there (onboarding.reminders.dispatch). The scan also
tells onboarding.checks.health which tenants' secret in use has expired.
docs/reminders.md tells the whole story.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Subquery
from django.utils import timezone

from onboarding.checks import health
from onboarding.client_secrets import rolls_over_itself, secrets_in_use
from onboarding.models import ReminderDispatch, local_today
from webhooks import events as webhook_events

logger = logging.getLogger(__name__)

WEEK = 7
# Rows per INSERT: well under the parameter limits of PostgreSQL and SQLite.
CLAIM_BATCH = 500

Status = ReminderDispatch.Status


@dataclass
class ScanResult:
    claimed: list[int] = field(default_factory=list)
    # Claimed earlier; their lease ran out before anyone sent them.
    reclaimed: list[int] = field(default_factory=list)
    expired_tenants: int = 0

    @property
    def to_send(self) -> list[int]:
        return self.claimed + self.reclaimed


# --- When is a reminder due -------------------------------------------------------


def due_threshold(days_left: int, days: Iterable[int] | None = None) -> int | None:
    """The most recent threshold crossed with `days_left` to go, or None if none yet.

    Only the latest one counts, so a scan that missed some days sends one reminder
    rather than a backlog. Once expired the thresholds go on weekly: -7, -14, ...
    """
    if days_left <= -WEEK:
        return -WEEK * (-days_left // WEEK)
    crossed = [
        day for day in (settings.REMINDER_DAYS if days is None else days) if day >= days_left
    ]
    return min(crossed) if crossed else None


def _candidates(
    now: datetime,
) -> Iterator[tuple[uuid.UUID, date, uuid.UUID, str, int | None, bool]]:
    """Secrets that may be due: (pk, expiry, tenant, time zone, lowest threshold sent,
    whether the portal rolls it over by itself, when no reminder is due)."""
    # No local date on Earth is more than a day ahead of UTC's.
    horizon = now.date() + timedelta(days=1 + max(settings.REMINDER_DAYS))
    lowest_sent = (
        ReminderDispatch.objects.filter(secret=OuterRef("pk"), expires_on=OuterRef("expires_on"))
        .order_by("threshold")
        .values("threshold")[:1]
    )
    return (
        secrets_in_use()
        .filter(expires_on__lte=horizon)
        .annotate(
            lowest_sent=Subquery(lowest_sent),
            rolls_over=ExpressionWrapper(rolls_over_itself(), output_field=BooleanField()),
        )
        .values_list(
            "pk",
            "expires_on",
            "app__tenant_id",
            "app__tenant__time_zone",
            "lowest_sent",
            "rolls_over",
        )
        .iterator(chunk_size=2000)
    )


def _due(now: datetime) -> tuple[list[tuple[uuid.UUID, date, int]], set[uuid.UUID]]:
    """Reminders to claim as (secret, expiry, threshold), and tenants whose secret expired."""
    todays: dict[str, date] = {}
    wanted, expired = [], set()
    for pk, expires_on, tenant_id, time_zone, lowest_sent, rolls_over in _candidates(now):
        if time_zone not in todays:
            todays[time_zone] = local_today(time_zone, now)
        days_left = (expires_on - todays[time_zone]).days
        if days_left < 0:
            expired.add(tenant_id)
        threshold = None if rolls_over else due_threshold(days_left)
        if threshold is not None and (lowest_sent is None or threshold < lowest_sent):
            wanted.append((pk, expires_on, threshold))
    return wanted, expired


# --- Claiming -------------------------------------------------------------------------


def lease() -> timedelta:
    return timedelta(minutes=settings.REMINDER_LEASE_MINUTES)


def _insert_new(rows: list[ReminderDispatch]) -> list[int]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id; the ids of the rows created.

    PostgreSQL and SQLite return only the rows this statement inserted, so a row
    another scan created first is simply not ours. bulk_create(ignore_conflicts=True)
    cannot tell which rows it created.
    """
    meta = ReminderDispatch._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column) for f in meta.concrete_fields}
    unique = ", ".join(column[name] for name in ("secret", "expires_on", "threshold"))
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Every name comes from the model and every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(column[f.name] for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([one_row] * len(rows))} "
        f"ON CONFLICT ({unique}) DO NOTHING RETURNING {column['id']}"
    )
    params = [
        f.get_db_prep_save(f.pre_save(row, add=True), connection) for row in rows for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def claim(wanted: list[tuple[uuid.UUID, date, int]], now: datetime) -> list[int]:
    """Create the dispatch rows; returns the ids of those this call created."""
    claimed: list[int] = []
    for start in range(0, len(wanted), CLAIM_BATCH):
        rows = [
            ReminderDispatch(
                secret_id=secret_pk,
                expires_on=expires_on,
                threshold=threshold,
                claimed_at=now,
                lease_until=now + lease(),
            )
            for secret_pk, expires_on, threshold in wanted[start : start + CLAIM_BATCH]
        ]
        claimed += _insert_new(rows)
    return claimed


def _announce_expiring(dispatch_ids: list[int]) -> None:
    """The operations app hears of each threshold the admins are reminded of, in the
    transaction of the claim: one webhook event per mailbox that uses the secret."""
    dispatches = ReminderDispatch.objects.filter(pk__in=dispatch_ids).select_related(
        "secret__app__tenant"
    )
    for dispatch in dispatches.prefetch_related("secret__app__tenant__mailboxes"):
        tenant = dispatch.secret.app.tenant
        webhook_events.credential_expiring(
            tenant_id=tenant.pk,
            connection_ids=[mailbox.pk for mailbox in tenant.mailboxes.all()],
            secret_id=dispatch.secret.secret_id,
            expires_on=dispatch.expires_on,
            days_left=dispatch.threshold,
        )


def _stale_claims(now: datetime) -> list[int]:
    """Claimed rows whose lease ran out unsent; those tried too often are given up."""
    stale = ReminderDispatch.objects.filter(status=Status.CLAIMED, lease_until__lt=now)
    stale.filter(attempts__gte=settings.REMINDER_MAX_ATTEMPTS).update(
        status=Status.FAILED, lease_until=None, error="Gave up after the maximum of attempts."
    )
    return list(stale.values_list("pk", flat=True))


def scan(now: datetime | None = None) -> ScanResult:
    """Claim every reminder due now; returns what the caller must hand to senders."""
    now = now or timezone.now()
    wanted, expired = _due(now)
    with transaction.atomic():
        claimed = claim(wanted, now)
        _announce_expiring(claimed)
    result = ScanResult(claimed=claimed, reclaimed=_stale_claims(now))
    result.expired_tenants = health.tenants_expired(expired)
    logger.info(
        "Reminder scan: %d claimed, %d reclaimed, %d tenant(s) newly expired",
        len(result.claimed),
        len(result.reclaimed),
        result.expired_tenants,
    )
    return result
