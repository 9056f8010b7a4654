"""Vendor mode's pages: step 3's consent button and Microsoft's two callbacks."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.actors import Actor
from onboarding import tasks
from onboarding.access import admin_tenant_or_404
from onboarding.consent.flow import CONSENT_ROLES
from onboarding.microsoft import MicrosoftError
from onboarding.models import Tenant
from onboarding.steps import MAILBOX, PERMISSIONS, step_path
from onboarding.vendor import connect, credential, services

log = logging.getLogger(__name__)


def _vendor_tenant(request: HttpRequest, tenant_id: object) -> Tenant:
    tenant = admin_tenant_or_404(request.user, tenant_id)
    if not tenant.uses_vendor_app or not credential.enabled():
        raise Http404("This tenant does not use the vendor's app.")
    return tenant


@login_required
@require_POST
def consent_start(request: HttpRequest, tenant_id: object) -> HttpResponse:
    """Step 3's button: off to Microsoft's admin consent for the vendor's app."""
    tenant = _vendor_tenant(request, tenant_id)
    return redirect(connect.consent_url(request.session, tenant, user_id=str(request.user.pk)))


@login_required
@require_GET
def consent_callback(request: HttpRequest) -> HttpResponse:
    """Back from consent: on to the silent sign-in that proves the directory."""
    try:
        returned = connect.consent_returned(
            request.session, request.GET, user_id=str(request.user.pk)
        )
    except connect.ConnectRejected as exc:
        log.warning("Vendor consent callback refused: %s", exc)  # names a rule, never input
        return render(request, "onboarding/consent_rejected.html", status=400)
    except MicrosoftError as exc:
        return _unavailable(request, exc)
    admin_tenant_or_404(request.user, returned.tenant.pk)
    if returned.failure is not None:
        return _failed(request, returned.tenant, returned.failure)
    return redirect(returned.next_url)


@login_required
@require_GET
def sign_in_callback(request: HttpRequest) -> HttpResponse:
    """Back from the proving sign-in: bind the tenant to the directory it proved."""
    try:
        proved = connect.signed_in(request.session, request.GET, user_id=str(request.user.pk))
    except connect.ConnectRejected as exc:
        log.warning("Vendor sign-in callback refused: %s", exc)
        return render(request, "onboarding/consent_rejected.html", status=400)
    except MicrosoftError as exc:
        return _unavailable(request, exc)
    tenant = admin_tenant_or_404(request.user, proved.tenant.pk)
    if proved.failure is not None:
        return _failed(request, tenant, proved.failure)
    try:
        _, checks = services.bind(tenant, proved.directory_id, actor=Actor.of(request))
    except services.DirectoryTaken:
        failure = connect.ConnectFailure("directory_taken")
        return _failed(request, tenant, failure)
    tasks.enqueue_requested(checks)
    messages.success(
        request,
        f"Admin consent granted in your directory ({proved.directory_id}), and proved by "
        f"your sign-in as {proved.username or 'an administrator'}.",
    )
    return redirect(step_path(tenant.pk, MAILBOX))


def _failed(request: HttpRequest, tenant: Tenant, failure: connect.ConnectFailure) -> HttpResponse:
    services.record_failure(tenant, kind=failure.kind, code=failure.code, actor=Actor.of(request))
    context = {
        "tenant": tenant,
        "failure": failure,
        "consent_roles": CONSENT_ROLES,
        "vendor_app_name": credential.app_name(),
        "step_url": step_path(tenant.pk, PERMISSIONS),
        "redirect_uris": [connect.consent_callback_url(), connect.sign_in_callback_url()],
    }
    return render(request, "onboarding/vendor/consent_failed.html", context)


def _unavailable(request: HttpRequest, exc: MicrosoftError) -> HttpResponse:
    """Microsoft could not be reached, or the vendor's own credential is not usable:
    nothing the admin did, and nothing was changed."""
    log.warning("Vendor consent could not go on: %s", exc.code)
    context = {"transient": exc.transient, "code": exc.code}
    return render(request, "onboarding/vendor/unavailable.html", context, status=503)
