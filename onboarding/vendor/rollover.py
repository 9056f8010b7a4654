"""The vendor app's certificate renewing itself, as a customer's does
(onboarding.renewal.rollover), one stage per call:

1. PORTAL_CERTIFICATE_ROLLOVER_DAYS before the certificate in use expires, a new key
   pair is made and sealed in a pending VendorCredential;
2. Graph's addKey puts its certificate on the vendor's app (`/applications(appId=…)`,
   with a proof signed by the key in use, `iss` PORTAL_VENDOR_APP_OBJECT_ID: the app
   needs no permission to roll its own keys; tests/recordings/graph_addkey_documented);
3. PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS later, a token in the vendor's own
   directory (PORTAL_VENDOR_DIRECTORY) signed with the new key proves it; it becomes the
   one in use, and the old one is retired;
4. PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS after that, removeKey takes the old
   certificate off the app, proved with the new one.

No customer is involved and no check runs: the proof is the vendor app's own token.
Microsoft's transient answers wait and try again (up to MAX_ATTEMPTS); a refusal stops
the rollover with one e-mail to support, and the certificate in use stays in use.
A certificate from the operator's files (PORTAL_VENDOR_APP_*_FILE) is not rolled over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from onboarding import certificates, microsoft
from onboarding.microsoft import AppCredential, MicrosoftError
from onboarding.models import VendorCredential
from onboarding.vendor import credential, notices

Status = VendorCredential.Status
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Advanced:
    """What one call did ("" nothing due), and in how many seconds to call again."""

    stage: str = ""
    wait: float | None = None


def configured() -> bool:
    """The vault keeps the key and the portal knows where to prove and add it."""
    return (
        credential.enabled()
        and not settings.PORTAL_VENDOR_APP_CERTIFICATE
        and bool(settings.PORTAL_VENDOR_APP_OBJECT_ID)
        and bool(settings.PORTAL_VENDOR_DIRECTORY)
        and settings.PORTAL_CERTIFICATE_ROLLOVER_DAYS > 0
    )


def starts_on(in_use: credential.InUse) -> datetime:
    """When the rollover of this certificate starts."""
    start = in_use.expires_on - timedelta(days=settings.PORTAL_CERTIFICATE_ROLLOVER_DAYS)
    return timezone.make_aware(datetime.combine(start, datetime.min.time()))


def advance(now: datetime | None = None) -> Advanced:
    """Carry the rollover one stage on, if one is due. Safe to call from several
    workers at once: each stage is taken under a lease on its row."""
    now = now or timezone.now()
    if not configured():
        return Advanced()
    in_use = credential.in_use()
    if in_use is None or in_use.row is None:
        return Advanced()
    retired = VendorCredential.objects.filter(
        status=Status.RETIRED, remove_after__lte=now, key_id__isnull=False
    ).first()
    if retired is not None:
        return _with_lease(retired, now, lambda: _remove(retired, in_use.row, now))
    upcoming = VendorCredential.objects.filter(
        status__in=(Status.PENDING, Status.ADDED), created_at__gte=in_use.row.created_at
    ).first()
    if upcoming is None:
        if now < starts_on(in_use):
            return Advanced()
        credential.make(now=now)
        return Advanced("made", 0)
    if upcoming.error_code or upcoming.next_attempt_at > now:
        wait = None if upcoming.error_code else (upcoming.next_attempt_at - now).total_seconds()
        return Advanced(wait=wait)
    active = in_use.row
    if upcoming.status == Status.PENDING:
        return _with_lease(upcoming, now, lambda: _add(upcoming, active, now))
    return _with_lease(upcoming, now, lambda: _prove(upcoming, now))


def _with_lease(row: VendorCredential, now: datetime, stage: object) -> Advanced:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if not VendorCredential.objects.filter(free, pk=row.pk).update(lease_until=now + LEASE):
        return Advanced(wait=LEASE.total_seconds())  # another worker holds it
    try:
        return stage()  # type: ignore[operator]
    except MicrosoftError as exc:
        return _failed(row, exc, now)
    finally:
        VendorCredential.objects.filter(pk=row.pk).update(lease_until=None)


def _token(signs_in_with: AppCredential, *, fresh: bool = False) -> str:
    """The vendor app's own token, in its own directory."""
    return microsoft.acquire_app_token(
        directory=str(settings.PORTAL_VENDOR_DIRECTORY),
        client_id=signs_in_with.client_id,
        client_secret=signs_in_with.secret,
        certificate=signs_in_with.certificate,
        fresh=fresh,
    ).access_token


def _proof(signs_with: AppCredential, now: datetime) -> str:
    return certificates.proof(
        private_key_pem=signs_with.secret,
        certificate_pem=signs_with.certificate,
        object_id=str(settings.PORTAL_VENDOR_APP_OBJECT_ID),
        now=now,
    )


def _add(upcoming: VendorCredential, active: VendorCredential, now: datetime) -> Advanced:
    current = credential.row_credential(active)
    key_id = microsoft.add_key(
        access_token=_token(current),
        client_id=credential.client_id(),
        certificate=certificates.key_value(upcoming.certificate_pem),
        proof=_proof(current, now),
        display_name=f"{credential.app_name()} (portal, until {upcoming.expires_on:%Y-%m-%d})",
    )
    credential.added(upcoming, key_id=key_id)
    settle = float(settings.PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS)
    VendorCredential.objects.filter(pk=upcoming.pk).update(
        next_attempt_at=now + timedelta(seconds=settle), attempts=0
    )
    return Advanced("added", settle)


def _prove(upcoming: VendorCredential, now: datetime) -> Advanced:
    _token(credential.row_credential(upcoming), fresh=True)  # MicrosoftError if refused
    credential.activate(upcoming)
    return Advanced("switched", float(settings.PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS * 3600))


def _remove(old: VendorCredential, active: VendorCredential, now: datetime) -> Advanced:
    current = credential.row_credential(active)
    try:
        microsoft.remove_key(
            access_token=_token(current),
            client_id=credential.client_id(),
            key_id=str(old.key_id),
            proof=_proof(current, now),
        )
    except MicrosoftError as exc:
        if exc.status != 404:  # someone removed it already, as wanted
            raise
    credential.removed(old)
    return Advanced("removed")


def _failed(row: VendorCredential, exc: MicrosoftError, now: datetime) -> Advanced:
    """A transient answer waits (Retry-After, else backing off); anything else, or too
    many tries, stops the rollover of this key and tells support once."""
    attempts = row.attempts + 1
    if exc.transient and attempts < MAX_ATTEMPTS:
        wait = exc.retry_after or min(60.0 * 2**attempts, 3600.0)
        VendorCredential.objects.filter(pk=row.pk).update(
            attempts=attempts, next_attempt_at=now + timedelta(seconds=wait), error_code=""
        )
        return Advanced("waiting", wait)
    VendorCredential.objects.filter(pk=row.pk).update(attempts=attempts, error_code=exc.code[:128])
    in_use = credential.in_use()
    expires = f"{in_use.expires_on:%d %B %Y}" if in_use is not None else "(none in use)"
    notices.notify(
        thumbprint=row.thumbprint,
        topic=f"rollover:{exc.code}",
        subject="The vendor app's certificate did not renew itself",
        lines=[
            f"Renewing the vendor app's certificate stopped: Microsoft answered {exc.code}.",
            f"The certificate in use keeps working until {expires}.",
            "Check PORTAL_VENDOR_APP_OBJECT_ID and PORTAL_VENDOR_DIRECTORY, then run "
            "manage.py vendor_certificate retry; or upload a new certificate by hand "
            "(manage.py vendor_certificate make / activate).",
        ],
    )
    return Advanced("failed")


def retry() -> int:
    """Support's `vendor_certificate retry`: stopped rollovers start over."""
    return VendorCredential.objects.filter(
        status__in=(Status.PENDING, Status.ADDED), error_code__gt=""
    ).update(error_code="", attempts=0, next_attempt_at=timezone.now())
