"""The vendor app's credential watched like a customer's: the health line support's
overview shows, and the expiry reminders support gets (each once, onboarding.vendor.
notices). Read-only but for those e-mails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format

from onboarding.models import Tenant, VendorCredential
from onboarding.vendor import credential, notices, rollover

# Days before expiry on which support is reminded (0: the day itself), then daily once
# expired: every tenant in vendor mode stops with it.
REMINDER_DAYS = (30, 14, 7, 3, 1, 0)
# A certificate the portal renews by itself is renewed from 30 days before expiry (by
# default): support hears of it only when a week is left and it still is not.
SELF_RENEWING_REMINDER_DAYS = 7


@dataclass(frozen=True)
class Health:
    """One line about the vendor app's credential, for support."""

    app_name: str
    client_id: str
    tone: str  # a Bootstrap colour name
    sentence: str
    thumbprint: str = ""
    expires_on: date | None = None
    days_left: int | None = None
    source: str = ""
    tenants: int = 0
    renewal: str = ""


def health(now: datetime | None = None) -> Health | None:
    """None when vendor mode is off."""
    if not credential.enabled():
        return None
    now = now or timezone.now()
    tenants = Tenant.objects.filter(setup_mode=Tenant.SetupMode.VENDOR).count()
    app_name, client_id = credential.app_name(), credential.client_id()
    in_use = credential.in_use()
    if in_use is None:
        return Health(
            app_name,
            client_id,
            tenants=tenants,
            tone="danger",
            sentence="No certificate is in use: no tenant in vendor mode can connect. "
            "Run manage.py vendor_certificate make, upload it, then activate it.",
        )
    days_left = (in_use.expires_on - timezone.localdate(now)).days
    if days_left < 0:
        tone, sentence = (
            "danger",
            "The certificate has expired: every tenant in vendor mode has stopped.",
        )
    elif days_left <= 7:
        tone, sentence = "danger", f"The certificate expires in {days_left} day(s)."
    elif days_left <= 30:
        tone, sentence = "warning", f"The certificate expires in {days_left} days."
    else:
        tone, sentence = "success", "The certificate is valid."
    return Health(
        app_name,
        client_id,
        tenants=tenants,
        tone=tone,
        sentence=sentence,
        thumbprint=in_use.thumbprint,
        expires_on=in_use.expires_on,
        days_left=days_left,
        source="the operator's files" if in_use.source == credential.FILE else "the portal's vault",
        renewal=_renewal(in_use),
    )


def _renewal(in_use: credential.InUse) -> str:
    if in_use.source == credential.FILE:
        return (
            "From the operator's files: replace them before it expires "
            "(the portal reminds support)."
        )
    if not rollover.configured():
        return (
            "Not renewed by the portal: set PORTAL_VENDOR_APP_OBJECT_ID and "
            "PORTAL_VENDOR_DIRECTORY (and keep PORTAL_CERTIFICATE_ROLLOVER_DAYS above 0)."
        )
    upcoming = VendorCredential.objects.filter(
        status__in=(VendorCredential.Status.PENDING, VendorCredential.Status.ADDED)
    ).first()
    if upcoming is not None and upcoming.error_code:
        return (
            f"Its renewal stopped: Microsoft answered {upcoming.error_code} (support was e-mailed)."
        )
    if upcoming is not None:
        return f"Renewing now: the next certificate is {upcoming.get_status_display().lower()}."
    starts = date_format(rollover.starts_on(in_use), "j M Y")
    return f"The portal renews it by itself from {starts}."


def remind(now: datetime | None = None) -> list[str]:
    """E-mail support the reminders due now (each threshold once per certificate);
    returns their topics."""
    found = health(now)
    if found is None or found.days_left is None or found.expires_on is None:
        return []
    if _renews_itself() and found.days_left > SELF_RENEWING_REMINDER_DAYS:
        return []  # the rollover handles it; a week before expiry it has failed to
    if found.days_left < 0:
        topic = f"expired:{timezone.localdate(now or timezone.now()).isoformat()}"  # daily
    else:
        due = [days for days in REMINDER_DAYS if found.days_left <= days]
        if not due:
            return []
        topic = f"expiry:{min(due)}"
    lines = [
        f"The vendor app's certificate ({found.source}) expires on "
        f"{date_format(found.expires_on, 'j F Y')}: {found.sentence}",
        f"{found.tenants} tenant(s) connect through the vendor's app {found.client_id}.",
        found.renewal,
    ]
    sent = notices.notify(
        thumbprint=found.thumbprint,
        topic=topic,
        subject=f"The vendor app's certificate expires on {date_format(found.expires_on, 'j M Y')}",
        lines=lines,
    )
    return [topic] if sent else []


def _renews_itself() -> bool:
    stopped = VendorCredential.objects.filter(
        status__in=(VendorCredential.Status.PENDING, VendorCredential.Status.ADDED),
        error_code__gt="",
    )
    return rollover.configured() and not stopped.exists()
