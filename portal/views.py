from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from onboarding.provisioning import flow as provisioning
from onboarding.status import tenant_summary
from onboarding.steps import STEP_COUNT
from onboarding.vendor import credential as vendor
from portal import readiness


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each kind of user to where their work is."""
    if getattr(request.user, "is_support", False):
        return redirect("support:tenant-list")
    memberships = request.user.memberships.select_related("tenant")  # type: ignore[union-attr]
    # One state per tenant, decided by onboarding.status as on the Done page and support.
    tenants = [(m.tenant, tenant_summary(m.tenant)) for m in memberships]
    context = {
        "tenants": tenants,
        "steps": STEP_COUNT,
        # "Before you start" matters while a setup is left, and most before it begins.
        "setup_left": any(summary.state.setup_left for _, summary in tenants),
        "not_started": any(summary.step == 1 for _, summary in tenants),
        # The guide's way, the vendor's app, the portal registering the app.
        "ways_to_connect": 1 + vendor.enabled() + provisioning.enabled(),
    }
    return render(request, "home.html", context)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and the container health check: the process answers and
    reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """For load balancers and compose: 200 when the database, cache, broker and keyring
    all work, else 503; each named "ok" or "failed" (portal.readiness)."""
    ready, body = readiness.report()
    return JsonResponse(body, status=200 if ready else 503)
