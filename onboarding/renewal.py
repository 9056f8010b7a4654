"""Renewing a client secret without downtime.

The admin creates a new secret in Entra while the old one still works. The new one
is saved as PENDING and proved by a real check; only when that check passes does it
become ACTIVE and the old one RETIRED (and the admin is told which Secret ID to
delete in Entra). If the check fails, the new secret is REJECTED and the old one
stays active. Neither secret is ever deleted, and every change is audited.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from onboarding import checks, emails, wizard
from onboarding.audit import audit_record
from onboarding.models import AppRegistration, CheckRun, ClientSecret, Mailbox

Status = ClientSecret.Status


class NoMailboxToVerify(Exception):
    """A renewal is proved against a mailbox; the tenant has none yet."""


def renewal_start(
    *,
    app: AppRegistration,
    value: str,
    secret_id: str,
    expires_on: date,
    by: User,
    request: HttpRequest | None = None,
) -> CheckRun:
    """Save the new secret as pending and start the check that proves it."""
    mailbox = Mailbox.objects.filter(tenant_id=app.tenant_id).order_by("created_at").first()
    if mailbox is None:
        raise NoMailboxToVerify
    with transaction.atomic():
        # A renewal still being proved is superseded by the newer attempt.
        superseded = app.secrets.filter(status=Status.PENDING).update(
            status=Status.REJECTED, retired_at=timezone.now()
        )
        secret = wizard.store_secret(
            app, value=value, secret_id=secret_id, expires_on=expires_on, by=by
        )
        audit_record(
            action="client_secret.renewal_started",
            actor=by,
            tenant=app.tenant,
            obj=secret,
            request=request,
            secret_id=secret_id,
            expires_on=expires_on.isoformat(),
            superseded=superseded,
        )
        return checks.check_request(
            mailbox=mailbox, trigger=CheckRun.Trigger.RENEWAL, requested_by=by, secret=secret
        )


def renewal_conclude(check_run_id: str | UUID) -> str | None:
    """After a renewal check: promote the new secret, or reject it. Idempotent: the
    conditional UPDATE on the pending status lets only one caller act."""
    run = CheckRun.objects.select_related("secret__app__tenant").filter(pk=check_run_id).first()
    if run is None or run.secret is None or not run.is_finished:
        return None
    if run.status == CheckRun.Status.PASSED:
        return _promote(run, run.secret)
    return _reject(run, run.secret)


def _promote(run: CheckRun, secret: ClientSecret) -> str | None:
    now = timezone.now()
    with transaction.atomic():
        if not ClientSecret.objects.filter(pk=secret.pk, status=Status.PENDING).update(
            status=Status.ACTIVE
        ):
            return None
        old = list(secret.app.secrets.filter(status=Status.ACTIVE).exclude(pk=secret.pk))
        ClientSecret.objects.filter(pk__in=[s.pk for s in old]).update(
            status=Status.RETIRED, retired_at=now
        )
        audit_record(
            action="client_secret.renewed",
            actor=run.requested_by,
            tenant=secret.app.tenant,
            obj=secret,
            secret_id=str(secret.secret_id),
            retired_secret_ids=[str(s.secret_id) for s in old],
        )
        checks.record_health(run)
        retired = [s.pk for s in old]
        transaction.on_commit(lambda: emails.secret_renewed(secret=secret, retired_ids=retired))
    return "renewed"


def _reject(run: CheckRun, secret: ClientSecret) -> str | None:
    with transaction.atomic():
        if not ClientSecret.objects.filter(pk=secret.pk, status=Status.PENDING).update(
            status=Status.REJECTED, retired_at=timezone.now()
        ):
            return None
        audit_record(
            action="client_secret.renewal_failed",
            actor=run.requested_by,
            tenant=secret.app.tenant,
            obj=secret,
            secret_id=str(secret.secret_id),
            diagnosis=run.diagnosis_key,
            error_code=run.error_code,
        )
    return "rejected"
