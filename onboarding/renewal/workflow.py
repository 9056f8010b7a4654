"""Renewing a client secret without downtime.

The admin creates a new secret in Entra while the old one still works. The new one
is saved as PENDING and proved by a real check; only when that check passes does it
become ACTIVE and the old one RETIRED (and the admin is told which Secret ID to
delete in Entra). If the check fails, the new secret is REJECTED and the old one
stays active. Neither secret is ever deleted, and every change is audited. What the
finished check means is decided with every other check's, in onboarding.checks.health.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.checks.claim import Requested, check_request
from onboarding.client_secrets import secret_reject, secret_store
from onboarding.models import AppRegistration, CheckRun, ClientSecret, Mailbox

Status = ClientSecret.Status


class NoMailboxToVerify(Exception):
    """A renewal is proved against a mailbox; the tenant has none yet."""


def renewal_start(
    *, app: AppRegistration, value: str, secret_id: str, expires_on: date, actor: Actor
) -> Requested:
    """Save the new secret as pending; returns the check that proves it, to enqueue."""
    mailbox = Mailbox.objects.filter(tenant_id=app.tenant_id).order_by("created_at").first()
    if mailbox is None:
        raise NoMailboxToVerify
    with transaction.atomic():
        # A renewal still being proved is superseded by the newer attempt.
        superseded = [
            pending
            for pending in app.secrets.select_related("app__tenant").filter(status=Status.PENDING)
            if secret_reject(pending, actor=actor, superseded=True)
        ]
        secret = secret_store(
            app, value=value, secret_id=secret_id, expires_on=expires_on, by=actor.user
        )
        audit_record(
            action="client_secret.renewal_started",
            actor=actor,
            tenant=app.tenant,
            obj=secret,
            secret_id=secret_id,
            expires_on=expires_on.isoformat(),
            superseded=len(superseded),
        )
        return check_request(
            mailbox=mailbox,
            trigger=CheckRun.Trigger.RENEWAL,
            requested_by=actor.user,
            secret=secret,
        )
