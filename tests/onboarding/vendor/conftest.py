"""Vendor mode against the emulator: the vendor's directory with its multi-tenant app
and the portal's certificate on it, and a customer directory with no app of its own."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from microsoft_emulator.state import AppRegistration, Directory, User
from onboarding.models import Tenant, VendorCredential
from onboarding.progress import record_progress
from onboarding.vendor import connect, credential
from tests.microsoft_emulator.conftest import PortSession, csrf, sign_in

ADMIN_PASSWORD = "Admin-pass-1"


@dataclass
class Vendor:
    home: Directory
    app: AppRegistration
    row: VendorCredential


@dataclass
class Customer:
    directory: Directory
    admin: User
    mailbox: User
    reader: User  # a user without an admin role


@pytest.fixture
def vendor(emulated_microsoft, settings, db) -> Vendor:
    return make_vendor(emulated_microsoft, settings)


def make_vendor(emulated_microsoft: Any, settings: Any) -> Vendor:
    """The vendor's directory and multi-tenant app (its redirect URIs at the portal's
    PORTAL_BASE_URL: set that first), the portal configured for it, and the vendor's
    certificate made in the vault, uploaded and in use."""
    home = emulated_microsoft.add_directory("Logistics vendor", "logisticsvendor.onmicrosoft.com")
    app = emulated_microsoft.register_app(
        home,
        "Mail connector",
        redirect_uris=[connect.consent_callback_url(), connect.sign_in_callback_url()],
        permissions=["Mail.Read", "Mail.Send"],
        delegated=["User.Read"],
        sign_in_audience="AzureADMultipleOrgs",
    )
    settings.PORTAL_VENDOR_APP_ID = app.client_id
    settings.PORTAL_VENDOR_APP_NAME = "Mail connector"
    settings.PORTAL_VENDOR_APP_OBJECT_ID = app.object_id
    settings.PORTAL_VENDOR_DIRECTORY = home.id
    row = credential.make()
    uploaded = emulated_microsoft.add_certificate(app, row.certificate_pem)
    assert credential.added(row, key_id=uploaded.key_id)
    assert credential.activate(row)
    return Vendor(home, app, row)


@pytest.fixture
def customer(emulated_microsoft) -> Customer:
    return make_customer(emulated_microsoft)


def make_customer(emulated_microsoft: Any) -> Customer:
    """Contoso with a Global Administrator, a mailbox with one message, a plain user;
    no app of its own."""
    directory = emulated_microsoft.add_directory("Contoso", "contoso.onmicrosoft.com")
    admin = emulated_microsoft.add_user(
        directory, "admin@contoso.onmicrosoft.com", ADMIN_PASSWORD, admin=True
    )
    mailbox = emulated_microsoft.add_user(directory, "dispatch@contoso.onmicrosoft.com", "Mb-1")
    emulated_microsoft.add_message(mailbox, "Order 7", "Two pallets.", sender=admin.upn)
    reader = emulated_microsoft.add_user(directory, "reader@contoso.onmicrosoft.com", "Rd-pass-1")
    return Customer(directory, admin, mailbox, reader)


@pytest.fixture
def vendor_tenant(acme: Tenant) -> Tenant:
    acme.setup_mode = Tenant.SetupMode.VENDOR
    acme.save(update_fields=["setup_mode"])
    record_progress(acme)  # as the start page's choice does
    return acme


def press_consent(client, tenant: Tenant) -> str:
    """Step 3's button; where the portal sends the browser."""
    response = client.post(reverse("onboarding:vendor-consent-start", args=[tenant.pk]))
    assert response.status_code == 302, response.content[:300]
    return str(response["Location"])


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def consent_at_microsoft(
    emulator: Any, url: str, upn: str, password: str = ADMIN_PASSWORD, decision: str = "accept"
) -> tuple[PortSession, dict[str, str]]:
    """Sign in and answer the consent page; Microsoft's session (for the sign-in that
    follows) and the query it sends back to the portal."""
    http = PortSession(emulator)
    page = sign_in(http, http.get(url, allow_redirects=False), upn, password)
    if page.status_code == 200 and 'name="decision"' in page.text:
        form = {"csrf": csrf(page.text), "decision": decision}
        page = http.post(page.url, data=form, allow_redirects=False)
    if page.status_code == 200:  # "Need admin approval": its return link
        assert "Need admin approval" in page.text, page.text[:500]
        back = re.search(r'<a href="([^"]+)">Return to the application', page.text)
        assert back, page.text[:500]
        return http, query(html.unescape(back[1]))
    assert page.status_code == 302, page.text[:500]
    return http, query(page.headers["Location"])


def through_consent(client, emulator: Any, tenant: Tenant, upn: str) -> Any:
    """Press the button, consent at Microsoft, come back, sign in silently, come back:
    the portal's answer to the second callback."""
    http, answer = consent_at_microsoft(emulator, press_consent(client, tenant), upn)
    returned = client.get(reverse("onboarding:vendor-consent-callback"), answer)
    assert returned.status_code == 302, returned.content[:500]
    authorize = http.get(returned["Location"], allow_redirects=False)
    assert authorize.status_code == 302, authorize.text[:500]
    return client.get(
        reverse("onboarding:vendor-sign-in-callback"), query(authorize.headers["Location"])
    )
