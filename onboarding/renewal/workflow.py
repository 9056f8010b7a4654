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


class FirstSecretUnverified(Exception):
    """The wizard's first secret is still pending (no secret is active yet): finish the
    verification in the wizard first. Renewal replaces a working secret."""

    message = (
        "Finish the setup's verification first: the client secret entered in step 4 has "
        "not been verified yet, and renewal replaces a working secret. Run the check in "
        "the wizard's last step, or enter a new secret in step 4."
    )


def renewal_start(
    *, app: AppRegistration, value: str, secret_id: str, expires_on: date, actor: Actor
) -> Requested:
    """Save the new secret as pending; returns the check that proves it, to enqueue.

    Refused (FirstSecretUnverified) while the app has no active secret but a pending one:
    the wizard's first secret, not yet verified. Rejecting it as a superseded renewal
    would leave the tenant with no secret at all whenever the renewal's secret then
    failed, and keeping both pending would let the wizard's checks (which use the newest
    pending secret) and the renewal's check each decide a different secret. Refusing
    leaves the first secret exactly as it was, still checked and activated by the
    wizard's checks: the tenant never ends up without a usable secret, and the admin is
    told to finish the verification (or to enter another secret in step 4) instead.
    """
    mailbox = Mailbox.objects.filter(tenant_id=app.tenant_id).order_by("created_at").first()
    if mailbox is None:
        raise NoMailboxToVerify
    with transaction.atomic():
        live = set(app.secrets.values_list("status", flat=True))
        if Status.PENDING in live and Status.ACTIVE not in live:
            raise FirstSecretUnverified(FirstSecretUnverified.message)
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
