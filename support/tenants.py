"""Support's workflow for a new customer: the tenant and its first admin's invitation."""

from __future__ import annotations

from django.db import transaction

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.invitations.services import invitation_create
from onboarding.models import Invitation, Tenant


def tenant_create(*, name: str, admin_email: str, actor: Actor) -> tuple[Tenant, Invitation]:
    """Create the tenant and invite its first admin, together or not at all."""
    with transaction.atomic():
        tenant = Tenant.objects.create(name=name)
        audit_record(action="tenant.created", actor=actor, tenant=tenant, obj=tenant)
        invitation, _token = invitation_create(tenant=tenant, email=admin_email, actor=actor)
    return tenant, invitation
