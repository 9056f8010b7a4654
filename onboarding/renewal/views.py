"""Renewing the client secret: the reminder e-mails' one-click link leads here.

Entra keeps two client secrets at most for the guide's account type (renewal.limits): the
renewal page says which one to delete before a new one is created, takes the admin's
"I deleted it", and explains Entra's refusal when the admin reports it.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.actors import Actor
from onboarding import tasks
from onboarding.access import admin_tenant_or_404
from onboarding.audit import audit_record
from onboarding.checks.results import status_context
from onboarding.client_secrets import secret_deleted_in_entra
from onboarding.diagnosis import CATALOGUE
from onboarding.microsoft import admin_center
from onboarding.models import AppRegistration, CheckRun, ClientSecret
from onboarding.renewal import workflow
from onboarding.renewal.limits import ENTRA_REFUSAL, SecretRoom, secret_room
from onboarding.wizard.forms import SecretForm


@sensitive_post_parameters("value")
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
        try:
            requested = workflow.renewal_start(
                app=app,
                value=form.cleaned_data["value"],
                secret_id=form.cleaned_data["secret_id"],
                expires_on=form.cleaned_data["expires_on"],
                actor=Actor.of(request),
            )
        except workflow.FirstSecretUnverified as refused:
            messages.info(request, str(refused))
            return redirect("onboarding:resume", tenant.pk)
        tasks.enqueue_requested(requested)
        return redirect("onboarding:renew-status", tenant.pk, requested.run.pk)
    room = secret_room(app)
    context = {
        "tenant": tenant,
        "form": form,
        "current": room.active,
        **_room_context(app, room),
    }
    return render(request, "onboarding/renew_secret.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def renew_limit(request: HttpRequest, tenant_id: UUID) -> HttpResponse:
    """The admin reports Entra's refusal of a new secret (POST, audited), and reads why
    and which secret to delete (GET)."""
    tenant = admin_tenant_or_404(request.user, tenant_id)
    app = get_object_or_404(AppRegistration, tenant=tenant)
    room = secret_room(app)
    if request.method == "POST":
        audit_record(
            action="client_secret.limit_reported",
            actor=Actor.of(request),
            tenant=tenant,
            obj=app,
            known_in_entra=room.count,
            to_delete=str(room.to_delete.secret_id) if room.to_delete else "",
        )
        return redirect("onboarding:renew-limit", tenant.pk)
    context = {
        "tenant": tenant,
        "diagnosis": CATALOGUE["secret_limit_reached"],
        "refusal": ENTRA_REFUSAL,
        **_room_context(app, room),
    }
    return render(request, "onboarding/renew_limit.html", context)


@login_required
@require_POST
def secret_deleted(request: HttpRequest, tenant_id: UUID, secret_pk: UUID) -> HttpResponse:
    """ "I deleted it": the admin deleted this retired or rejected secret in Entra."""
    tenant = admin_tenant_or_404(request.user, tenant_id)
    secret = get_object_or_404(
        ClientSecret.objects.select_related("app__tenant"), pk=secret_pk, app__tenant=tenant
    )
    if secret_deleted_in_entra(secret, actor=Actor.of(request)):
        messages.success(
            request,
            f"Noted: the secret {secret.hint}… (Secret ID {secret.secret_id}) is deleted in "
            "Entra, so there is room for a new one.",
        )
    elif secret.deleted_in_entra_at is not None:
        messages.info(request, "That secret was already noted as deleted in Entra.")
    else:
        messages.error(
            request,
            "Nothing was noted: that secret is in use or being verified, so it must stay in "
            "Entra. Delete only the secret this page names.",
        )
    return redirect("onboarding:renew-secret", tenant.pk)


def _room_context(app: AppRegistration, room: SecretRoom) -> dict[str, object]:
    pending_run = None
    if room.pending is not None:
        pending_run = (
            CheckRun.objects.filter(secret=room.pending, trigger=CheckRun.Trigger.RENEWAL)
            .order_by("-created_at")
            .first()
        )
    return {
        "room": room,
        "pending_run": pending_run,
        "credentials_url": admin_center.app_page_url(app.client_id, "Credentials"),
    }


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
