"""Support staff's second factor: a TOTP app enrolled on first sign-in.

django-otp keeps the devices and the verified state of the session; this module
decides which device a user enrols, draws its QR code and checks the codes.

Wrong codes slow the next attempt down (django-otp's throttle: 1, 2, 4 ... seconds),
capped at MAX_THROTTLE_SECONDS, so that someone who has the password but not the
phone cannot lock the owner out for hours (uncapped, 20 wrong codes mean 6 days).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import Actor
from accounts.models import User
from onboarding.audit import audit_record
from support import tasks

DEVICE_NAME = "Authenticator app"
# The longest a wrong code makes the next one wait (the throttle doubles up to it).
MAX_THROTTLE_SECONDS = 300
# How long the key shown on the set-up page stays valid for confirmation.
ENROLMENT_VALID = timedelta(minutes=15)
ENROLMENT_SESSION_KEY = "support_2fa_enrolment"


@dataclass(frozen=True)
class Attempt:
    """The outcome of a code: verified, or refused; `wait_seconds` > 0 when the code
    was not even checked because of earlier wrong ones, `expired` when the enrolment
    key it belonged to is no longer valid."""

    verified: bool
    wait_seconds: int = 0
    expired: bool = False

    def __bool__(self) -> bool:
        return self.verified


def has_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _session_enrolment(request: HttpRequest, user: User) -> TOTPDevice | None:
    device_id = request.session.get(ENROLMENT_SESSION_KEY)
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(
        pk=device_id,
        user=user,
        confirmed=False,
        created_at__gte=timezone.now() - ENROLMENT_VALID,
    ).first()


def enrolment_device(request: HttpRequest, user: User) -> TOTPDevice:
    """The unconfirmed device this session is enrolling.

    Kept across reloads of the page in the same session (the QR code scanned stays the
    one confirmed) for ENROLMENT_VALID. Another session, or the same one later, gets a
    new key: a key someone else saw (with the password) is never the one the owner
    confirms, and a forgotten half-done enrolment expires."""
    device = _session_enrolment(request, user)
    if device is None:
        TOTPDevice.objects.filter(
            user=user, confirmed=False, created_at__lt=timezone.now() - ENROLMENT_VALID
        ).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        request.session[ENROLMENT_SESSION_KEY] = device.pk
    return device


def qr_code_data_uri(device: TOTPDevice) -> str:
    """An SVG data: URI (the CSP allows data: images, not inline scripts)."""
    return segno.make(otpauth_uri(device), error="m").svg_data_uri(scale=5, border=2)


def otpauth_uri(device: TOTPDevice) -> str:
    """The key URI apps scan; the issuer comes from settings.OTP_TOTP_ISSUER."""
    return str(device.config_url)


def manual_key(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for apps that cannot scan."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _wait_seconds(device: TOTPDevice) -> int:
    """Seconds before the device takes a code again (0: now), with the throttle capped."""
    factor = max(float(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)), 1e-9)
    if factor <= MAX_THROTTLE_SECONDS:
        # django-otp waits factor * 2 ** (failures - 1): cap the count it reads.
        steps = int(math.log2(MAX_THROTTLE_SECONDS / factor)) + 1
        device.throttling_failure_count = min(device.throttling_failure_count, steps)
    allowed, details = device.verify_is_allowed()
    if allowed:
        return 0
    locked_until = (details or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def _check(device: TOTPDevice, token: str) -> Attempt:
    wait = _wait_seconds(device)
    if wait:
        return Attempt(False, wait_seconds=wait)
    return Attempt(bool(device.verify_token(token)))


def enrolment_confirm(*, request: HttpRequest, user: User, token: str) -> Attempt:
    device = _session_enrolment(request, user)
    if device is None:
        return Attempt(False, expired=True)
    attempt = _check(device, token)
    if not attempt:
        return attempt
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # Half-done enrolments of other sessions can no longer be confirmed.
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    request.session.pop(ENROLMENT_SESSION_KEY, None)
    otp_login(request, device)
    audit_record(action="support.2fa_enrolled", actor=Actor.of(request, user), obj=device)
    transaction.on_commit(partial(tasks.two_factor_enrolled_notify.delay, device.pk))
    return attempt


def verify(*, request: HttpRequest, user: User, token: str) -> Attempt:
    wait = 0
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        attempt = _check(device, token)
        if attempt:
            otp_login(request, device)
            return attempt
        wait = max(wait, attempt.wait_seconds)
    return Attempt(False, wait_seconds=wait)
