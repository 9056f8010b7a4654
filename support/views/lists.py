"""The tenant list, its CSV export and the overview charts."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from onboarding import status
from onboarding.vendor import watch as vendor_watch
from support import charts, overview
from support.blockers import blocker
from support.decorators import support_required
from support.export import CONTENT_TYPE, csv_lines
from support.tenant_list import (
    EXPIRY_WINDOWS,
    SORT_LABELS,
    Filters,
    days_until,
    expiry_colour,
    tenant_rows,
)

PAGE_SIZE = 50


@support_required
def tenant_list(request: HttpRequest) -> HttpResponse:
    filters = Filters.from_query(request.GET.dict())
    today = timezone.localdate()
    page = Paginator(tenant_rows(filters, today=today), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for tenant in page:
        days = days_until(tenant.secret_expires_on, today)  # type: ignore[attr-defined]
        tenant.days_left = days  # type: ignore[attr-defined]
        tenant.expiry_colour = expiry_colour(days)  # type: ignore[attr-defined]
        tenant.state = status.tenant_state(tenant)  # type: ignore[attr-defined]
        tenant.blocker = blocker(tenant)  # type: ignore[attr-defined]
        idle = now - tenant.last_activity_at  # type: ignore[attr-defined]
        tenant.idle_days = idle.days  # type: ignore[attr-defined]
    context = {
        "page": page,
        "tenants": page.object_list,
        "filters": filters,
        "query": _without(request, "page"),
        "sort_options": SORT_LABELS.items(),
        "expiry_windows": EXPIRY_WINDOWS,
        "states": status.STATES,
    }
    return render(request, "support/tenant_list.html", context)


def _without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@support_required
def tenant_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = Filters.from_query(request.GET.dict())
    today = timezone.localdate()
    rows = tenant_rows(filters, today=today).iterator(chunk_size=1000)
    response = StreamingHttpResponse(csv_lines(rows, today), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="tenants-{today:%Y-%m-%d}.csv"'
    return response


@support_required
def overview_page(request: HttpRequest) -> HttpResponse:
    context = {
        "expiries": charts.bar_chart(overview.expiries_per_week()),
        "states": overview.state_distribution(),
        "funnel": overview.onboarding_funnel(),
        "vendor": vendor_watch.health(),
    }
    return render(request, "support/overview.html", context)
