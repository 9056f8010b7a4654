"""The vendor app's one credential: a certificate whose private key the portal holds.

Every customer directory in vendor mode is reached with it (a token from
`{login}/{customer directory}/oauth2/v2.0/token`, msal's cache kept per directory), so
it is a single point of failure for all of them: n8n's own app secret lapsed and broke
every cloud user at once (n8n-io/n8n#22567). Hence a certificate, never a secret, and
the portal watches it like a customer's (onboarding.vendor.watch) and rolls it over
(onboarding.vendor.rollover).

It comes from one of two places:
- the operator's files (PORTAL_VENDOR_APP_PRIVATE_KEY_FILE and _CERTIFICATE_FILE), for
  a key kept in a secret store; the portal then only reminds support of its expiry;
- the vault: `manage.py vendor_certificate` makes the first key pair, whose certificate
  the vendor uploads to its app once; the rollover makes the next ones.

This module is the one writer of VendorCredential's status.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.utils import timezone

from accounts.actors import SYSTEM, Actor
from onboarding import certificates, vault
from onboarding import changes as connection_changes
from onboarding.audit import audit_record
from onboarding.microsoft import AppCredential, MicrosoftError
from onboarding.models import VendorCredential

Status = VendorCredential.Status
FILE, VAULT = "file", "vault"


def enabled() -> bool:
    """Whether the portal offers vendor mode (PORTAL_VENDOR_APP_ID is set)."""
    return bool(settings.PORTAL_VENDOR_APP_ID)


def client_id() -> str:
    return str(settings.PORTAL_VENDOR_APP_ID)


def app_name() -> str:
    return str(settings.PORTAL_VENDOR_APP_NAME)


@dataclass(frozen=True)
class InUse:
    """The credential the portal signs in with now. Never holds the private key."""

    source: str  # FILE or VAULT
    certificate_pem: str
    thumbprint: str
    expires_on: dt.date
    row: VendorCredential | None = None


def in_use() -> InUse | None:
    """The operator's files when set, else the newest active vault credential; None when
    there is neither (vendor mode cannot sign in: support sees it on its overview)."""
    if settings.PORTAL_VENDOR_APP_CERTIFICATE:
        pem = settings.PORTAL_VENDOR_APP_CERTIFICATE
        thumbprint, expires_on = _described(pem)
        return InUse(FILE, pem, thumbprint, expires_on)
    row = VendorCredential.objects.filter(status=Status.ACTIVE).order_by("-expires_on").first()
    if row is None:
        return None
    return InUse(VAULT, row.certificate_pem, row.thumbprint, row.expires_on, row)


@functools.lru_cache(maxsize=4)
def _described(certificate_pem: str) -> tuple[str, dt.date]:
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError:
        raise MicrosoftError(
            "vendor_credential_missing", "PORTAL_VENDOR_APP_CERTIFICATE is not a PEM certificate."
        ) from None
    sha1 = certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra's thumbprint
    return sha1, certificate.not_valid_after_utc.date()


def app_credential() -> AppCredential:
    """The vendor app's client ID with the private key and certificate in use, for msal.
    MicrosoftError "vendor_credential_missing" (none configured or made yet) or
    "vendor_credential_unreadable" (the vault cannot decrypt it: it logs an alert)."""
    return credential_of(in_use())


def credential_of(found: InUse | None) -> AppCredential:
    if found is None:
        raise MicrosoftError(
            "vendor_credential_missing", "The vendor's app has no certificate in the portal."
        )
    if found.row is None:
        key = str(settings.PORTAL_VENDOR_APP_PRIVATE_KEY)
    else:
        try:
            key = found.row.reveal_private_key()
        except vault.DecryptionError:
            raise MicrosoftError(
                "vendor_credential_unreadable",
                "The vendor app's private key cannot be decrypted.",
            ) from None
    return AppCredential(client_id(), key, found.certificate_pem)


def row_credential(row: VendorCredential) -> AppCredential:
    """A vault credential that is not in use yet (a rollover proving its next key)."""
    return credential_of(InUse(VAULT, row.certificate_pem, row.thumbprint, row.expires_on, row))


# --- the vault's credentials ---------------------------------------------------------


def make(*, days: int | None = None, now: dt.datetime | None = None) -> VendorCredential:
    """A new key pair, its certificate naming the vendor's app, sealed in a pending row."""
    made = certificates.make(tenant_name=app_name(), days=days, now=now)
    row = VendorCredential(
        certificate_pem=made.certificate_pem,
        thumbprint=made.thumbprint,
        expires_on=made.not_after.date(),
    )
    row.save()  # the primary key first: the ciphertext is bound to it
    row.set_private_key(made.private_key_pem)
    row.save(update_fields=["private_key_ciphertext", "private_key_key_id"])
    audit_record(action="vendor_certificate.made", actor=SYSTEM, obj=row, thumbprint=row.thumbprint)
    return row


def _move(
    row: VendorCredential, *, to: str, sources: tuple[str, ...], actor: Actor, **changes: Any
) -> bool:
    """Move one credential from one of `sources` to `to`, once; audit it."""
    moved = VendorCredential.objects.filter(pk=row.pk, status__in=sources).update(
        status=to, **changes
    )
    if not moved:
        return False
    connection_changes.changed()  # the API's token calls keep the credential in use
    row.status = to
    for name, value in changes.items():
        setattr(row, name, value)
    audit_record(
        action=f"vendor_certificate.{to}",
        actor=actor,
        obj=row,
        thumbprint=row.thumbprint,
        key_id=str(row.key_id or ""),
    )
    return True


def added(row: VendorCredential, *, key_id: str, actor: Actor = SYSTEM) -> bool:
    """Its certificate is on the vendor's app now, as key `key_id`."""
    return _move(row, to=Status.ADDED, sources=(Status.PENDING,), actor=actor, key_id=key_id)


def activate(row: VendorCredential, *, actor: Actor = SYSTEM) -> bool:
    """Proved (or declared uploaded by the operator): the credential in use from now on;
    the one it replaces is retired, to be removed from the app after the grace period."""
    now = timezone.now()
    moved = _move(
        row,
        to=Status.ACTIVE,
        sources=(Status.PENDING, Status.ADDED),
        actor=actor,
        activated_at=now,
        error_code="",
    )
    if moved:
        grace = dt.timedelta(hours=settings.PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS)
        for old in VendorCredential.objects.filter(status=Status.ACTIVE).exclude(pk=row.pk):
            _move(
                old,
                to=Status.RETIRED,
                sources=(Status.ACTIVE,),
                actor=actor,
                retired_at=now,
                remove_after=now + grace,
            )
    return moved


def removed(row: VendorCredential, *, actor: Actor = SYSTEM) -> bool:
    """A retired certificate is off the vendor's app (removeKey, or the operator did it)."""
    return _move(row, to=Status.REMOVED, sources=(Status.RETIRED,), actor=actor)
