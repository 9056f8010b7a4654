from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from onboarding.models import AppRegistration, ClientSecret, Mailbox, Tenant
from tests.two_factor import sign_in_verified


@pytest.fixture
def staff_client(client, charlie):
    """charlie, signed in with his password and his TOTP code."""
    sign_in_verified(client, charlie)
    return client


def make_tenant(
    name: str,
    *,
    step: int = 7,
    health: str = Tenant.Health.HEALTHY,
    expires_in: int | None = None,
    secret_value: str = "abc8Q~not-a-canary",
    mailbox: str | None = None,
    mailbox_health: str = Tenant.Health.HEALTHY,
    diagnosis_code: str = "",
    last_success_at: datetime | None = None,
    directory: str = "",
    created_days_ago: int = 0,
) -> Tenant:
    """A tenant with, on request, an app registration, an active secret and a mailbox."""
    tenant = Tenant.objects.create(
        name=name,
        onboarding_step=step,
        health=health,
        created_at=timezone.now() - timedelta(days=created_days_ago),
    )
    if expires_in is not None or directory:
        app = AppRegistration.objects.create(
            tenant=tenant,
            client_id=uuid.uuid4(),
            directory=directory or f"{name.split()[0].lower()}.onmicrosoft.com",
            directory_id=uuid.uuid4(),
        )
        if expires_in is not None:
            secret = ClientSecret(
                app=app,
                secret_id=uuid.uuid4(),
                expires_on=timezone.localdate() + timedelta(days=expires_in),
                status=ClientSecret.Status.ACTIVE,
            )
            secret.set_value(secret_value)
            secret.save()
    if mailbox:
        Mailbox.objects.create(
            tenant=tenant,
            address=mailbox,
            health=mailbox_health,
            diagnosis_code=diagnosis_code,
            last_success_at=last_success_at,
        )
    return tenant
