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
    secret = ClientSecret(
        app=app, secret_id=uuid.uuid4(), hint=hint, expires_on=expires_on, status=status
    )
    secret.set_value(f"{hint}8Q~" + "x" * 34)
    secret.save()
    return secret
