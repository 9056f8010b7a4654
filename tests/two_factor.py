"""Support staff's second factor in tests: a confirmed TOTP device and its current code."""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def confirmed_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """What the authenticator app shows now, computed from the device's key."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def sign_in_verified(client: Client, user: User) -> TOTPDevice:
    """Signed in and past the second factor, as django_otp.login leaves a session."""
    device = confirmed_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def enter_code(page, device: TOTPDevice) -> None:
    """On the portal's two-factor page in a browser: type the current code."""
    page.get_by_role("heading", name="Enter your sign-in code").wait_for()
    page.get_by_label("6-digit code from your authenticator app").fill(current_code(device))
    page.get_by_role("button", name="Verify").click()
