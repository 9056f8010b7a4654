"""Client secrets: storing a new one, the secrets in use, and the named transitions of
a secret's status.

A secret's status changes only here, through `secret_activate`, `secret_retire` and
`secret_reject`: each is a conditional UPDATE from the states it may leave, so of two
workers (or a worker and an admin) only one moves a secret, and each move is audited.
The Django admin goes through the same doors. `secret_deleted_in_entra` records, the
same way, an admin's word that a secret no longer in use was deleted in Entra.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.actors import SYSTEM, Actor
from accounts.models import User
from onboarding import changes as connection_changes
from onboarding import vault
from onboarding.audit import audit_record
from onboarding.models import AppRegistration, CertificateDraft, CertificateRollover, ClientSecret

Status = ClientSecret.Status
# A secret that is being verified or in use: the wizard's step 4 counts as done.
LIVE_STATUSES = (Status.PENDING, Status.ACTIVE)


def secret_store(
    app: AppRegistration, *, value: str, secret_id: str, expires_on: date, by: User | None
) -> ClientSecret:
    """A new, pending client secret of the app, its value encrypted by the vault."""
    secret = ClientSecret(app=app, secret_id=secret_id, expires_on=expires_on, created_by=by)
    secret.set_value(value)
    secret.save()
    return secret


def certificate_store(
    draft: CertificateDraft, *, certificate_id: str, by: User | None
) -> ClientSecret:
    """A new, pending certificate credential from a draft the admin uploaded in Entra,
    the draft deleted. The caller holds the transaction."""
    assert draft.app is not None  # a draft is stored once it names its app
    credential = _certificate_credential(draft, draft.app, certificate_id=certificate_id, by=by)
    draft.delete()
    return credential


def rollover_store(rollover: CertificateRollover, *, certificate_id: str) -> ClientSecret:
    """A new, pending certificate credential from the key pair a rollover made, once
    Graph's addKey put its certificate on the app (by nobody: the portal did it)."""
    return _certificate_credential(rollover, rollover.app, certificate_id=certificate_id, by=None)


def _certificate_credential(
    source: CertificateDraft | CertificateRollover,
    app: AppRegistration,
    *,
    certificate_id: str,
    by: User | None,
) -> ClientSecret:
    """The source's key pair as a pending credential: its private key re-encrypted for
    the new row (a blob is bound to its row)."""
    assert source.expires_on is not None  # both sources hold a key pair here
    return key_pair_store(
        app,
        private_key_pem=vault.reveal(source, "private_key"),
        certificate_pem=source.certificate_pem,
        thumbprint=source.thumbprint,
        expires_on=source.expires_on,
        certificate_id=certificate_id,
        by=by,
    )


def key_pair_store(
    app: AppRegistration,
    *,
    private_key_pem: str,
    certificate_pem: str,
    thumbprint: str,
    expires_on: date,
    certificate_id: str,
    by: User | None,
) -> ClientSecret:
    """A new, pending certificate credential of the app, its private key sealed in the
    row (saved first: the ciphertext is bound to its primary key)."""
    credential = ClientSecret(
        app=app, secret_id=certificate_id, expires_on=expires_on, created_by=by
    )
    credential.save()
    credential.set_private_key(
        private_key_pem, certificate_pem=certificate_pem, thumbprint=thumbprint
    )
    credential.save()
    return credential


def rolls_over_itself() -> Q:
    """Certificates the portal rolls over by itself (onboarding.renewal.rollover), for
    which no admin is reminded of the expiry: rollover on, the app's object ID known,
    and no rollover of this certificate that failed. Reminders go out for the others."""
    if settings.PORTAL_CERTIFICATE_ROLLOVER_DAYS <= 0:
        return Q(pk__in=[])
    failed = CertificateRollover.objects.filter(
        old=OuterRef("pk"), stage=CertificateRollover.Stage.FAILED
    )
    return Q(kind=ClientSecret.Kind.CERTIFICATE, app__object_id__isnull=False) & ~Q(Exists(failed))


def secrets_in_use() -> QuerySet[ClientSecret]:
    """Active secrets that no active secret of the same app outlasts."""
    newer = ClientSecret.objects.filter(
        app=OuterRef("app"),
        status=Status.ACTIVE,
        expires_on__gt=OuterRef("expires_on"),
    )
    return ClientSecret.objects.filter(status=Status.ACTIVE).exclude(Exists(newer))


def _move(
    secret: ClientSecret,
    *,
    to: str,
    sources: tuple[str, ...],
    actor: Actor,
    **details: Any,
) -> bool:
    """Move one secret from one of `sources` to `to`, once; audit it. True if moved."""
    changes: dict[str, Any] = {"status": to}
    if to in (Status.RETIRED, Status.REJECTED):
        changes["retired_at"] = timezone.now()
    moved = ClientSecret.objects.filter(pk=secret.pk, status__in=sources).update(**changes)
    if not moved:
        return False
    connection_changes.changed()  # the token call uses the active secret
    previous = secret.status
    for field, value in changes.items():
        setattr(secret, field, value)
    audit_record(
        action=f"client_secret.{to}",
        actor=actor,
        tenant=secret.app.tenant,
        obj=secret,
        secret_id=str(secret.secret_id),
        previous=previous,
        **details,
    )
    return True


def secret_activate(secret: ClientSecret, *, actor: Actor = SYSTEM, **details: Any) -> bool:
    """A pending secret proved by a check (or chosen by an admin) is now the one in use."""
    return _move(secret, to=Status.ACTIVE, sources=(Status.PENDING,), actor=actor, **details)


def secret_retire(secret: ClientSecret, *, actor: Actor = SYSTEM, **details: Any) -> bool:
    """A live secret is replaced: it is kept (never deleted) but no longer used."""
    return _move(secret, to=Status.RETIRED, sources=LIVE_STATUSES, actor=actor, **details)


def secret_reject(secret: ClientSecret, *, actor: Actor = SYSTEM, **details: Any) -> bool:
    """A pending secret failed its check or was superseded: it is never used."""
    return _move(secret, to=Status.REJECTED, sources=(Status.PENDING,), actor=actor, **details)


# Secrets that may be deleted in Entra: never the one in use, nor one being proved.
DELETABLE_STATUSES = (Status.RETIRED, Status.REJECTED)


def secret_deleted_in_entra(secret: ClientSecret, *, actor: Actor, **details: Any) -> bool:
    """An admin says they deleted this retired or rejected secret in Entra; recorded once
    and audited. False (nothing recorded) for a live secret or one already recorded."""
    now = timezone.now()
    moved = ClientSecret.objects.filter(
        pk=secret.pk, status__in=DELETABLE_STATUSES, deleted_in_entra_at__isnull=True
    ).update(deleted_in_entra_at=now)
    if not moved:
        return False
    secret.deleted_in_entra_at = now
    audit_record(
        action="client_secret.deleted_in_entra",
        actor=actor,
        tenant=secret.app.tenant,
        obj=secret,
        secret_id=str(secret.secret_id),
        status=secret.status,
        **details,
    )
    return True


def secrets_retire_live(
    app: AppRegistration, *, actor: Actor, keep: ClientSecret | None = None, **details: Any
) -> list[ClientSecret]:
    """Retire every live secret of the app but `keep`; the ones this call retired."""
    live = app.secrets.select_related("app__tenant").filter(status__in=LIVE_STATUSES)
    if keep is not None:
        live = live.exclude(pk=keep.pk)
    return [secret for secret in live if secret_retire(secret, actor=actor, **details)]
