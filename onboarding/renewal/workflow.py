"""Renewing a client secret without downtime.

The admin creates a new secret in Entra while the old one still works. The new one
is saved as PENDING and proved by a real check; only when that check passes does it
become ACTIVE and the old one RETIRED (and the admin is told which Secret ID to
delete in Entra). If the check fails, the new secret is REJECTED and the old one
stays active. Neither secret is ever deleted, and every change is audited. What the
finished check means is decided with every other check's, in onboarding.checks.health.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.db import transaction

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.checks.claim import Requested, check_request
from onboarding.client_secrets import certificate_store, secret_reject, secret_store
from onboarding.models import AppRegistration, CertificateDraft, CheckRun, ClientSecret, Mailbox

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
    """Save the new secret as pending; returns the check that proves it, to enqueue."""

    def store() -> ClientSecret:
        return secret_store(
            app, value=value, secret_id=secret_id, expires_on=expires_on, by=actor.user
        )

    return _renewal(app, store, actor=actor, action="client_secret.renewal_started")


def certificate_renewal_start(
    *, draft: CertificateDraft, certificate_id: str, actor: Actor
) -> Requested:
    """Moving from a working credential to a certificate the portal made: the new one
    is proved by a check before it replaces the one in use, exactly as a renewed secret
    (the admin is then told which Secret ID to delete in Entra)."""

    def store() -> ClientSecret:
        return certificate_store(draft, certificate_id=certificate_id, by=actor.user)

    assert draft.app is not None  # step 4's drafts name their app
    return _renewal(draft.app, store, actor=actor, action="certificate.renewal_started")


def _renewal(
    app: AppRegistration, store: Callable[[], ClientSecret], *, actor: Actor, action: str
) -> Requested:
    """The new credential pending, proved by a check of the tenant's first mailbox.

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
        secret = store()
        audit_record(
            action=action,
            actor=actor,
            tenant=app.tenant,
            obj=secret,
            secret_id=str(secret.secret_id),
            expires_on=secret.expires_on.isoformat(),
            superseded=len(superseded),
        )
        return check_request(
            mailbox=mailbox,
            trigger=CheckRun.Trigger.RENEWAL,
            requested_by=actor.user,
            secret=secret,
        )
