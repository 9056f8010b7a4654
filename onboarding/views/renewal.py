"""Renewing the client secret: the one-click link of the reminder e-mails."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from onboarding.views.tenancy import admin_tenant_or_404


@login_required
def renew_secret(request: HttpRequest, tenant_id: UUID) -> HttpResponse:
    # Another tenant's id is a 404, exactly like an id that does not exist.
    tenant = admin_tenant_or_404(request, tenant_id)
    return redirect(reverse("onboarding:secret", args=[tenant.pk]))
