"""The overview's figures: a few small aggregate queries, whatever the number of tenants.
Each bar names what it counts and links to the tenant list filtered to those tenants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from onboarding import status
from onboarding.models import ClientSecret, Tenant
from onboarding.steps import STEPS
from support.charts import Bar

WEEKS = 26


@dataclass(frozen=True)
class Row:
    """One line of a horizontal chart: drawn with <progress>, so it needs no inline style
    and reads the same on a phone."""

    label: str
    value: int
    top: int  # the largest value of the chart, the bar's maximum
    link: str
    tone: str = ""


def _list_url(**params: str | int) -> str:
    return f"{reverse('support:tenant-list')}?{urlencode(params)}"


def expiries_per_week(today: date | None = None) -> list[Bar]:
    """Active secrets expiring in each of the next 26 weeks (week 1 starts today)."""
    today = today or timezone.localdate()
    end = today + timedelta(weeks=WEEKS)
    per_day = (
        ClientSecret.objects.filter(
            status=ClientSecret.Status.ACTIVE, expires_on__gte=today, expires_on__lt=end
        )
        .values("expires_on")
        .annotate(n=Count("id"))
    )
    counts = [0] * WEEKS
    for row in per_day:
        counts[(row["expires_on"] - today).days // 7] += row["n"]
    weeks = [today + timedelta(weeks=week) for week in range(WEEKS)]
    return [
        Bar(label=f"{start:%d %b}", value=count, link=_list_url(expires_week=start.isoformat()))
        for start, count in zip(weeks, counts, strict=True)
    ]


def state_distribution() -> list[Row]:
    """Tenants in each state of onboarding.status, in one query."""
    counts = Tenant.objects.aggregate(
        **{key: Count("id", filter=condition) for key, condition in status.STATE_FILTERS.items()}
    )
    top = max(counts.values(), default=0)
    return [
        Row(state.label, counts[state.key], top, _list_url(state=state.key), state.tone)
        for state in status.STATES
    ]


def onboarding_funnel() -> list[Row]:
    """Tenants that reached each step (a tenant at step 5 has passed steps 1-4), named
    as the wizard names them."""
    at_step = dict(Tenant.objects.values_list("onboarding_step").annotate(n=Count("id")).order_by())
    reached = [(step, sum(n for at, n in at_step.items() if at >= step.number)) for step in STEPS]
    top = max((n for _, n in reached), default=0)
    return [
        Row(f"Step {step.number}: {step.title}", n, top, _list_url(reached=step.number))
        for step, n in reached
    ]
