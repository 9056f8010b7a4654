"""Limiting the tenant's own app to its mailboxes (RBAC for Applications): the admin's
choice, its two answers, the commands for them, and the way back to tenant-wide access.

A tenant is "limited" while it has a MailboxScope. Each save changes what the checks
prove (onboarding.scope.proof), so it forgets their results and returns the checks to
run again, which the view enqueues (as onboarding.wizard.services does).
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.checks.claim import Requested, checks_after_change
from onboarding.models import AppRegistration, MailboxScope, ProvisioningRun, Tenant
from onboarding.progress import record_progress
from onboarding.scope.commands import Commands, commands_for

# The management scope's name in Exchange Online (at most 64 characters, no quotes).
SCOPE_NAME = "Mail connector mailboxes"
# The name Exchange Online shows for the app (New-ServicePrincipal -DisplayName).
DISPLAY_NAME = "Mail connector"


def access_label(
    tenant: Tenant, *, limited: bool | None = None, mailboxes: int | None = None
) -> str:
    """ "tenant-wide" or "limited to N mailboxes", as every page and the API say it."""
    if limited is None:
        limited = MailboxScope.objects.filter(tenant=tenant).exists()
    if not limited:
        return "tenant-wide"
    count = tenant.mailboxes.count() if mailboxes is None else mailboxes
    return f"limited to {count} mailbox{'' if count == 1 else 'es'}"


class ScopeNotOffered(Exception):
    """The vendor's app is the vendor's: its access is not limited from this page."""


@transaction.atomic
def limit(tenant: Tenant, *, actor: Actor) -> tuple[MailboxScope, list[Requested]]:
    """The admin chose "Limit to these mailboxes": the tenant is limited from now on.
    The enterprise app's Object ID is filled in when the portal registered the app."""
    if tenant.uses_vendor_app:
        raise ScopeNotOffered
    scope, made = MailboxScope.objects.get_or_create(
        tenant=tenant, defaults={"service_principal_object_id": _registered_object_id(tenant)}
    )
    if not made:
        return scope, []
    audit_record(action="scope.chosen", actor=actor, tenant=tenant, obj=scope)
    record_progress(tenant)  # step 3 is done without Entra's consent
    return scope, checks_after_change(tenant, requested_by=actor.user)


@transaction.atomic
def save(
    scope: MailboxScope,
    *,
    service_principal_object_id: uuid.UUID,
    probe_address: str,
    group: str,
    actor: Actor,
) -> list[Requested]:
    """The scope page's answers; the checks to run again when one changed."""
    before = (scope.service_principal_object_id, scope.probe_address, scope.group)
    scope.service_principal_object_id = service_principal_object_id
    scope.probe_address = probe_address
    scope.group = group
    if (scope.service_principal_object_id, scope.probe_address, scope.group) == before:
        return []
    scope.save()
    audit_record(
        action="scope.saved",
        actor=actor,
        tenant=scope.tenant,
        obj=scope,
        probe_address=probe_address,
        group=bool(group),
    )
    return checks_after_change(scope.tenant, requested_by=actor.user)


@transaction.atomic
def commands_run(scope: MailboxScope, *, actor: Actor) -> list[Requested]:
    """The admin ran the commands: checks from now wait for Exchange to apply them."""
    scope.commands_run_at = timezone.now()
    scope.save(update_fields=["commands_run_at", "updated_at"])
    audit_record(action="scope.commands_run", actor=actor, tenant=scope.tenant, obj=scope)
    return checks_after_change(scope.tenant, requested_by=actor.user)


@transaction.atomic
def widen(scope: MailboxScope, *, actor: Actor) -> list[Requested]:
    """Back to tenant-wide access (Entra's Mail.Read and Mail.Send, with admin consent)."""
    tenant = scope.tenant
    scope.delete()
    audit_record(action="scope.removed", actor=actor, tenant=tenant)
    record_progress(tenant)
    return checks_after_change(tenant, requested_by=actor.user)


def commands(scope: MailboxScope, *, admin_upn: str = "") -> Commands | None:
    """The commands for the scope's answers; None until the app, the Object ID and (for
    a scope of addresses) a mailbox are known. ValueError names a bad answer."""
    tenant = scope.tenant
    app = AppRegistration.objects.filter(tenant=tenant).first()
    addresses = list(tenant.mailboxes.order_by("address").values_list("address", flat=True))
    if app is None or scope.service_principal_object_id is None:
        return None
    if not scope.group and not addresses:
        return None
    return commands_for(
        client_id=str(app.client_id),
        service_principal_object_id=str(scope.service_principal_object_id),
        display_name=DISPLAY_NAME,
        scope_name=SCOPE_NAME,
        mailboxes=None if scope.group else addresses,
        group=scope.group or None,
        admin_upn=admin_upn or None,
    )


def _registered_object_id(tenant: Tenant) -> uuid.UUID | None:
    """The service principal the portal made when it registered the app (automatic
    mode): its Object ID is the one New-ServicePrincipal needs."""
    run = ProvisioningRun.objects.filter(tenant=tenant, status=ProvisioningRun.Status.DONE).first()
    made = next(
        (item for item in (run.created if run else []) if item.get("kind") == "service_principal"),
        None,
    )
    try:
        return uuid.UUID(str(made["id"])) if made else None
    except ValueError:
        return None
