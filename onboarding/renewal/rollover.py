"""The portal rolling a certificate over by itself before it expires: nobody copies
anything, nobody is asked to renew.

At PORTAL_CERTIFICATE_ROLLOVER_DAYS before a certificate credential in use expires,
`scan` claims it: creating its CertificateRollover row is the claim (the row's `old`
is unique, so of several scans only one creates it). `advance` then moves the row on,
one stage per call, each stage written by a conditional UPDATE from the stage before:

1. CLAIMED -> KEY_MADE: a new key pair and certificate, the private key sealed in the
   row (so a retry adds the same certificate, never a second one; if addKey's answer
   was lost, Graph refuses the retry and the rollover ends `rollover_key_refused`).
2. KEY_MADE -> KEY_ADDED: Graph's addKey puts the new certificate on the app, with a
   proof signed by the current key (the app needs no permission to roll its own keys,
   application-addkey.md); the new key becomes a pending credential.
3. KEY_ADDED -> PROVING: a check proves the new credential (trigger "rollover"), once
   Entra had time to replicate the new key (PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS).
4. PROVING -> SWITCHED: the check passed, so onboarding.checks.health made the new
   credential the active one and retired the old one (no e-mail to the admins: there
   is nothing for them to do); the old key stays on the app for the grace period.
5. SWITCHED -> DONE: removeKey takes the old certificate off the app.

One worker at a time advances a row (`lease_until`); a worker killed mid-stage loses
its lease and the next scan hands the row on. Microsoft's transient answers (429 with
Retry-After, 5xx, unreachable) wait and try again, up to MAX_ATTEMPTS. Anything else,
or too many attempts, ends the row FAILED with a diagnosis: the current certificate
was never touched and keeps working, support and the admins are told once, and the
expiry reminders resume for it (onboarding.client_secrets.rolls_over_itself). Every
stage is audited and so shown in the tenant's timeline.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actors import SYSTEM
from onboarding import certificates, emails, microsoft, vault
from onboarding.audit import audit_record
from onboarding.checks.claim import Requested, check_request, retry_delay
from onboarding.client_secrets import rollover_store, secret_deleted_in_entra, secrets_in_use
from onboarding.diagnosis import CATALOGUE, diagnose, fix_path
from onboarding.microsoft import MicrosoftError
from onboarding.models import (
    CertificateRollover,
    CheckRun,
    ClientSecret,
    Mailbox,
)

logger = logging.getLogger(__name__)

Stage = CertificateRollover.Stage
# A worker's hold on a row: longer than any task may run (the hard time limit), so a
# lease runs out only when its worker is gone.
LEASE = timedelta(seconds=max(300, settings.CELERY_TASK_TIME_LIMIT + 60))
# Transient failures of one stage before the rollover gives up (and reminders resume).
MAX_ATTEMPTS = 8
# How often a rollover looks at its proving check again.
CHECK_POLL = timedelta(seconds=15)
FINAL = (Stage.DONE, Stage.FAILED)


@dataclass
class Advanced:
    """What one call of `advance` did: the stage the row is now in, when to call again
    (None: not before the next scan, or never), and a check to enqueue."""

    stage: str | None
    wait: timedelta | None = None
    checks: list[Requested] = field(default_factory=list)


# --- which certificates are due --------------------------------------------------------


def scan(now: datetime | None = None) -> list[uuid.UUID]:
    """Claim every certificate due for rollover; the rows to advance now (new ones, and
    earlier ones whose wait is over or whose worker was lost)."""
    now = now or timezone.now()
    lead = settings.PORTAL_CERTIFICATE_ROLLOVER_DAYS
    if lead > 0:
        due = (
            secrets_in_use()
            .filter(
                kind=ClientSecret.Kind.CERTIFICATE,
                app__object_id__isnull=False,
                expires_on__lte=now.date() + timedelta(days=lead),
                rollover__isnull=True,
            )
            .select_related("app__tenant")
        )
        for credential in due:
            _claim(credential, now)
    ready = CertificateRollover.objects.exclude(stage__in=FINAL).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), next_attempt_at__lte=now
    )
    return list(ready.values_list("pk", flat=True))


def _claim(credential: ClientSecret, now: datetime) -> None:
    try:
        with transaction.atomic():
            rollover = CertificateRollover.objects.create(
                app=credential.app, old=credential, next_attempt_at=now
            )
            audit_record(
                action="certificate.rollover_started",
                tenant=credential.app.tenant,
                obj=rollover,
                secret_id=str(credential.secret_id),
                expires_on=credential.expires_on.isoformat(),
            )
    except IntegrityError:
        pass  # another scan claimed it first


# --- moving one rollover on ------------------------------------------------------------


def advance(rollover_id: uuid.UUID | str, now: datetime | None = None) -> Advanced:
    """Take the row's lease and do its next stage; Advanced(None) when another worker
    holds it, it is waiting, or it is finished."""
    now = now or timezone.now()
    taken = (
        CertificateRollover.objects.filter(pk=rollover_id, next_attempt_at__lte=now)
        .exclude(stage__in=FINAL)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not taken:
        return Advanced(None)
    rollover = CertificateRollover.objects.select_related("app__tenant", "old", "new").get(
        pk=rollover_id
    )
    stage = rollover.stage
    replaced = rollover.old.status != ClientSecret.Status.ACTIVE
    if stage in (Stage.CLAIMED, Stage.KEY_MADE) and replaced:
        # An admin replaced the certificate meanwhile: nothing left to roll over.
        result = _fail(rollover, "rollover_superseded", "superseded", now, notify=False)
        CertificateRollover.objects.filter(pk=rollover.pk).update(lease_until=None)
        return result
    try:
        result = _STAGES[stage](rollover, now)
    except MicrosoftError as exc:
        result = _microsoft_failed(rollover, exc, now)
    except vault.DecryptionError:
        result = _fail(rollover, "secret_unreadable", "vault.DecryptionError", now)
    except Exception as exc:  # a bug must not leave the row leased for ever, nor log secrets
        logger.error("Rollover %s failed at %s with %s", rollover.pk, stage, type(exc).__name__)
        result = _retry_later(rollover, type(exc).__name__, None, now)
    CertificateRollover.objects.filter(pk=rollover.pk).update(lease_until=None)
    return result


def _moved(rollover: CertificateRollover, to: str, **changes: Any) -> bool:
    """The one way a stage changes: from the stage this worker read, once."""
    return bool(
        CertificateRollover.objects.filter(pk=rollover.pk, stage=rollover.stage).update(
            stage=to, attempts=0, error_code="", **changes
        )
    )


def _make_key(rollover: CertificateRollover, now: datetime) -> Advanced:
    made = certificates.make(tenant_name=rollover.app.tenant.name, now=now)
    vault.seal(rollover, "private_key", made.private_key_pem)
    if not _moved(
        rollover,
        Stage.KEY_MADE,
        private_key_ciphertext=rollover.private_key_ciphertext,
        private_key_key_id=rollover.private_key_key_id,
        certificate_pem=made.certificate_pem,
        thumbprint=made.thumbprint,
        expires_on=made.not_after.date(),
        next_attempt_at=now,
    ):
        return Advanced(None)
    _audit(rollover, "certificate.rollover_key_made", thumbprint=made.thumbprint)
    return Advanced(Stage.KEY_MADE, wait=timedelta(0))


def _add_key(rollover: CertificateRollover, now: datetime) -> Advanced:
    old = rollover.old
    key_id = microsoft.add_key(
        access_token=_token(old),
        client_id=str(rollover.app.client_id),
        certificate=certificates.key_value(rollover.certificate_pem),
        proof=_proof(old, now),
        display_name=f"Mailbox portal {now:%Y-%m-%d}",
    )
    with transaction.atomic():
        new = rollover_store(rollover, certificate_id=key_id)
        settle = _settle()
        if not _moved(rollover, Stage.KEY_ADDED, new=new, next_attempt_at=now + settle):
            transaction.set_rollback(True)
            return Advanced(None)
        _audit(
            rollover,
            "certificate.rollover_key_added",
            secret_id=key_id,
            thumbprint=rollover.thumbprint,
        )
    return Advanced(Stage.KEY_ADDED, wait=settle)


def _settle() -> timedelta:
    """Entra replicates a new key within seconds to a few minutes: a check made at once
    could be refused (AADSTS700027) by a replica that has not seen it yet."""
    return timedelta(seconds=settings.PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS)


def _prove(rollover: CertificateRollover, now: datetime) -> Advanced:
    mailbox = Mailbox.objects.filter(tenant_id=rollover.app.tenant_id).order_by("created_at")
    first = mailbox.first()
    if first is None or rollover.new is None:
        return _fail(rollover, "rollover_no_mailbox", "no_mailbox", now)
    with transaction.atomic():
        requested = check_request(
            mailbox=first, trigger=CheckRun.Trigger.ROLLOVER, secret=rollover.new
        )
        if not _moved(
            rollover, Stage.PROVING, check_run=requested.run, next_attempt_at=now + CHECK_POLL
        ):
            transaction.set_rollback(True)
            return Advanced(None)
        _audit(rollover, "certificate.rollover_proving", check_run=str(requested.run.pk))
    return Advanced(Stage.PROVING, wait=CHECK_POLL, checks=[requested])


def _switch(rollover: CertificateRollover, now: datetime) -> Advanced:
    """The proving check's result, once health concluded it (it promotes or rejects)."""
    new = ClientSecret.objects.filter(pk=rollover.new_id or uuid.UUID(int=0)).first()
    run = CheckRun.objects.filter(pk=rollover.check_run_id or uuid.UUID(int=0)).first()
    if new is None or run is None:
        return _fail(rollover, "rollover_check_failed", "check_lost", now)
    if new.status == ClientSecret.Status.ACTIVE:
        remove_after = now + timedelta(hours=settings.PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS)
        if _moved(
            rollover, Stage.SWITCHED, remove_after=remove_after, next_attempt_at=remove_after
        ):
            _audit(rollover, "certificate.rollover_switched", secret_id=str(new.secret_id))
        return Advanced(Stage.SWITCHED, wait=remove_after - now)
    if new.status in (ClientSecret.Status.REJECTED, ClientSecret.Status.RETIRED):
        if run.status == CheckRun.Status.PASSED:
            # It worked, but an admin's own new credential superseded it meanwhile.
            return _fail(rollover, "rollover_superseded", "superseded", now, notify=False)
        return _fail(rollover, run.diagnosis_key or "rollover_check_failed", run.error_code, now)
    _wait(rollover, now + CHECK_POLL)  # the check is still running
    return Advanced(Stage.PROVING, wait=CHECK_POLL)


def _remove_old(rollover: CertificateRollover, now: datetime) -> Advanced:
    """removeKey of the old certificate, proved with the new one (now in use)."""
    new, old = rollover.new, rollover.old
    if new is None:
        return _fail(rollover, "rollover_check_failed", "new_lost", now)
    try:
        microsoft.remove_key(
            access_token=_token(new),
            client_id=str(rollover.app.client_id),
            key_id=str(old.secret_id),
            proof=_proof(new, now),
        )
    except MicrosoftError as exc:
        if exc.status != 404:  # a 404: someone removed it already, as wanted
            raise
    if _moved(rollover, Stage.DONE, finished_at=now):
        secret_deleted_in_entra(old, actor=SYSTEM, rollover=str(rollover.pk))
        _audit(rollover, "certificate.rollover_done", removed_secret_id=str(old.secret_id))
    return Advanced(Stage.DONE)


_STAGES: dict[str, Any] = {
    Stage.CLAIMED: _make_key,
    Stage.KEY_MADE: _add_key,
    Stage.KEY_ADDED: _prove,
    Stage.PROVING: _switch,
    Stage.SWITCHED: _remove_old,
}


# --- Microsoft, and what goes wrong ------------------------------------------------------


def _token(credential: ClientSecret) -> str:
    """The app's own token, signed in with this certificate credential."""
    app = credential.app
    return microsoft.acquire_app_token(
        directory=app.directory,
        client_id=str(app.client_id),
        client_secret=credential.reveal(),
        certificate=credential.certificate_pem,
    ).access_token


def _proof(credential: ClientSecret, now: datetime) -> str:
    return certificates.proof(
        private_key_pem=credential.reveal(),
        certificate_pem=credential.certificate_pem,
        object_id=str(credential.app.object_id),
        now=now,
    )


# Graph's answers to addKey and removeKey that the catalogue names for a rollover.
_GRAPH_REFUSALS = {
    "Authentication_MissingOrMalformed": "rollover_proof_refused",
    "Authorization_RequestDenied": "rollover_proof_refused",
    "Request_BadRequest": "rollover_key_refused",
}


def _microsoft_failed(
    rollover: CertificateRollover, exc: MicrosoftError, now: datetime
) -> Advanced:
    if exc.transient:  # until MAX_ATTEMPTS, which ends as rollover_gave_up
        return _retry_later(rollover, exc.code, exc.retry_after, now)
    key = _GRAPH_REFUSALS.get(exc.code) or diagnose(exc.code, exc.message, status=exc.status).key
    return _fail(rollover, key, exc.code, now)


def _retry_later(
    rollover: CertificateRollover, code: str, retry_after: float | None, now: datetime
) -> Advanced:
    attempts = rollover.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return _fail(rollover, "rollover_gave_up", code, now)
    wait = timedelta(seconds=retry_delay(attempts, retry_after))
    CertificateRollover.objects.filter(pk=rollover.pk, stage=rollover.stage).update(
        attempts=attempts, error_code=code[:128], next_attempt_at=now + wait
    )
    _audit(rollover, "certificate.rollover_retrying", stage=rollover.stage, error_code=code)
    return Advanced(rollover.stage, wait=wait)


def _wait(rollover: CertificateRollover, until: datetime) -> None:
    CertificateRollover.objects.filter(pk=rollover.pk, stage=rollover.stage).update(
        next_attempt_at=until
    )


def _fail(
    rollover: CertificateRollover, key: str, code: str, now: datetime, *, notify: bool = True
) -> Advanced:
    """The rollover ends here: the current certificate was never touched. Support and the
    admins are told once (the stage's conditional UPDATE), with the diagnosis."""
    at = rollover.stage
    if not _moved(rollover, Stage.FAILED, diagnosis_key=key, finished_at=now):
        return Advanced(None)
    CertificateRollover.objects.filter(pk=rollover.pk).update(error_code=code[:128])
    _audit(rollover, "certificate.rollover_failed", stage=at, diagnosis=key, error_code=code)
    if not notify:
        return Advanced(Stage.FAILED)
    tenant = rollover.app.tenant
    found = CATALOGUE.get(key) or diagnose(code)
    path = fix_path(tenant_id=tenant.pk, diagnosis=found)
    to = tenant.recipients(settings.SUPPORT_EMAIL)
    old = rollover.old
    transaction.on_commit(
        lambda: emails.rollover_failed(
            to=to,
            tenant=tenant,
            credential=old,
            stage_label=Stage(at).label,
            diagnosis=found,
            link=f"{settings.PORTAL_BASE_URL}{path}" if path else "",
        )
    )
    return Advanced(Stage.FAILED)


def _audit(rollover: CertificateRollover, action: str, **details: Any) -> None:
    audit_record(action=action, tenant=rollover.app.tenant, obj=rollover, **details)
