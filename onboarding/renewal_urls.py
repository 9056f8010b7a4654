"""The one-click renewal link of the reminder e-mails: /renew/<tenant id>/.

ENTRY POINT ONLY. The renewal flow (issue 7, item 4) replaces `renew_secret` with
its own view under the same URL name, `onboarding:renew-secret`, so that links in
e-mails already sent keep working. Until then the link leads the admin to the
wizard's secret step, or home while the wizard has no such step.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, path, reverse

from onboarding.models import Membership, Tenant

app_name = "onboarding"

# The wizard's secret step, under the names it has had while being built.
SECRET_STEP_URLS: tuple[tuple[str, dict[str, object]], ...] = (
    ("onboarding:secret", {}),
    ("onboarding:step", {"step": 4}),
)


def _secret_step_url(tenant: Tenant) -> str:
    for name, kwargs in SECRET_STEP_URLS:
        try:
            return reverse(name, kwargs={"tenant_id": tenant.pk, **kwargs})
        except NoReverseMatch:
            continue
    return reverse("home")


@login_required
def renew_secret(request: HttpRequest, tenant_id: UUID) -> HttpResponse:
    # Another tenant's id is a 404, exactly like an id that does not exist.
    tenant = get_object_or_404(
        Tenant,
        pk=tenant_id,
        memberships__user=request.user,
        memberships__role=Membership.Role.ADMIN,
    )
    return redirect(_secret_step_url(tenant))


urlpatterns = [path("<uuid:tenant_id>/", renew_secret, name="renew-secret")]
