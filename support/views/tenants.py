"""Support staff's pages about one tenant: creating it, its detail page and the
actions on it (invitations, notification addresses, internal notes)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from onboarding.diagnosis import CATALOGUE
from onboarding.invitations import services as invitations
from onboarding.invitations.services import InvitationError
from onboarding.models import AppRegistration, AuditEvent, ClientSecret, Invitation, Tenant
from onboarding.status import tenant_summary
from support import actions
from support.decorators import support_required
from support.forms import (
    CustomerReferenceForm,
    InvitationForm,
    NoteForm,
    NotificationAddressForm,
    TenantCreateForm,
)
from support.tenants import tenant_create as tenant_create_workflow
from support.timeline import KINDS, tenant_timeline


def _report_sent(request: HttpRequest, invitation: Invitation) -> None:
    if invitations.invitation_email_failed(invitation):
        messages.error(
            request,
            f"The invitation for {invitation.email} is saved, but the e-mail could not be sent. "
            "Check the mail settings, then press Resend.",
        )
    else:
        messages.success(request, f"Invitation sent to {invitation.email}.")


@support_required
def tenant_create(request: HttpRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        tenant, invitation = tenant_create_workflow(
            name=form.cleaned_data["name"],
            admin_email=form.cleaned_data["admin_email"],
            actor=Actor.of(request),
        )
        _report_sent(request, invitation)
        return redirect("support:tenant-detail", tenant_id=tenant.pk)
    return render(request, "support/tenant_create.html", {"form": form})


def _configuration(tenant: Tenant) -> dict[str, Any]:
    app = AppRegistration.objects.filter(tenant=tenant).first()
    mailboxes = list(tenant.mailboxes.order_by("created_at", "address"))
    for mailbox in mailboxes:
        mailbox.diagnosis = CATALOGUE.get(mailbox.diagnosis_code)  # type: ignore[attr-defined]
    return {
        "app": app,
        # Only these columns: the ciphertext never leaves the database for this page.
        "secrets": ClientSecret.objects.filter(app=app).only(
            "secret_id", "hint", "expires_on", "status", "created_at"
        )
        if app
        else [],
        "mailboxes": mailboxes,
        "notification_addresses": tenant.notification_addresses.order_by("email"),
    }


# Written by the API's legacy hand-off (api/views.py) for each export it answered.
CREDENTIALS_EXPORTED = "api.credentials_exported"


def _exports(tenant: Tenant) -> list[dict[str, Any]]:
    """The legacy hand-off's exports of this tenant's credentials, newest first: to
    whom, when, for which mailbox, and the reason the operations app gave."""
    events = AuditEvent.objects.filter(tenant=tenant, action=CREDENTIALS_EXPORTED).order_by("-at")[
        :50
    ]
    addresses = dict(tenant.mailboxes.values_list("pk", "address"))
    return [
        {
            "at": event.at,
            "service_account": event.details.get("service_account") or "a service account",
            "key_id": event.details.get("key_id", ""),
            "reason": event.details.get("reason", ""),
            "mailbox": next(
                (address for pk, address in addresses.items() if str(pk) == event.object_id),
                "",
            ),
        }
        for event in events
    ]


def _detail(request: HttpRequest, tenant: Tenant, status: int = 200, **forms: Any):
    kind = request.GET.get("kind", "")
    kind = kind if kind in KINDS else ""
    context = {
        "tenant": tenant,
        # The state and its facts as the start page and the Done page show them.
        "summary": tenant_summary(tenant),
        "timeline_kinds": KINDS.items(),
        "timeline_kind": kind,
        "memberships": tenant.memberships.select_related("user").order_by("created_at"),
        "invitations": [
            (invitation, invitations.invitation_status(invitation))
            for invitation in tenant.invitations.order_by("-created_at")[:20]
        ],
        "timeline": tenant_timeline(tenant, kind),
        "form": forms.get("form") or InvitationForm(),
        "address_form": forms.get("address_form") or NotificationAddressForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "reference_form": forms.get("reference_form")
        or CustomerReferenceForm(initial={"customer_reference": tenant.customer_reference}),
        "exports": _exports(tenant),
        **_configuration(tenant),
    }
    return render(request, "support/tenant_detail.html", context, status=status)


@support_required
def tenant_detail(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    return _detail(request, tenant)


@support_required
@require_POST
def notification_address_add(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    form = NotificationAddressForm(request.POST)
    if form.is_valid():
        try:
            actions.notification_address_add(
                tenant=tenant,
                email=form.cleaned_data["email"],
                actor=Actor.of(request),
            )
        except actions.ActionError as error:
            form.add_error("email", str(error))
    if form.errors:
        return _detail(request, tenant, status=400, address_form=form)
    messages.success(request, f"{form.cleaned_data['email']} now receives the reminders.")
    return redirect("support:tenant-detail", tenant_id=tenant.pk)


@support_required
@require_POST
def customer_reference_set(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    form = CustomerReferenceForm(request.POST)
    if not form.is_valid():
        return _detail(request, tenant, status=400, reference_form=form)
    actions.customer_reference_set(
        tenant=tenant,
        reference=form.cleaned_data["customer_reference"],
        actor=Actor.of(request),
    )
    if form.cleaned_data["customer_reference"]:
        messages.success(request, "Customer reference saved.")
    else:
        messages.success(request, "Customer reference removed.")
    return redirect("support:tenant-detail", tenant_id=tenant.pk)


@support_required
@require_POST
def note_add(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, tenant, status=400, note_form=form)
    actions.note_add(
        tenant=tenant,
        text=form.cleaned_data["text"],
        actor=Actor.of(request),
    )
    messages.success(request, "Note added to the timeline.")
    return redirect("support:tenant-detail", tenant_id=tenant.pk)


@support_required
@require_POST
def tenant_invite(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _detail(request, tenant, status=400, form=form)
    try:
        invitation, _token = invitations.invitation_create(
            tenant=tenant,
            email=form.cleaned_data["email"],
            actor=Actor.of(request),
        )
    except InvitationError as error:
        form.add_error("email", str(error))
        return _detail(request, tenant, status=400, form=form)
    _report_sent(request, invitation)
    return redirect("support:tenant-detail", tenant_id=tenant.pk)


@support_required
@require_POST
def invitation_resend(request: HttpRequest, invitation_id: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("tenant"), pk=invitation_id)
    try:
        new, _token = invitations.invitation_resend(invitation=invitation, actor=Actor.of(request))
    except InvitationError as error:
        messages.error(request, str(error))
    else:
        _report_sent(request, new)
    return redirect("support:tenant-detail", tenant_id=invitation.tenant_id)
