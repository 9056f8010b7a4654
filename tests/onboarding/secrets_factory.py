"""Builds app registrations and client secrets for the reminder tests."""

from __future__ import annotations

import uuid
from datetime import date

from onboarding.models import AppRegistration, ClientSecret, Tenant


def make_secret(
    tenant: Tenant,
    expires_on: date,
    *,
    status: str = ClientSecret.Status.ACTIVE,
    hint: str = "abc",
) -> ClientSecret:
    app, _ = AppRegistration.objects.get_or_create(
        tenant=tenant,
        defaults={"client_id": uuid.uuid4(), "directory": "contoso.onmicrosoft.com"},
    )
    return ClientSecret.objects.create(
        app=app,
        secret_id=uuid.uuid4(),
        # Reminders never read the value; the vault is not involved here.
        value_ciphertext=b"not-a-real-ciphertext",
        value_key_id="test",
        hint=hint,
        expires_on=expires_on,
        status=status,
    )
