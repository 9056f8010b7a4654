"""Recording vendor mode's outcomes: a tenant bound to the directory that consented
(and proved it), or the reason it was not."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.checks.claim import Requested, checks_after_change
from onboarding.models import AppRegistration, Tenant
from onboarding.progress import record_progress
from onboarding.vendor import credential


class DirectoryTaken(Exception):
    """Another tenant of the portal is bound to this directory already. Never holds input."""


@transaction.atomic
def bind(
    tenant: Tenant, directory_id: str, *, actor: Actor
) -> tuple[AppRegistration, list[Requested]]:
    """The tenant's connection is the vendor's app in this directory, consented now.
    One portal tenant per directory: the vendor's credential reaches every mailbox of a
    directory that consented, so a second tenant claiming it would read the first's.
    Returns the checks to run again (earlier ones saw the permissions as they were)."""
    client_id = credential.client_id()
    others = AppRegistration.objects.filter(
        client_id=client_id, directory_id=directory_id, tenant__setup_mode=tenant.setup_mode
    ).exclude(tenant=tenant)
    if others.exists():
        raise DirectoryTaken
    now = timezone.now()
    app = AppRegistration.objects.select_for_update().filter(tenant=tenant).first()
    moved = app is None or str(app.directory_id) != directory_id
    if app is None:
        app = AppRegistration(tenant=tenant)
    app.client_id, app.directory, app.directory_id = client_id, directory_id, directory_id
    app.consent_granted_at, app.consent_granted_by = now, actor.user
    if moved:
        app.consent_confirmed_at = None  # a check in this directory confirms it again
        app.object_id = None  # the vendor's app object is not the customer's to roll
    app.save()
    audit_record(
        action="vendor_consent.granted",
        actor=actor,
        tenant=tenant,
        obj=app,
        directory_id=directory_id,
        client_id=client_id,
    )
    checks = checks_after_change(tenant, requested_by=actor.user)
    record_progress(tenant)
    return app, checks


def record_failure(tenant: Tenant, *, kind: str, code: str, actor: Actor) -> None:
    """Consent or its proving sign-in did not work out; support sees the same blocker."""
    audit_record(action="vendor_consent.failed", actor=actor, tenant=tenant, kind=kind, code=code)
