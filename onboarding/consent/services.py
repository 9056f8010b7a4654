"""Recording what Microsoft's admin consent callback said (step 3)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.checks.claim import Requested, checks_after_change
from onboarding.models import AppRegistration
from onboarding.progress import record_progress


@transaction.atomic
def record_consent(app: AppRegistration, *, actor: Actor, forwarded: bool) -> list[Requested]:
    """Microsoft returned a granted admin consent for this app and directory. Earlier
    checks saw the permissions as they were: returns the checks to run again."""
    app.consent_granted_at, app.consent_granted_by = timezone.now(), actor.user
    app.save(update_fields=["consent_granted_at", "consent_granted_by", "updated_at"])
    checks = checks_after_change(app.tenant, requested_by=actor.user)
    audit_record(
        action="consent.granted",
        actor=actor,
        tenant=app.tenant,
        obj=app,
        directory_id=str(app.directory_id),
        via="forwarded link" if forwarded else "wizard",
    )
    record_progress(app.tenant)
    return checks


def record_consent_failure(
    app: AppRegistration, *, code: str, kind: str, actor: Actor, forwarded: bool
) -> None:
    """Step 3 did not work out: Microsoft reported an error (declined, not an admin...).
    The kind is kept as the callback read it, so support names the same blocker."""
    audit_record(
        action="consent.failed",
        actor=actor,
        tenant=app.tenant,
        obj=app,
        code=code,
        kind=kind,
        via="forwarded link" if forwarded else "wizard",
    )
