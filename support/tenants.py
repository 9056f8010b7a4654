"""Support's workflow for a new customer: the tenant and its first admin's invitation."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from onboarding.audit import audit_record
from onboarding.invitations import invitation_create
from onboarding.models import Invitation, Tenant


def tenant_create(
    *, name: str, admin_email: str, created_by: User, request: HttpRequest | None = None
) -> tuple[Tenant, Invitation]:
    """Create the tenant and invite its first admin, together or not at all."""
    with transaction.atomic():
        tenant = Tenant.objects.create(name=name)
        audit_record(
            action="tenant.created", actor=created_by, tenant=tenant, obj=tenant, request=request
        )
        invitation, _token = invitation_create(
            tenant=tenant, email=admin_email, invited_by=created_by, request=request
        )
    return tenant, invitation
