"""Vendor consent callbacks as Microsoft really sends them (tests/recordings), fed to
the portal with a state it made in the same session."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from onboarding.models import AppRegistration, AuditEvent
from tests.onboarding.vendor.conftest import press_consent, query
from tests.personal_mailbox import text
from tests.recordings import load

pytestmark = pytest.mark.django_db
CALLBACK = reverse("onboarding:vendor-consent-callback")


@pytest.fixture
def as_alice(client, alice, vendor_tenant):
    client.force_login(alice)
    return client


def replay(client, name: str, state: str, **changes: str):
    return client.get(f"{CALLBACK}?{urlencode({**load(name).callback, 'state': state, **changes})}")


def test_the_documented_success_starts_the_proving_sign_in_and_binds_nothing_yet(
    as_alice, vendor, vendor_tenant, emulated_microsoft
):
    recorded = load("adminconsent_success_organizations")
    # The doc's directory, so that Microsoft (the emulator) knows the authority.
    emulated_microsoft.add_directory("Doc", "doc.onmicrosoft.com", id=recorded.callback["tenant"])
    state = query(press_consent(as_alice, vendor_tenant))["state"]
    response = replay(as_alice, "adminconsent_success_organizations", state)
    assert response.status_code == 302
    directory = recorded.callback["tenant"]
    assert f"/{directory}/oauth2/v2.0/authorize?" in response["Location"]
    asked = query(response["Location"])
    assert asked["client_id"] == vendor.app.client_id
    assert asked["redirect_uri"].endswith("/onboarding/vendor/sign-in/callback/")
    assert asked["code_challenge_method"] == "S256"
    assert "prompt" not in asked  # the admin just signed in: no page
    assert set(asked["scope"].split()) >= {"openid", "profile"}
    # The callback's tenant alone is never believed.
    assert not AppRegistration.objects.filter(tenant=vendor_tenant).exists()


def test_the_recorded_decline_says_consent_was_declined(as_alice, vendor, vendor_tenant):
    state = query(press_consent(as_alice, vendor_tenant))["state"]
    response = replay(as_alice, "adminconsent_declined", state)
    assert response.status_code == 200
    assert "Consent was declined" in text(response)
    assert AuditEvent.objects.get(action="vendor_consent.failed").details["code"] == "AADSTS65004"


def test_the_recorded_need_admin_approval_link_says_who_can_consent(
    as_alice, vendor, vendor_tenant
):
    state = query(press_consent(as_alice, vendor_tenant))["state"]
    response = replay(as_alice, "adminconsent_not_admin_return_link", state)
    assert response.status_code == 200
    assert "An administrator needs to grant consent" in text(response)
    assert AuditEvent.objects.get(action="vendor_consent.failed").details["kind"] == "not_admin"


def test_a_success_naming_no_guid_is_refused(as_alice, vendor, vendor_tenant):
    state = query(press_consent(as_alice, vendor_tenant))["state"]
    response = replay(as_alice, "adminconsent_success_organizations", state, tenant="contoso.com")
    assert response.status_code == 400


def test_a_directory_microsoft_does_not_know_ends_on_a_page_and_binds_nothing(
    as_alice, vendor, vendor_tenant
):
    """The documented callback, its directory unknown to Microsoft (AADSTS90002 when the
    portal starts the proving sign-in there): a page, nothing bound."""
    state = query(press_consent(as_alice, vendor_tenant))["state"]
    response = replay(as_alice, "adminconsent_success_organizations", state)
    assert response.status_code == 200
    assert "AADSTS90002" in text(response)
    assert not AppRegistration.objects.filter(tenant=vendor_tenant).exists()
