"""Support staff's second factor: a TOTP app enrolled on first sign-in.

django-otp keeps the devices and the verified state of the session; this module
decides which device a user enrols, draws its QR code and checks the codes."""

from __future__ import annotations

import base64

import segno
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import Actor
from accounts.models import User
from onboarding.audit import audit_record

DEVICE_NAME = "Authenticator app"


def has_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled; one per user, kept across page reloads
    so the QR code scanned stays the one that is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
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


def enrolment_confirm(*, request: HttpRequest, user: User, token: str) -> bool:
    device = enrolment_device(user)
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    audit_record(action="support.2fa_enrolled", actor=Actor.of(request, user), obj=device)
    return True


def verify(*, request: HttpRequest, user: User, token: str) -> bool:
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token):
            otp_login(request, device)
            return True
    return False
