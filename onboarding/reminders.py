"""Expiry reminders: which secret is due for which reminder, claiming it exactly
once, sending it, and the daily digest for support.

Each day the scan works out, for every active secret that no newer active secret
has replaced, the most recent threshold it has crossed in its tenant's time zone
(30, 14, 7, 3, 1 and 0 days before expiry by default, then every 7 days once
expired). Creating the ReminderDispatch row for (secret, expiry, threshold) is
the claim: the unique constraint lets only one scan create it. A sender takes a
claimed row with a conditional UPDATE and holds it for a lease, so that two
workers never both send it and one that died is overtaken after the lease.
docs/reminders.md tells the whole story.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from onboarding import emails
from onboarding.audit import audit_record
from onboarding.models import ClientSecret, Membership, ReminderDispatch, Tenant

logger = logging.getLogger(__name__)

WEEK = 7
# Rows per INSERT: well under the parameter limits of PostgreSQL and SQLite.
CLAIM_BATCH = 500
UTC = ZoneInfo("UTC")

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


def tenant_zone(name: str) -> ZoneInfo:
    """The tenant's time zone; a name the system does not know means UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("Unknown time zone %r; using UTC", name)
        return UTC


def local_today(time_zone: str, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(tenant_zone(time_zone)).date()


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


def active_unreplaced() -> QuerySet[ClientSecret]:
    """Secrets in use: active, and no active secret of the same app lasts longer."""
    newer = ClientSecret.objects.filter(
        app=OuterRef("app"),
        status=ClientSecret.Status.ACTIVE,
        expires_on__gt=OuterRef("expires_on"),
    )
    return ClientSecret.objects.filter(status=ClientSecret.Status.ACTIVE).exclude(Exists(newer))


def _candidates(now: datetime) -> Iterator[tuple[uuid.UUID, date, uuid.UUID, str, int | None]]:
    """Secrets that may be due: (pk, expiry, tenant, time zone, lowest threshold sent)."""
    # No local date on Earth is more than a day ahead of UTC's.
    horizon = now.date() + timedelta(days=1 + max(settings.REMINDER_DAYS))
    lowest_sent = (
        ReminderDispatch.objects.filter(secret=OuterRef("pk"), expires_on=OuterRef("expires_on"))
        .order_by("threshold")
        .values("threshold")[:1]
    )
    return (
        active_unreplaced()
        .filter(expires_on__lte=horizon)
        .annotate(lowest_sent=Subquery(lowest_sent))
        .values_list("pk", "expires_on", "app__tenant_id", "app__tenant__time_zone", "lowest_sent")
        .iterator(chunk_size=2000)
    )


def _due(now: datetime) -> tuple[list[tuple[uuid.UUID, date, int]], set[uuid.UUID]]:
    """Reminders to claim as (secret, expiry, threshold), and tenants whose secret expired."""
    todays: dict[str, date] = {}
    wanted, expired = [], set()
    for pk, expires_on, tenant_id, time_zone, lowest_sent in _candidates(now):
        if time_zone not in todays:
            todays[time_zone] = local_today(time_zone, now)
        days_left = (expires_on - todays[time_zone]).days
        if days_left < 0:
            expired.add(tenant_id)
        threshold = due_threshold(days_left)
        if threshold is not None and (lowest_sent is None or threshold < lowest_sent):
            wanted.append((pk, expires_on, threshold))
    return wanted, expired


# --- Claiming -------------------------------------------------------------------------


def _lease() -> timedelta:
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
                lease_until=now + _lease(),
            )
            for secret_pk, expires_on, threshold in wanted[start : start + CLAIM_BATCH]
        ]
        claimed += _insert_new(rows)
    return claimed


def _stale_claims(now: datetime) -> list[int]:
    """Claimed rows whose lease ran out unsent; those tried too often are given up."""
    stale = ReminderDispatch.objects.filter(status=Status.CLAIMED, lease_until__lt=now)
    stale.filter(attempts__gte=settings.REMINDER_MAX_ATTEMPTS).update(
        status=Status.FAILED, lease_until=None, error="Gave up after the maximum of attempts."
    )
    return list(stale.values_list("pk", flat=True))


def mark_tenants_expired(tenant_ids: Iterable[uuid.UUID]) -> int:
    """A secret in use is past its expiry: the tenant's mail has stopped."""
    with transaction.atomic():
        # Locked in one order (no deadlock), and re-checked after any wait for a lock,
        # so that of two scans only one records each change.
        tenants = list(
            Tenant.objects.select_for_update()
            .filter(pk__in=list(tenant_ids))
            .exclude(health=Tenant.Health.EXPIRED)
            .order_by("pk")
        )
        if tenants:
            Tenant.objects.filter(pk__in=[t.pk for t in tenants]).update(
                health=Tenant.Health.EXPIRED
            )
        for tenant in tenants:
            audit_record(action="tenant.expired", tenant=tenant, obj=tenant, previous=tenant.health)
    return len(tenants)


def scan(now: datetime | None = None) -> ScanResult:
    """Claim every reminder due now; returns what the caller must hand to senders."""
    now = now or timezone.now()
    wanted, expired = _due(now)
    with transaction.atomic():
        claimed = claim(wanted, now)
    result = ScanResult(claimed=claimed, reclaimed=_stale_claims(now))
    result.expired_tenants = mark_tenants_expired(expired)
    logger.info(
        "Reminder scan: %d claimed, %d reclaimed, %d tenant(s) newly expired",
        len(result.claimed),
        len(result.reclaimed),
        result.expired_tenants,
    )
    return result


# --- Sending --------------------------------------------------------------------------


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
    ).update(attempts=F("attempts") + 1, lease_until=now + _lease())
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


def recipients(tenant: Tenant) -> list[str]:
    """The tenant's active admins and its extra notification addresses, once each."""
    admins = get_user_model().objects.filter(
        is_active=True, memberships__tenant=tenant, memberships__role=Membership.Role.ADMIN
    )
    addresses = [*admins.values_list("email", flat=True)]
    addresses += tenant.notification_addresses.values_list("email", flat=True)
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


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
    if not active_unreplaced().filter(pk=secret.pk, expires_on=dispatch.expires_on).exists():
        _finish(dispatch_id, attempt, status=Status.SKIPPED)
        return Status.SKIPPED
    to = recipients(tenant)
    if not to:
        _finish(dispatch_id, attempt, status=Status.FAILED, error="No admin or address to tell.")
        return Status.FAILED
    days_left = (secret.expires_on - local_today(tenant.time_zone)).days
    try:
        emails.secret_expiry_reminder(to=to, secret=secret, days_left=days_left)
    except Exception as exc:
        _give_back(dispatch_id, attempt, exc)
        raise
    _mark_sent(dispatch, attempt, recipients=len(to))
    return Status.SENT


# --- The daily digest for support -----------------------------------------------------


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
    in_use = active_unreplaced()
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
        emails.reminder_digest(to=[settings.SUPPORT_EMAIL], content=content, today=now.date())
    except Exception:
        cache.delete(key)
        raise
    return True
