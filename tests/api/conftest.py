"""Fixtures for the API: service keys and seeded connections (Acme and Globex)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from api import keys
from onboarding.models import AppRegistration, ClientSecret, Mailbox, Tenant

CLIENT_ID = "11111111-2222-3333-4444-555555555555"


def seed_connection(
    tenant: Tenant,
    address: str,
    *,
    secret_value: str = "abc8Q~seeded-secret-value-of-forty-chars",
    health: str = Tenant.Health.HEALTHY,
    diagnosis: str = "",
    with_secret: bool = True,
) -> Mailbox:
    """A configured connection as the wizard leaves it (no Microsoft involved)."""
    app, _ = AppRegistration.objects.get_or_create(
        tenant=tenant, defaults={"client_id": CLIENT_ID, "directory": "contoso.onmicrosoft.com"}
    )
    if with_secret and not app.secrets.exists():
        secret = ClientSecret(
            app=app,
            secret_id="99999999-8888-7777-6666-555555555555",
            expires_on=date.today() + timedelta(days=120),
            status=ClientSecret.Status.ACTIVE,
        )
        secret.set_value(secret_value)
        secret.save()
    return Mailbox.objects.create(
        tenant=tenant, address=address, health=health, diagnosis_code=diagnosis
    )


@pytest.fixture
def make_key(db) -> Callable[..., str]:
    """make_key(scopes..., tenants=[...], **create_account options) -> the key's value."""

    def make(*scopes: str, tenants: tuple[Tenant, ...] | list[Tenant] = (), **options: Any) -> str:
        issued = keys.create_account(
            name=options.pop("name", "Operations app"),
            scopes=list(scopes),
            tenants=list(tenants),
            **options,
        )
        return issued.value

    return make


@pytest.fixture
def api() -> Callable[[str | None], APIClient]:
    def client(key: str | None = None) -> APIClient:
        c = APIClient()
        if key is not None:
            c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return c

    return client


@pytest.fixture
def acme_box(acme: Tenant) -> Mailbox:
    return seed_connection(acme, "orders@acme.example")


@pytest.fixture
def globex_box(globex: Tenant) -> Mailbox:
    return seed_connection(
        globex, "ops@globex.example", health=Tenant.Health.FAILING, diagnosis="wrong_secret"
    )
