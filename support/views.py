"""Support staff's pages: tenants, creating one, inviting its admins.

A later issue turns this into the full dashboard (with two-factor sign-in)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from onboarding import invitations
from onboarding.invitations import InvitationError
from onboarding.models import Invitation, Tenant
from support.decorators import support_required
from support.forms import InvitationForm, TenantCreateForm
from support.tenants import tenant_create as tenant_create_workflow


def _support_user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


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
def tenant_list(request: HttpRequest) -> HttpResponse:
    tenants = Tenant.objects.annotate(admin_count=Count("memberships")).order_by("name")
    return render(request, "support/tenant_list.html", {"tenants": tenants})


@support_required
def tenant_create(request: HttpRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        tenant, invitation = tenant_create_workflow(
            name=form.cleaned_data["name"],
            admin_email=form.cleaned_data["admin_email"],
            created_by=_support_user(request),
            request=request,
        )
        _report_sent(request, invitation)
        return redirect("support:tenant-detail", tenant_id=tenant.pk)
    return render(request, "support/tenant_create.html", {"form": form})


def _detail(request: HttpRequest, tenant: Tenant, form: InvitationForm, status: int = 200):
    context = {
        "tenant": tenant,
        "memberships": tenant.memberships.select_related("user").order_by("created_at"),
        "invitations": [
            (invitation, invitations.invitation_status(invitation))
            for invitation in tenant.invitations.order_by("-created_at")[:20]
        ],
        "form": form,
    }
    return render(request, "support/tenant_detail.html", context, status=status)


@support_required
def tenant_detail(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    return _detail(request, tenant, InvitationForm())


@support_required
@require_POST
def tenant_invite(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _detail(request, tenant, form, status=400)
    try:
        invitation, _token = invitations.invitation_create(
            tenant=tenant,
            email=form.cleaned_data["email"],
            invited_by=_support_user(request),
            request=request,
        )
    except InvitationError as error:
        form.add_error("email", str(error))
        return _detail(request, tenant, form, status=400)
    _report_sent(request, invitation)
    return redirect("support:tenant-detail", tenant_id=tenant.pk)


@support_required
@require_POST
def invitation_resend(request: HttpRequest, invitation_id: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("tenant"), pk=invitation_id)
    try:
        new, _token = invitations.invitation_resend(
            invitation=invitation, resent_by=_support_user(request), request=request
        )
    except InvitationError as error:
        messages.error(request, str(error))
    else:
        _report_sent(request, new)
    return redirect("support:tenant-detail", tenant_id=invitation.tenant_id)
