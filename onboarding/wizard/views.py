"""The wizard's steps, one view each, in the order of the guide."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actors import Actor
from onboarding import tasks
from onboarding.access import admin_tenant_or_404, user_of
from onboarding.checks.claim import TOO_SOON, check_again
from onboarding.checks.results import IDLE_POLL_MS, poll_ms, status_context, test_message
from onboarding.client_secrets import LIVE_STATUSES
from onboarding.consent import flow as consent
from onboarding.delegated import flow as sign_in
from onboarding.delegated.links import owner_url
from onboarding.diagnosis import failing_at_step
from onboarding.microsoft import admin_center
from onboarding.models import (
    AppRegistration,
    CertificateDraft,
    CheckRun,
    ClientSecret,
    Mailbox,
    Tenant,
)
from onboarding.progress import progress_for
from onboarding.provisioning import flow as provisioning_flow
from onboarding.provisioning import script
from onboarding.provisioning import views as provisioning_views
from onboarding.provisioning import workflow as provisioning_workflow
from onboarding.renewal import workflow as renewal
from onboarding.status import tenant_summary
from onboarding.steps import (
    AUTHENTICATION,
    DONE,
    MAILBOX,
    PERMISSIONS,
    REGISTER,
    SECRET,
    VERIFY,
    step_path,
)
from onboarding.vendor import credential as vendor
from onboarding.wizard import services
from onboarding.wizard.forms import (
    AuthenticationForm,
    CertificateForm,
    MailboxForm,
    ModeForm,
    RegisterForm,
    SecretForm,
)
from onboarding.wizard.page import WizardPage, posted, wizard_step


@login_required
def resume(request: HttpRequest, tenant_id: object) -> HttpResponse:
    """Where an admin who comes back carries on: the start page until a way to connect
    is chosen (when the portal offers more than one), else the first open step."""
    tenant = admin_tenant_or_404(request.user, tenant_id)
    if not tenant.setup_mode and len(_offered_modes()) > 1:
        return redirect("onboarding:start", tenant.pk)
    return redirect(step_path(tenant.pk, progress_for(tenant).resume_step.number))


def _offered_modes() -> list[tuple[str, str]]:
    modes = [Tenant.SetupMode.VENDOR] if vendor.enabled() else []
    if provisioning_flow.enabled():
        modes.append(Tenant.SetupMode.AUTOMATIC)
    modes.append(Tenant.SetupMode.MANUAL)
    return [(mode.value, mode.label) for mode in modes]


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, tenant_id: object) -> HttpResponse:
    """The choice of how to connect, with what each asks of the admin and what the
    vendor then holds. It stays open until the app is registered or consented."""
    tenant = admin_tenant_or_404(request.user, tenant_id)
    offered = _offered_modes()
    locked = AppRegistration.objects.filter(tenant=tenant).exists()
    form = ModeForm(posted(request), modes=offered, initial={"mode": tenant.setup_mode})
    if request.method == "POST" and not locked and form.is_valid():
        services.choose_mode(tenant, form.cleaned_data["mode"], actor=Actor.of(request))
        return redirect("onboarding:resume", tenant.pk)
    context = {
        "tenant": tenant,
        "form": form,
        "locked": locked,
        "vendor_app_name": vendor.app_name(),
        "offered": [value for value, _ in offered],
    }
    return render(request, "onboarding/start.html", context)


@wizard_step(REGISTER)
def register(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    if page.tenant.setup_mode == Tenant.SetupMode.AUTOMATIC and app is None:
        return _registration_plan(request, page)
    initial = {"client_id": app.client_id, "directory": app.directory} if app else None
    form = RegisterForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        client_id, directory_id = form.cleaned_data["client_id"], form.cleaned_data["directory_id"]
        change = services.app_change(page.tenant, client_id=client_id, directory_id=directory_id)
        if change.disconnects and request.POST.get("confirm_change") != change.token:
            # A live tenant's app changes only once the admin has read what it disconnects.
            context = page.context(form=form, change=change, app=app)
            return render(request, "onboarding/register_confirm.html", context)
        had_consent = bool(app and app.consent_granted_at)
        saved = services.save_registration(
            page.tenant,
            client_id=client_id,
            directory=form.cleaned_data["directory"],
            directory_id=directory_id,
            actor=Actor.of(request),
        )
        tasks.enqueue_requested(saved.checks)
        services.save_object_id(saved.obj, form.object_id, actor=Actor.of(request))
        if form.certificate_id:
            return _script_output(request, page, saved.obj, form.certificate_id)
        if form.from_essentials:
            messages.info(
                request,
                f"Read from the Essentials text you pasted: Application (client) ID {client_id}, "
                f"Directory (tenant) ID {directory_id}.",
            )
        if had_consent and saved.obj.consent_granted_at is None:
            messages.warning(
                request, "The app or directory changed, so admin consent must be granted again."
            )
        return page.go_to(AUTHENTICATION)
    asks = admin_center.asks()
    callback_url = consent.callback_url()
    context = page.context(
        form=form,
        asks=asks,
        app_name=services.suggested_app_name(page.tenant),
        account_type=asks.account_type,
        first_redirect_uri=asks.web_redirect_uris(callback_url)[0],
        callback_url=callback_url,
        new_registration_url=admin_center.new_registration_url(),
        app_list_url=admin_center.app_list_url(),
    )
    return render(request, "onboarding/register.html", context)


def _registration_plan(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """Step 1 when the portal registers the app: every change it will make, then the
    admin's sign-in (onboarding.provisioning)."""
    context = page.context(
        plan=provisioning_views.plan_of(page.tenant, "certificate"),
        left_overs=provisioning_workflow.left_overs(page.tenant),
    )
    return consent.allow_form_to_microsoft(
        render(request, "onboarding/provisioning/plan.html", context)
    )


def _script_output(
    request: HttpRequest, page: WizardPage, app: AppRegistration, certificate_id: str
) -> HttpResponse:
    """Step 1 with the PowerShell script's output: the script did steps 2 to 4 too."""
    saved = services.script_registered(app, certificate_id=certificate_id, actor=Actor.of(request))
    if saved is None:
        messages.warning(
            request,
            "The IDs are saved. The Certificate ID matches no certificate of a script "
            "downloaded here: finish steps 2 to 4 as they say.",
        )
        return page.go_to(AUTHENTICATION)
    tasks.enqueue_requested(saved.checks)
    messages.success(
        request,
        f"Read from the script's output: Application (client) ID {app.client_id}, Directory "
        f"(tenant) ID {app.directory_id}, and certificate {saved.obj.thumbprint} on the app. "
        "The script set the redirect URIs and granted admin consent (the first check "
        "confirms it).",
    )
    return page.go_to(MAILBOX)


@wizard_step(REGISTER)
@require_POST
def register_script(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """The PowerShell script for this tenant, with the certificate the portal keeps for
    the app it registers (a POST: it may make that certificate)."""
    draft = services.script_certificate(page.tenant, actor=Actor.of(request))
    asks = admin_center.asks()
    text = script.render_script(
        tenant_name=page.tenant.name,
        directory=None,  # the admin's own: the portal does not know it before step 1
        display_name=services.suggested_app_name(page.tenant),
        redirect_uris=admin_center.web_redirect_uris(
            consent.callback_url(), sign_in.callback_url()
        ),
        certificate_pem=draft.certificate_pem,
        certificate_display_name=f"Mailbox portal: {page.tenant.name}",
        interactive=asks.interactive,
        password=asks.password,
    )
    response = HttpResponse(script.script_bytes(text), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{script.FILE_NAME}"'
    return response


@wizard_step(AUTHENTICATION)
def authentication(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    assert app is not None  # step 1 is done
    form = AuthenticationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        services.confirm_authentication(app, actor=Actor.of(request))
        return page.go_to(PERMISSIONS)
    callback_url = consent.callback_url()
    context = page.context(
        form=form,
        app=app,
        asks=admin_center.asks(),
        redirect_uris=admin_center.web_redirect_uris(callback_url, sign_in.callback_url()),
        callback_url=callback_url,
        sign_in_callback_url=sign_in.callback_url(),
        authentication_url=admin_center.app_page_url(app.client_id, "Authentication"),
    )
    return render(request, "onboarding/authentication.html", context)


@wizard_step(PERMISSIONS)
def permissions(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    if page.tenant.uses_vendor_app:
        return _vendor_consent_page(request, page)
    assert app is not None
    context = page.context(
        app=app,
        asks=admin_center.asks(),
        permissions=admin_center.GRAPH_PERMISSIONS,
        forward_url=consent.forward_url(app, asked_by=user_of(request.user)),
        callback_url=consent.callback_url(),
        consent_roles=consent.CONSENT_ROLES,
        api_permissions_url=admin_center.app_page_url(app.client_id, "CallAnAPI"),
        # Back from an account that could not consent (the failure page's link).
        select_account=request.GET.get("select_account") == "1",
    )
    page_response = render(request, "onboarding/permissions.html", context)
    return consent.allow_form_to_microsoft(page_response)


def _vendor_consent_page(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """Step 3 with the vendor's app: one consent, which also tells the portal the
    directory; no app of the customer's, no permissions to add by hand."""
    context = page.context(
        app=page.app,
        vendor_app_name=vendor.app_name(),
        vendor_client_id=vendor.client_id(),
        permissions=admin_center.GRAPH_PERMISSIONS,
        consent_roles=consent.CONSENT_ROLES,
    )
    return consent.allow_form_to_microsoft(
        render(request, "onboarding/vendor/permissions.html", context)
    )


@wizard_step(PERMISSIONS)
@require_POST
def consent_start(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """Step 3's button: off to Microsoft's admin consent, with a state in this session."""
    app = page.app
    assert app is not None
    url = consent.consent_start(
        request.session,
        app,
        user_id=str(request.user.pk),
        # "Back to admin consent" after an account that could not consent.
        select_account=request.POST.get("select_account") == "1",
    )
    return redirect(url)


@sensitive_post_parameters("value")
@wizard_step(SECRET)
def secret(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    assert app is not None
    form = SecretForm(posted(request), app=app, today=page.tenant.local_today())
    if request.method == "POST" and form.is_valid():
        saved = services.save_secret(
            app,
            value=form.cleaned_data["value"],
            secret_id=form.cleaned_data["secret_id"],
            expires_on=form.cleaned_data["expires_on"],
            actor=Actor.of(request),
            confirmed_warnings=[warning.code for warning in form.warnings],
        )
        tasks.enqueue_requested(saved.checks)
        for notice in form.notices:
            messages.info(request, notice.message)
        expires = date_format(saved.obj.expires_on, "j F Y")
        messages.success(
            request, f"Secret {saved.obj.hint}… saved, encrypted. It expires on {expires}."
        )
        return page.go_to(MAILBOX)
    return _secret_page(request, page, form, CertificateForm(app=app))


def _secret_page(
    request: HttpRequest, page: WizardPage, form: SecretForm, certificate_form: CertificateForm
) -> HttpResponse:
    """Step 4: the certificate section and the guide's client secret, each with its form."""
    app = page.app
    assert app is not None
    context = page.context(
        form=form,
        app=app,
        draft=app.certificate_drafts.order_by("-created_at").first(),
        certificate_form=certificate_form,
        current=app.secrets.filter(status__in=LIVE_STATUSES).first(),
        broken=failing_at_step(
            list(page.tenant.mailboxes.values_list("diagnosis_code", flat=True)), SECRET
        ),
        credentials_url=admin_center.app_page_url(app.client_id, "Credentials"),
    )
    return render(request, "onboarding/secret.html", context)


@wizard_step(SECRET)
@require_POST
def certificate_create(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    assert app is not None
    draft = services.create_certificate(app, actor=Actor.of(request))
    messages.success(
        request,
        f"Certificate made (thumbprint {draft.thumbprint}). Download it and upload it in Entra.",
    )
    return redirect(f"{step_path(page.tenant.pk, SECRET)}#certificate")


@wizard_step(SECRET)
def certificate_download(request: HttpRequest, page: WizardPage, draft_id: object) -> HttpResponse:
    """The public certificate only (PEM, which Entra takes as .cer, .pem or .crt)."""
    draft = get_object_or_404(CertificateDraft, pk=draft_id, app__tenant=page.tenant)
    response = HttpResponse(draft.certificate_pem, content_type="application/x-pem-file")
    name = f"mailbox-portal-{draft.thumbprint[:8].lower()}.cer"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@wizard_step(SECRET)
@require_POST
def certificate_save(request: HttpRequest, page: WizardPage, draft_id: object) -> HttpResponse:
    draft = get_object_or_404(CertificateDraft, pk=draft_id, app__tenant=page.tenant)
    app = draft.app
    assert app is not None  # found through its app
    form = CertificateForm(request.POST, app=app)
    if not form.is_valid():
        today = page.tenant.local_today()
        return _secret_page(request, page, SecretForm(None, app=app, today=today), form)
    certificate_id = form.cleaned_data["certificate_id"]
    services.save_object_id(app, form.cleaned_data["object_id"], actor=Actor.of(request))
    if app.secrets.filter(status=ClientSecret.Status.ACTIVE).exists():
        # A working credential stays in use until the certificate is proved.
        requested = renewal.certificate_renewal_start(
            draft=draft, certificate_id=certificate_id, actor=Actor.of(request)
        )
        tasks.enqueue_requested(requested)
        messages.success(
            request,
            "Certificate saved. A check is proving it now; the current credential keeps "
            "working until it passes.",
        )
        return redirect("onboarding:renew-status", page.tenant.pk, requested.run.pk)
    saved = services.save_certificate(draft, certificate_id=certificate_id, actor=Actor.of(request))
    tasks.enqueue_requested(saved.checks)
    expires = date_format(saved.obj.expires_on, "j F Y")
    messages.success(
        request,
        f"Certificate {saved.obj.thumbprint} saved; its private key stays encrypted in the "
        f"portal. It expires on {expires}.",
    )
    return page.go_to(MAILBOX)


@sensitive_post_parameters("password")
@wizard_step(MAILBOX)
def mailbox(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """The list of mailboxes, and a form to add one."""
    form = MailboxForm(posted(request), tenant=page.tenant, mailbox=None)
    if request.method == "POST" and form.is_valid():
        added = Mailbox(tenant=page.tenant)
        _save_mailbox(request, form, added)
        messages.success(request, f"{added.address} added.")
        return page.go_to(MAILBOX)
    mailboxes = list(page.tenant.mailboxes.select_related("sign_in").order_by("address"))
    context = page.context(form=form, mailboxes=mailboxes, personal=_personal(mailboxes))
    # The Connect buttons post to a view that redirects to Microsoft.
    return consent.allow_form_to_microsoft(render(request, "onboarding/mailbox.html", context))


def _personal(mailboxes: list[Mailbox]) -> set[object]:
    """The mailboxes only their owner's sign-in reaches (Outlook.com and the like)."""
    return {mailbox.pk for mailbox in mailboxes if sign_in.is_personal(mailbox)}


@sensitive_post_parameters("password")
@wizard_step(MAILBOX)
def mailbox_edit(request: HttpRequest, page: WizardPage, mailbox_id: object) -> HttpResponse:
    existing = get_object_or_404(Mailbox, pk=mailbox_id, tenant=page.tenant)
    form = MailboxForm(posted(request), tenant=page.tenant, mailbox=existing)
    if request.method == "POST" and form.is_valid():
        _save_mailbox(request, form, existing)
        messages.success(request, f"{existing.address} saved.")
        return page.go_to(MAILBOX)
    connected = Mailbox.objects.filter(pk=existing.pk, sign_in__isnull=False).exists()
    context = page.context(
        form=form,
        mailbox=existing,
        personal=_personal([existing]),
        sign_in=existing.sign_in if connected else None,
        owner_url=owner_url(existing),
    )
    return consent.allow_form_to_microsoft(render(request, "onboarding/mailbox_edit.html", context))


@wizard_step(MAILBOX)
@require_http_methods(["GET", "POST"])
def mailbox_remove(request: HttpRequest, page: WizardPage, mailbox_id: object) -> HttpResponse:
    """GET asks first (a page, so it works without JavaScript); only POST removes."""
    existing = get_object_or_404(Mailbox, pk=mailbox_id, tenant=page.tenant)
    if request.method != "POST":
        return render(request, "onboarding/mailbox_remove.html", page.context(mailbox=existing))
    services.remove_mailbox(existing, actor=Actor.of(request))
    messages.success(request, f"{existing.address} removed.")
    return page.go_to(MAILBOX)


def _save_mailbox(request: HttpRequest, form: MailboxForm, target: Mailbox) -> None:
    saved = services.save_mailbox(
        target,
        address=form.cleaned_data["address"],
        upn=form.cleaned_data["upn"],
        password=form.cleaned_data["password"] or None,
        forget=form.cleaned_data.get("forget_password", False),
        actor=Actor.of(request),
    )
    tasks.enqueue_requested(saved.checks)


@wizard_step(VERIFY)
def verify(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """The checks of every mailbox; "Run check again" (POST) is the only way to start
    one here: showing the page, or polling it, never sends a test message."""
    if request.method == "POST":
        for item in page.tenant.mailboxes.order_by("address"):
            requested = check_again(mailbox=item, user=user_of(request.user))
            if isinstance(requested, int):
                messages.warning(request, TOO_SOON.format(seconds=requested))
            else:
                tasks.enqueue_requested(requested)
        return page.go_to(VERIFY)
    return render(request, "onboarding/verify.html", _verify_context(page))


@wizard_step(VERIFY)
def verify_status(request: HttpRequest, page: WizardPage) -> HttpResponse:
    """The live part of the verify page, polled by htmx. Reads only."""
    return render(request, "onboarding/verify_status.html", _verify_context(page))


def _verify_context(page: WizardPage) -> dict[str, Any]:
    checks = []
    for item in page.tenant.mailboxes.order_by("address"):
        run = item.check_runs.first()
        checks.append(
            {
                "mailbox": item,
                # What a check will send, stated before anyone presses the button.
                "test_message": test_message(item),
                **(status_context(run) if run else {"run": None}),
            }
        )
    runs = [check["run"] for check in checks]
    pending = any(run is not None and not run.is_finished for run in runs)
    # Shown in the live fragment, so the way on appears as soon as the check passes.
    all_passed = bool(runs) and all(
        run is not None and run.status == CheckRun.Status.PASSED for run in runs
    )
    all_checked = all(run is not None for run in runs)
    # Keep polling briefly after the last run ends: the step list follows its result.
    settling = any(
        run is not None and run.is_finished and poll_ms(run) < IDLE_POLL_MS for run in runs
    )
    return page.context(
        checks=checks,
        pending=pending,
        settling=settling,
        all_passed=all_passed,
        all_checked=all_checked,
    )


@wizard_step(DONE)
def done(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    # The state and its facts as the start page and support show them (onboarding.status).
    summary = tenant_summary(page.tenant)
    context = page.context(app=app, mailboxes=summary.mailboxes, summary=summary)
    return render(request, "onboarding/done.html", context)
