"""The tenant list: one query for a page of tenants, whatever their number.

Everything a row shows is an annotation (correlated subqueries on the tenant's
active secret and first mailbox), so filters, search and sorting run in the
database and a page costs the same two queries (count + rows) for 10 or 10,000
tenants. Bad filter values are ignored, never an error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from onboarding import status
from onboarding.models import AppRegistration, AuditEvent, ClientSecret, Mailbox, Tenant
from onboarding.steps import DONE, STEP_COUNT

EXPIRY_WINDOWS = (7, 30, 90)
SORTS = {
    "name": ("name",),
    "-name": ("-name",),
    "step": ("onboarding_step", "name"),
    "-step": ("-onboarding_step", "name"),
    "health": ("health", "name"),
    "expiry": (F("secret_expires_on").asc(nulls_last=True), "name"),
    "-expiry": (F("secret_expires_on").desc(nulls_last=True), "name"),
    "last-success": (F("last_success_at").asc(nulls_first=True), "name"),
    "-last-success": (F("last_success_at").desc(nulls_last=True), "name"),
    "created": ("created_at", "name"),
    "-created": ("-created_at", "name"),
    "waiting": ("last_activity_at", "name"),
    "-waiting": ("-last_activity_at", "name"),
}
SORT_LABELS = {
    "name": "Name, A to Z",
    "-name": "Name, Z to A",
    "step": "Setup step, lowest first",
    "-step": "Setup step, highest first",
    "health": "Health",
    "expiry": "Secret expiry, soonest first",
    "-expiry": "Secret expiry, latest first",
    "last-success": "Last success, oldest first",
    "-last-success": "Last success, newest first",
    "created": "Created, oldest first",
    "-created": "Created, newest first",
    "waiting": "Last activity, longest ago first",
    "-waiting": "Last activity, most recent first",
}
DEFAULT_SORT = "name"
# "Failing": a finished setup whose mail broke (onboarding.status). A tenant still in
# the setup is not failing, however its first checks went: it is waiting on a step.
FAILING_STATES = (status.PARTLY, status.FAILING)
SIGN_IN_ACTIONS = ("login", "logout", "login.failed", "login.locked_out")


@dataclass(frozen=True)
class Filters:
    q: str = ""
    failing: bool = False
    expiring: int | None = None  # days
    expired: bool = False
    stuck: int | None = None  # days in setup without the customer doing anything; 0 counts
    never_verified: bool = False
    state: str = ""  # an onboarding.status key
    reached: int | None = None  # setup step reached, at least
    expires_week: date | None = None  # the secret in use expires in the 7 days from it
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, params: dict[str, str]) -> Filters:
        expiring = _int(params.get("expiring"))
        return cls(
            # PostgreSQL refuses NUL in text; nobody searches for one.
            q=params.get("q", "").replace("\x00", "").strip()[:200],
            failing=params.get("failing") == "1",
            expiring=expiring if expiring in EXPIRY_WINDOWS else None,
            expired=params.get("expired") == "1",
            stuck=_int(params.get("stuck"), minimum=0, maximum=3650),
            never_verified=params.get("never_verified") == "1",
            state=params.get("state", "") if params.get("state", "") in status.STATE_BY_KEY else "",
            reached=_int(params.get("reached"), maximum=STEP_COUNT),
            expires_week=_date(params.get("expires_week")),
            sort=params.get("sort", "") if params.get("sort", "") in SORTS else DEFAULT_SORT,
        )


def _int(raw: str | None, *, minimum: int = 1, maximum: int = 10_000) -> int | None:
    # Only plain digits: "-5", "1e3" and 20-digit numbers are ignored, never an error.
    if raw is None or not raw.strip().isdigit() or len(raw.strip()) > 6:
        return None
    value = int(raw)
    return value if minimum <= value <= maximum else None


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return None


def tenant_rows(filters: Filters, *, today: date | None = None) -> QuerySet[Tenant]:
    today = today or timezone.localdate()
    tenants = _annotated(Tenant.objects.all())
    tenants = _filtered(tenants, filters, today)
    if filters.q:
        tenants = tenants.filter(_search(filters.q))
    return tenants.order_by(*SORTS[filters.sort])


def _annotated(tenants: QuerySet[Tenant]) -> QuerySet[Tenant]:
    secret = ClientSecret.objects.filter(
        app__tenant=OuterRef("pk"), status=ClientSecret.Status.ACTIVE
    ).order_by("-expires_on")
    mailbox = Mailbox.objects.filter(tenant=OuterRef("pk")).order_by("created_at", "address")
    last_success = (
        Mailbox.objects.filter(tenant=OuterRef("pk"))
        .values("tenant")
        .annotate(latest=Max("last_success_at"))
        .values("latest")
    )
    # The customer's last doing (an audit event by one of the tenant's own users): what
    # "waiting since" counts from. Support's notes and checks, and the scheduled
    # checks, are not the customer moving on. Until the customer's first step: the
    # tenant's creation.
    # Signing in is not moving on: a customer who looks in daily and stops at a step is
    # still stuck there.
    by_customer = (
        AuditEvent.objects.filter(tenant=OuterRef("pk"), actor__memberships__tenant=OuterRef("pk"))
        .exclude(action__in=SIGN_IN_ACTIONS)
        .order_by("-at")
    )
    consent_failure = AuditEvent.objects.filter(
        tenant=OuterRef("pk"), action__in=("consent.failed", "vendor_consent.failed")
    ).order_by("-at")
    return tenants.select_related("app_registration").annotate(
        last_activity_at=Coalesce(Subquery(by_customer.values("at")[:1]), F("created_at")),
        consent_failed_at=Subquery(consent_failure.values("at")[:1]),
        consent_failure=Subquery(consent_failure.values("details")[:1]),
        secret_expires_on=Subquery(secret.values("expires_on")[:1]),
        secret_hint=Subquery(secret.values("hint")[:1]),
        mailbox_address=Subquery(mailbox.values("address")[:1]),
        mailbox_health=Subquery(mailbox.values("health")[:1]),
        diagnosis_code=Subquery(mailbox.values("diagnosis_code")[:1]),
        last_success_at=Subquery(last_success),
    )


def _filtered(tenants: QuerySet[Tenant], filters: Filters, today: date) -> QuerySet[Tenant]:
    if filters.failing:
        tenants = tenants.filter(_any_state(FAILING_STATES))
    if filters.state:
        tenants = tenants.filter(status.STATE_FILTERS[filters.state])
    if filters.reached is not None:
        tenants = tenants.filter(onboarding_step__gte=filters.reached)
    if filters.expires_week is not None:
        # The overview's bar of that week: tenants with an active secret expiring in it.
        start = filters.expires_week
        expiring = ClientSecret.objects.filter(
            status=ClientSecret.Status.ACTIVE,
            expires_on__gte=start,
            expires_on__lt=start + timedelta(days=7),
        ).values("app__tenant")
        tenants = tenants.filter(pk__in=expiring)
    if filters.expiring is not None:
        window = Q(latest__gte=today, latest__lte=today + timedelta(days=filters.expiring))
        tenants = tenants.filter(pk__in=_latest_expiry(window))
    if filters.expired:
        tenants = tenants.filter(
            Q(pk__in=_latest_expiry(Q(latest__lt=today))) | Q(health=Tenant.Health.EXPIRED)
        )
    if filters.stuck is not None:
        # 0 days: every tenant in the setup that has not moved since a moment ago.
        tenants = tenants.filter(
            onboarding_step__lt=DONE,
            last_activity_at__lte=timezone.now() - timedelta(days=filters.stuck),
        )  # type: ignore[misc]  # an annotation of _annotated, unknown to the stubs
    if filters.never_verified:
        verified = Mailbox.objects.filter(last_success_at__isnull=False).values("tenant")
        tenants = tenants.exclude(pk__in=verified)
    return tenants


def _any_state(keys: tuple[str, ...]) -> Q:
    condition = Q(pk__in=[])
    for key in keys:
        condition |= status.STATE_FILTERS[key]
    return condition


# Filters are uncorrelated subqueries (`pk IN (...)`): PostgreSQL computes each once
# and hashes it, where a correlated subquery in WHERE would run once per tenant.


def _latest_expiry(condition: Q) -> QuerySet[Any, dict[str, Any]]:
    """Tenants whose active secret expiring last matches the condition on `latest`."""
    return (
        ClientSecret.objects.filter(status=ClientSecret.Status.ACTIVE)
        .values("app__tenant")
        .annotate(latest=Max("expires_on"))
        .filter(condition)
        .values("app__tenant")
    )


def _search(q: str) -> Q:
    app_match = Q(directory__icontains=q) | Q(client_id__icontains=q) | Q(directory_id__icontains=q)
    apps = AppRegistration.objects.filter(app_match).values("tenant")
    mailboxes = Mailbox.objects.filter(address__icontains=q).values("tenant")
    return Q(name__icontains=q) | Q(pk__in=apps) | Q(pk__in=mailboxes)


def days_until(expires_on: date | None, today: date) -> int | None:
    return None if expires_on is None else (expires_on - today).days


def expiry_colour(days: int | None) -> str:
    """A Bootstrap colour for the days left: the sooner, the louder."""
    if days is None:
        return "secondary"
    if days <= 7:
        return "danger"
    if days <= 30:
        return "warning"
    return "success"
