"""The wizard's steps, one view each, in the order of the guide."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format

from onboarding import check_views, consent, entra, wizard
from onboarding.forms import AuthenticationForm, RegisterForm, SecretForm
from onboarding.models import CheckRun
from onboarding.views.consent import allow_form_to_microsoft
from onboarding.views.tenancy import (
    WizardPage,
    admin_tenant_or_404,
    posted,
    step_url,
    wizard_step,
)


@login_required
def resume(request: HttpRequest, tenant_id: object) -> HttpResponse:
    """Where an admin who comes back carries on."""
    tenant = admin_tenant_or_404(request, tenant_id)
    return redirect(step_url(tenant, wizard.progress_for(tenant).resume_step))


@wizard_step(1)
def register(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    initial = {"client_id": app.client_id, "directory": app.directory} if app else None
    form = RegisterForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        had_consent = bool(app and app.consent_granted_at)
        app = wizard.save_registration(
            page.tenant,
            client_id=form.cleaned_data["client_id"],
            directory=form.cleaned_data["directory"],
            directory_id=form.cleaned_data["directory_id"],
            actor=request.user,  # type: ignore[arg-type]
            request=request,
        )
        if had_consent and app.consent_granted_at is None:
            messages.warning(
                request, "The app or directory changed, so admin consent must be granted again."
            )
        return page.go_to(2)
    context = page.context(
        form=form,
        app_name=wizard.suggested_app_name(page.tenant),
        account_type=entra.ACCOUNT_TYPE,
        first_redirect_uri=entra.GUIDE_REDIRECT_URIS[0],
        new_registration_url=entra.new_registration_url(),
        app_list_url=entra.app_list_url(),
    )
    return render(request, "onboarding/register.html", context)


@wizard_step(2)
def authentication(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    assert app is not None  # step 1 is done
    form = AuthenticationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        wizard.confirm_authentication(app, actor=request.user, request=request)  # type: ignore[arg-type]
        return page.go_to(3)
    context = page.context(
        form=form,
        app=app,
        redirect_uris=entra.web_redirect_uris(),
        callback_url=consent.callback_url(),
        authentication_url=entra.app_page_url(app.client_id, "Authentication"),
    )
    return render(request, "onboarding/authentication.html", context)


@wizard_step(3)
def permissions(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    assert app is not None
    context = page.context(
        app=app,
        permissions=entra.GRAPH_PERMISSIONS,
        forward_url=consent.forward_url(app),
        callback_url=consent.callback_url(),
        consent_roles=consent.CONSENT_ROLES,
        api_permissions_url=entra.app_page_url(app.client_id, "CallAnAPI"),
    )
    return allow_form_to_microsoft(render(request, "onboarding/permissions.html", context))


@wizard_step(4)
def secret(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    assert app is not None
    form = SecretForm(posted(request), app=app, today=tenant_today(page))
    if request.method == "POST" and form.is_valid():
        saved = wizard.save_secret(
            app,
            value=form.cleaned_data["value"],
            secret_id=form.cleaned_data["secret_id"],
            expires_on=form.cleaned_data["expires_on"],
            by=request.user,  # type: ignore[arg-type]
            confirmed_warnings=[warning.code for warning in form.warnings],
            request=request,
        )
        for notice in form.notices:
            messages.info(request, notice.message)
        expires = date_format(saved.expires_on, "j F Y")
        messages.success(
            request, f"Secret {saved.hint}… saved, encrypted. It expires on {expires}."
        )
        return page.go_to(5)
    context = page.context(
        form=form,
        app=app,
        current=app.secrets.filter(status__in=wizard.LIVE_SECRET_STATUSES).first(),
        credentials_url=entra.app_page_url(app.client_id, "Credentials"),
    )
    return render(request, "onboarding/secret.html", context)


def tenant_today(page: WizardPage) -> date:
    """Today where the customer is: Entra counts a secret's days from the admin's day."""
    try:
        zone = ZoneInfo(page.tenant.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return timezone.localdate(timezone=zone)


@wizard_step(6)
def verify(request: HttpRequest, page: WizardPage) -> HttpResponse:
    if request.method == "POST":
        for mailbox in page.tenant.mailboxes.all():
            check_views.start_check(request, mailbox)
        return page.go_to(6)
    return render(request, "onboarding/verify.html", _verify_context(request, page))


@wizard_step(6)
def verify_status(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """The live part of the verify page, polled by htmx."""
    return render(request, "onboarding/verify_status.html", _verify_context(request, page))


def _verify_context(request: HttpRequest, page: WizardPage) -> dict[str, Any]:
    checks = check_views.verify_checks(request, page.tenant)
    pending = any(not item["run"].is_finished for item in checks)
    # Shown in the live fragment, so the way on appears as soon as the check passes.
    all_passed = bool(checks) and all(
        item["run"].status == CheckRun.Status.PASSED for item in checks
    )
    return page.context(checks=checks, pending=pending, all_passed=all_passed)


@wizard_step(7)
def done(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    context = page.context(app=app, mailboxes=page.tenant.mailboxes.order_by("address"))
    return render(request, "onboarding/done.html", context)
