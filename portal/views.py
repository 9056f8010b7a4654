from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from onboarding.steps import STEP_COUNT


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each kind of user to where their work is."""
    if getattr(request.user, "is_support", False):
        return redirect("support:tenant-list")
    memberships = request.user.memberships.select_related("tenant")  # type: ignore[union-attr]
    return render(request, "home.html", {"memberships": memberships, "steps": STEP_COUNT})


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and the container health check: the process answers and
    reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
