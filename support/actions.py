"""Support's actions on a tenant that are not invitations: each one audited with
the staff member's name."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.models import AuditEvent, NotificationAddress, Tenant


class ActionError(Exception):
    pass


def notification_address_add(*, tenant: Tenant, email: str, actor: Actor) -> NotificationAddress:
    try:
        with transaction.atomic():
            address = NotificationAddress.objects.create(tenant=tenant, email=email.lower())
            audit_record(
                action="notification_address.added",
                actor=actor,
                tenant=tenant,
                obj=address,
                email=address.email,
            )
    except IntegrityError as error:
        raise ActionError(f"{email} already receives this tenant's reminders.") from error
    return address


def note_add(*, tenant: Tenant, text: str, actor: Actor) -> AuditEvent:
    """An internal note is an audit event: append-only like the rest of the record,
    it carries its author and time and lands in the timeline without a table of its own."""
    return audit_record(action="support.note", actor=actor, tenant=tenant, text=text)


def customer_reference_set(*, tenant: Tenant, reference: str, actor: Actor) -> bool:
    """Set (or with "" clear) the vendor's own reference for the tenant; False when it
    was already that. Audited with both values: it is how the vendor matches records."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        before = locked.customer_reference
        if before == reference:
            return False
        Tenant.objects.filter(pk=tenant.pk).update(customer_reference=reference)
        tenant.customer_reference = reference
        audit_record(
            action="support.customer_reference_set",
            actor=actor,
            tenant=tenant,
            obj=tenant,
            before=before,
            after=reference,
        )
    return True
