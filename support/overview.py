"""The overview's figures: three small aggregate queries, whatever the number of tenants."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone

from onboarding.models import ClientSecret, Tenant
from onboarding.steps import STEP_COUNT
from support.charts import Bar

WEEKS = 26


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
    return [
        Bar(label=f"{today + timedelta(weeks=week):%d %b}", value=count)
        for week, count in enumerate(counts)
    ]


def health_distribution() -> list[Bar]:
    counts = dict(Tenant.objects.values_list("health").annotate(n=Count("id")).order_by())
    return [
        Bar(label=label, value=counts.get(value, 0), tone=value)
        for value, label in Tenant.Health.choices
    ]


def onboarding_funnel() -> list[Bar]:
    """Tenants that reached each step (a tenant at step 5 has passed steps 1-4)."""
    at_step = dict(Tenant.objects.values_list("onboarding_step").annotate(n=Count("id")).order_by())
    return [
        Bar(
            label=f"Step {step}",
            value=sum(n for reached, n in at_step.items() if reached >= step),
        )
        for step in range(1, STEP_COUNT + 1)
    ]
