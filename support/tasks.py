"""Thin Celery tasks for support: ids in, the work in support.emails."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from support import emails


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def two_factor_enrolled_notify(device_id: int) -> bool:
    """E-mail the owner of a newly confirmed TOTP device. True if sent."""
    device = TOTPDevice.objects.select_related("user").filter(pk=device_id, confirmed=True).first()
    if device is None:
        return False
    emails.two_factor_enrolled(
        user=device.user,
        device_name=device.name,
        enrolled_at=device.last_used_at or device.created_at or timezone.now(),
    )
    return True
