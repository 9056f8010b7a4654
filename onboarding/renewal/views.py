"""Renewing the client secret: the reminder e-mails' one-click link leads here."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.actors import Actor
from onboarding import tasks
from onboarding.access import admin_tenant_or_404
from onboarding.checks.results import status_context
from onboarding.microsoft import admin_center
from onboarding.models import AppRegistration, CheckRun, ClientSecret
from onboarding.renewal import workflow
from onboarding.wizard.forms import SecretForm


@login_required
@require_http_methods(["GET", "POST"])
def renew_secret(request: HttpRequest, tenant_id: UUID) -> HttpResponse:
    # Another tenant's id is a 404, exactly like an id that does not exist.
    tenant = admin_tenant_or_404(request.user, tenant_id)
    app = AppRegistration.objects.filter(tenant=tenant).first()
    if app is None or not tenant.mailboxes.exists():
        messages.info(request, "Finish the setup first: renewal replaces a working secret.")
        return redirect("onboarding:resume", tenant.pk)
    form = SecretForm(request.POST or None, app=app, today=tenant.local_today())
    if request.method == "POST" and form.is_valid():
        requested = workflow.renewal_start(
            app=app,
            value=form.cleaned_data["value"],
            secret_id=form.cleaned_data["secret_id"],
            expires_on=form.cleaned_data["expires_on"],
            actor=Actor.of(request),
        )
        tasks.enqueue_requested(requested)
        return redirect("onboarding:renew-status", tenant.pk, requested.run.pk)
    current = app.secrets.filter(status=ClientSecret.Status.ACTIVE).first()
    context = {
        "tenant": tenant,
        "form": form,
        "current": current,
        "credentials_url": admin_center.app_page_url(app.client_id, "Credentials"),
    }
    return render(request, "onboarding/renew_secret.html", context)


@login_required
@require_GET
def renew_status(request: HttpRequest, tenant_id: UUID, check_run_id: UUID) -> HttpResponse:
    tenant = admin_tenant_or_404(request.user, tenant_id)
    run = get_object_or_404(
        CheckRun.objects.select_related("mailbox", "secret"),
        pk=check_run_id,
        mailbox__tenant=tenant,
        trigger=CheckRun.Trigger.RENEWAL,
    )
    # htmx polls only the fragment; it marks its requests with HX-Request.
    partial = request.headers.get("HX-Request") == "true"
    template = "onboarding/_renew_status.html" if partial else "onboarding/renew_status.html"
    context = {
        "tenant": tenant,
        "secret": run.secret,
        "retired": _retired_by(run),
        "fragment_url": reverse("onboarding:renew-status", args=[tenant.pk, run.pk]),
        **status_context(run),
        "poll": False,
    }
    return render(request, template, context)


def _retired_by(run: CheckRun) -> list[ClientSecret]:
    """The secrets this renewal retired (right after its check finished): the ones to
    delete in Entra."""
    secret = run.secret
    if secret is None or secret.status != ClientSecret.Status.ACTIVE or not run.finished_at:
        return []
    return list(
        secret.app.secrets.filter(
            status=ClientSecret.Status.RETIRED, retired_at__gte=run.finished_at
        ).exclude(pk=secret.pk)
    )
