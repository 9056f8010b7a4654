"""Wizard fixtures: Acme's app registration at each stage, and onboarding.microsoft patched."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from onboarding import microsoft
from onboarding.models import AppRegistration, ClientSecret, Mailbox, Tenant

ACME_CLIENT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
ACME_DIRECTORY_ID = "9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c"
GLOBEX_CLIENT_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
GLOBEX_DIRECTORY_ID = "1d3c5b7a-9e8f-4d6c-8b4a-2f1e0d9c8b7a"
DIRECTORIES = {
    "acme.onmicrosoft.com": ACME_DIRECTORY_ID,
    ACME_DIRECTORY_ID: ACME_DIRECTORY_ID,
    "globex.onmicrosoft.com": GLOBEX_DIRECTORY_ID,
    GLOBEX_DIRECTORY_ID: GLOBEX_DIRECTORY_ID,
}
LOGIN = "https://login.example.test"


class FakeMicrosoft:
    """Stands in for onboarding.microsoft: directories it knows, and what it was asked."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.unreachable = False

    def discover_directory(self, directory: str) -> str:
        self.lookups.append(directory)
        if self.unreachable:
            raise microsoft.MicrosoftError("unreachable", "timed out", transient=True)
        if directory not in DIRECTORIES:
            raise microsoft.MicrosoftError("AADSTS90002", f"Tenant '{directory}' not found.", 400)
        return DIRECTORIES[directory]

    @staticmethod
    def admin_consent_url(*, directory: str, client_id: str, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "client_id": client_id,
                "scope": "https://graph.microsoft.com/.default",
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{LOGIN}/{directory}/v2.0/adminconsent?{query}"


@pytest.fixture
def fake_microsoft(monkeypatch) -> FakeMicrosoft:
    fake = FakeMicrosoft()
    monkeypatch.setattr(microsoft, "discover_directory", fake.discover_directory)
    monkeypatch.setattr(microsoft, "admin_consent_url", fake.admin_consent_url)
    return fake


def make_app(tenant: Tenant, client_id: str, directory_id: str, **fields) -> AppRegistration:
    return AppRegistration.objects.create(
        tenant=tenant,
        client_id=client_id,
        directory=directory_id,
        directory_id=directory_id,
        **fields,
    )


def make_secret(app: AppRegistration, **fields) -> ClientSecret:
    # Stored as the vault would store it; these tests never need to read it back.
    values = {
        "secret_id": "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "value_ciphertext": b"not-a-real-ciphertext",
        "value_key_id": "test",
        "hint": "Ab1",
        "expires_on": date(2030, 1, 1),
        **fields,
    }
    return ClientSecret.objects.create(app=app, **values)


@pytest.fixture
def acme_app(acme, alice) -> AppRegistration:
    """Step 1 done."""
    return make_app(acme, ACME_CLIENT_ID, ACME_DIRECTORY_ID)


@pytest.fixture
def acme_configured(acme_app) -> AppRegistration:
    """Steps 1 and 2 done."""
    acme_app.authentication_confirmed_at = timezone.now()
    acme_app.save()
    return acme_app


@pytest.fixture
def acme_consented(acme_configured, alice) -> AppRegistration:
    """Steps 1 to 3 done."""
    acme_configured.consent_granted_at = timezone.now()
    acme_configured.consent_granted_by = alice
    acme_configured.save()
    return acme_configured


@pytest.fixture
def acme_ready(acme_consented, acme) -> AppRegistration:
    """Steps 1 to 5 done: waiting for verification."""
    make_secret(acme_consented)
    Mailbox.objects.create(tenant=acme, address="dispatch@acme.example")
    return acme_consented


@pytest.fixture
def globex_ready(globex, bob) -> AppRegistration:
    app = make_app(
        globex,
        GLOBEX_CLIENT_ID,
        GLOBEX_DIRECTORY_ID,
        authentication_confirmed_at=timezone.now(),
        consent_granted_at=timezone.now(),
    )
    make_secret(app)
    Mailbox.objects.create(tenant=globex, address="ops@globex.example")
    return app
