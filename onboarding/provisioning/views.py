"""The automatic registration's pages: the sign-in button of step 1's plan, and
Microsoft's callback, which registers the app and says how it went."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.actors import Actor
from onboarding import tasks
from onboarding.access import admin_tenant_or_404
from onboarding.consent import flow as consent
from onboarding.delegated import flow as sign_in
from onboarding.microsoft import MicrosoftError, admin_center
from onboarding.models import AppRegistration, Tenant
from onboarding.provisioning import flow, plan, workflow
from onboarding.steps import MAILBOX, REGISTER, step_path
from onboarding.wizard.services import suggested_app_name

log = logging.getLogger(__name__)


def plan_of(tenant: Tenant, credential_kind: str) -> plan.Plan:
    """The plan for this tenant: the name step 1 suggests, the redirect URIs step 2 lists."""
    return plan.plan_for(
        tenant,
        display_name=suggested_app_name(tenant),
        redirect_uris=admin_center.web_redirect_uris(
            consent.callback_url(), sign_in.callback_url()
        ),
        credential_kind=credential_kind,
    )


def _automatic_tenant(request: HttpRequest, tenant_id: object) -> Tenant:
    tenant = admin_tenant_or_404(request.user, tenant_id)
    if tenant.setup_mode != Tenant.SetupMode.AUTOMATIC or not flow.enabled():
        raise Http404("This tenant's app is not registered by the portal.")
    return tenant


@login_required
@require_POST
def start(request: HttpRequest, tenant_id: object) -> HttpResponse:
    tenant = _automatic_tenant(request, tenant_id)
    if AppRegistration.objects.filter(tenant=tenant).exists():
        messages.info(request, "The app is registered already.")
        return redirect(step_path(tenant.pk, MAILBOX))
    kind = request.POST.get("credential", "")
    if kind not in flow.CREDENTIAL_KINDS:
        messages.error(request, "Choose a certificate or a client secret.")
        return redirect(step_path(tenant.pk, REGISTER))
    try:
        url = flow.start(
            request.session, tenant, user_id=str(request.user.pk), credential_kind=kind
        )
    except MicrosoftError as exc:
        return _failed(request, tenant, "unavailable", code=exc.code, status=503)
    return redirect(url)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Back from Microsoft: register the app. The admin's own sign-in, or a colleague's
    from a forwarded link (no portal account: the state was made in their session)."""
    user_id = str(request.user.pk) if request.user.is_authenticated else None
    try:
        signed_in = flow.callback(request.session, request.GET, user_id=user_id)
    except flow.SignInRejected as exc:
        log.warning("App registration callback refused: %s", exc)  # a rule, never input
        return render(request, "onboarding/consent_rejected.html", status=400)
    except MicrosoftError as exc:
        return render(
            request,
            "onboarding/vendor/unavailable.html",
            {"transient": True, "code": exc.code},
            status=503,
        )
    forwarded = bool(signed_in.forward_key)
    tenant = signed_in.tenant
    if not forwarded:
        tenant = admin_tenant_or_404(request.user, tenant.pk)
    if signed_in.failure:
        return _failed(
            request,
            tenant,
            signed_in.failure,
            code=signed_in.code,
            message=signed_in.message,
            forwarded=forwarded,
        )
    outcome = workflow.register(
        tenant,
        plan_of(tenant, signed_in.credential_kind),
        access_token=signed_in.access_token,
        directory_id=signed_in.directory_id,
        signed_in_as=signed_in.username,
        actor=Actor.of(request),
    )
    if outcome.failure:
        forward = ""
        if outcome.failure == "not_admin" and not forwarded:
            forward = flow.forward_url(
                tenant, asked_by=request.user, directory_id=signed_in.directory_id
            )
        return _failed(
            request,
            tenant,
            outcome.failure,
            run=outcome.run,
            roles=outcome.roles,
            forward_url=forward,
            forwarded=forwarded,
        )
    run, app = outcome.run, outcome.app
    assert run is not None
    assert app is not None
    tasks.enqueue_requested(outcome.checks or [])
    given = "a client secret" if app.secrets.filter(kind="secret").exists() else "its certificate"
    note = f" {run.credential_note}" if run.credential_note else ""
    done = (
        f"The portal registered “{run.display_name}” in your directory (Application "
        f"(client) ID {app.client_id}), granted admin consent and gave it {given}.{note}"
    )
    if forwarded:
        flow.use_forward(signed_in.forward_key)
        return render(
            request, "onboarding/provisioning/forwarded_done.html", {"tenant": tenant, "done": done}
        )
    messages.success(request, done)
    return redirect(step_path(tenant.pk, MAILBOX))


@require_http_methods(["GET", "POST"])
def forwarded(request: HttpRequest, token: str) -> HttpResponse:
    """The colleague's page: who asks, everything the portal will do, one button."""
    try:
        forward = flow.forward_request(token)
    except flow.SignInRejected as exc:
        log.warning("Forwarded registration link refused: %s", exc)
        return render(request, "onboarding/consent_rejected.html", status=400)
    if request.method == "POST":
        kind = request.POST.get("credential", "")
        if kind not in flow.CREDENTIAL_KINDS:
            kind = "certificate"
        user_id = str(request.user.pk) if request.user.is_authenticated else None
        try:
            url = flow.start(
                request.session,
                forward.tenant,
                user_id=user_id,
                credential_kind=kind,
                forward=forward,
            )
        except MicrosoftError as exc:
            return _failed(request, forward.tenant, "unavailable", code=exc.code, status=503)
        return redirect(url)
    context = {
        "tenant": forward.tenant,
        "asked_by": forward.asked_by,
        "directory_id": forward.directory_id,
        "plan": plan_of(forward.tenant, "certificate"),
        "consent_roles": consent.CONSENT_ROLES,
    }
    return consent.allow_form_to_microsoft(
        render(request, "onboarding/provisioning/forwarded.html", context)
    )


def _failed(
    request: HttpRequest,
    tenant: Tenant,
    kind: str,
    *,
    code: str = "",
    message: str = "",
    run: object = None,
    roles: frozenset[str] = frozenset(),
    status: int = 200,
    forward_url: str = "",
    forwarded: bool = False,
) -> HttpResponse:
    context = {
        "forward_url": forward_url,
        "forwarded": forwarded,
        "tenant": tenant,
        "kind": kind,
        "code": code,
        "message": message,
        "run": run,
        "roles": sorted(roles),
        "consent_roles": consent.CONSENT_ROLES,
        "entra_apps": admin_center.app_list_url(),
    }
    return render(request, "onboarding/provisioning/failed.html", context, status=status)
