"""The onboarding wizard, walked as a new admin would: from the invitation, through the
guide's steps in the emulated Entra admin center, to the verify step."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from onboarding import progress
from onboarding.checks import health
from onboarding.models import AppRegistration, ClientSecret, Mailbox
from tests.browser.conftest import accept_invitation, browser_context, fits_a_phone
from tests.browser.entra_steps import (
    entra_authentication,
    entra_new_secret,
    entra_permissions,
    entra_register,
    open_in_entra,
    sign_in_to_microsoft,
)
from tests.onboarding.conftest import make_secret

pytestmark = pytest.mark.browser

ADMIN = "admin@contoso.onmicrosoft.com"
CLERK = "clerk@contoso.onmicrosoft.com"
MS_PASSWORD = "Admin-pass-1"


@pytest.fixture
def contoso(emulated_microsoft):
    directory = emulated_microsoft.add_directory("Contoso", "contoso.onmicrosoft.com")
    emulated_microsoft.add_user(directory, ADMIN, MS_PASSWORD, admin=True)
    emulated_microsoft.add_user(directory, CLERK, MS_PASSWORD, admin=False)
    emulated_microsoft.add_user(directory, "dispatch@contoso.onmicrosoft.com", MS_PASSWORD)
    return directory


@pytest.fixture
def colleague_page(chromium_browser) -> Iterator:
    context = browser_context(chromium_browser)
    yield context.new_page()
    context.close()


def step(page, screenshot, name: str, heading: str) -> None:
    page.get_by_role("heading", name=heading, exact=True).wait_for()
    fits_a_phone(page)
    screenshot(page, name)


def copied(page, label: str) -> str:
    return page.get_by_role("button", name=f"Copy {label}").first.get_attribute("data-copy")


def test_it_walks_a_new_admin_from_the_invitation_to_verify(
    admin_page, portal, emulated_microsoft, contoso, acme, charlie, settings, screenshot
):
    settings.ENTRA_ADMIN_URL = emulated_microsoft.base_url
    page = admin_page
    accept_invitation(page, portal, acme, charlie)
    page.get_by_role("link", name="Set up the mailbox connection").click()
    step(page, screenshot, "1-register", "Register the application")
    assert "and personal Microsoft accounts" in copied(page, "Supported account types")
    entra = open_in_entra(page, "New registration")
    client_id, tenant_id = entra_register(entra, copied(page, "Name"), ADMIN, MS_PASSWORD)
    assert tenant_id == contoso.id

    page.get_by_label("Application (client) ID").fill(client_id)
    page.get_by_label("Directory (tenant) ID").fill("nobody.onmicrosoft.com")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_text("Microsoft does not know this directory").wait_for()
    screenshot(page, "1-unknown-directory")
    page.get_by_label("Directory (tenant) ID").fill("contoso.onmicrosoft.com")
    page.get_by_role("button", name="Save and continue").click()

    step(page, screenshot, "2-authentication", "Authentication settings")
    callback = copied(page, "This portal's consent address")
    assert callback == f"{portal.url}/onboarding/consent/callback/"
    entra_authentication(
        open_in_entra(page, "Authentication for this app"), ["http://localhost", callback]
    )
    page.get_by_label("I have set these values in Entra").check()
    page.get_by_role("button", name="Continue").click()

    step(page, screenshot, "3-permissions", "API permissions and admin consent")
    entra_permissions(open_in_entra(page, "API permissions for this app"))
    page.get_by_role("button", name="Grant admin consent").click()
    page.get_by_role("heading", name="Permissions requested").wait_for()
    screenshot(page, "3-microsoft-consent")
    page.get_by_role("button", name="Accept").click()
    page.get_by_text("Admin consent reported by Microsoft's sign-in page").wait_for()

    step(page, screenshot, "4-secret", "Client secret")
    value, secret_id, expires = entra_new_secret(
        open_in_entra(page, "Certificates & secrets for this app")
    )
    page.get_by_label("Value").fill(secret_id)
    page.get_by_label("Secret ID").fill(secret_id)
    page.get_by_label("Custom, or the date in Entra's Expires column").check()
    page.get_by_label("Expiry date").fill(expires)
    page.get_by_role("button", name="Save secret").click()
    # The error summary at the top takes the focus and links to the field, which
    # carries the same message.
    summary = page.get_by_role("alert").filter(has_text="Nothing was saved yet")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("This is the Secret ID. Paste the Value column instead")
    summary.get_by_role("link", name="Value").click()
    expect(page.get_by_label("Value")).to_be_focused()
    screenshot(page, "4-secret-id-pasted-as-value")
    page.get_by_label("Value").fill(value)
    page.get_by_role("button", name="Save secret").click()
    page.get_by_text(f"Secret {value[:3]}… saved, encrypted").wait_for()

    step(page, screenshot, "5-mailbox", "Mailbox")
    page.get_by_label("Mailbox address").fill("dispatch@contoso.onmicrosoft.com")
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text("dispatch@contoso.onmicrosoft.com added").wait_for()
    screenshot(page, "5-mailbox-added")
    page.get_by_role("link", name="Continue to verify").click()

    step(page, screenshot, "6-verify", "Verify")
    # The real check ran (eager tasks) against what the admin set up in the emulator.
    page.locator('.check-status [data-status="passed"]').wait_for()
    screenshot(page, "6-verify-passed")
    assert value not in page.content()

    app = AppRegistration.objects.get(tenant=acme)
    assert (str(app.client_id), str(app.directory_id)) == (client_id, contoso.id)
    assert app.consent_granted_by is not None
    assert app.consent_granted_by.email == "dora@acme.example"
    # The passing check proved the app's permissions: step 3 now says so.
    assert app.consent_confirmed_at is not None
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/3/")
    page.get_by_text("Consent confirmed by Microsoft").wait_for()
    secret = ClientSecret.objects.get(app=app)
    assert (secret.reveal(), str(secret.secret_id)) == (value, secret_id)
    assert f"{secret.expires_on.month}/{secret.expires_on.day}/{secret.expires_on.year}" == expires
    assert Mailbox.objects.get(tenant=acme).address == "dispatch@contoso.onmicrosoft.com"


@pytest.fixture
def at_consent_step(emulated_microsoft, contoso, portal, acme, alice):
    """Acme at step 3 with an app registered in Contoso, Mail.Read/Send added, no consent."""
    app = emulated_microsoft.register_app(
        contoso,
        "Acme mailbox connection",
        redirect_uris=["https://localhost", f"{portal.url}/onboarding/consent/callback/"],
        permissions=["Mail.Read", "Mail.Send"],
    )
    return AppRegistration.objects.create(
        tenant=acme,
        client_id=app.client_id,
        directory=contoso.id,
        directory_id=contoso.id,
        authentication_confirmed_at="2026-11-28T10:00:00Z",
    )


def sign_in_to_portal(page, portal, user) -> None:
    page.goto(f"{portal.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()


def test_it_explains_a_declined_consent(
    admin_page, portal, at_consent_step, alice, acme, screenshot
):
    page = admin_page
    sign_in_to_portal(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/3/")
    page.get_by_role("button", name="Grant admin consent").click()
    sign_in_to_microsoft(page, ADMIN, MS_PASSWORD)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("heading", name="Consent was declined").wait_for()
    fits_a_phone(page)
    screenshot(page, "declined")
    page.get_by_role("link", name="Back to admin consent").click()
    page.get_by_text("Not granted yet").wait_for()
    at_consent_step.refresh_from_db()
    assert at_consent_step.consent_granted_at is None


def test_it_lets_a_non_admin_forward_consent_to_a_colleague(
    admin_page, colleague_page, portal, at_consent_step, alice, acme, screenshot
):
    page = admin_page
    sign_in_to_portal(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/3/")
    page.get_by_role("button", name="Grant admin consent").click()
    sign_in_to_microsoft(page, CLERK, MS_PASSWORD)
    page.get_by_role("heading", name="Need admin approval").wait_for()
    page.get_by_role("link", name="Return to the application without granting consent").click()
    page.get_by_role("heading", name="An administrator needs to grant consent").wait_for()
    page.get_by_text("Privileged Role Administrator").first.wait_for()
    fits_a_phone(page)
    screenshot(page, "not-an-admin")
    link = copied(page, "Link for your colleague")

    colleague_page.goto(link)
    # The page names who asked, so that it does not look like phishing.
    colleague_page.get_by_role(
        "heading", name="Alice Admin asks you to grant admin consent"
    ).wait_for()
    colleague_page.get_by_text("alice@acme.example").wait_for()
    screenshot(colleague_page, "forwarded-link")
    colleague_page.get_by_role("button", name="Grant admin consent").click()
    sign_in_to_microsoft(colleague_page, ADMIN, MS_PASSWORD)
    colleague_page.get_by_role("button", name="Accept").click()
    colleague_page.get_by_role("heading", name="Thank you: admin consent is granted").wait_for()
    screenshot(colleague_page, "forwarded-granted")

    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/3/")
    page.get_by_text("through a forwarded link").wait_for()
    page.get_by_text("Consent reported, not confirmed yet").wait_for()
    at_consent_step.refresh_from_db()
    assert at_consent_step.consent_granted_at is not None


def test_it_can_be_used_by_keyboard_alone(
    admin_page, portal, emulated_microsoft, contoso, alice, acme
):
    page = admin_page
    sign_in_to_portal(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/1/")
    page.get_by_label("Application (client) ID").focus()
    page.keyboard.type("7c9e6679-7425-40de-944b-e07fc1f90ae7")
    page.keyboard.press("Tab")
    page.keyboard.type("contoso.onmicrosoft.com")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Authentication settings", exact=True).wait_for()
    checkbox = page.get_by_label("I have set these values in Entra")
    checkbox.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="API permissions and admin consent").wait_for()
    current = page.locator('[aria-current="step"]')
    assert "API permissions" in current.inner_text()


def test_it_shows_the_done_page_once_the_check_has_passed(
    admin_page, portal, at_consent_step, alice, acme, screenshot
):
    # The check itself is a later issue; its outcome is set here as it will record it.
    AppRegistration.objects.filter(pk=at_consent_step.pk).update(consent_granted_at=timezone.now())
    make_secret(at_consent_step)
    Mailbox.objects.create(
        tenant=acme, address="dispatch@contoso.onmicrosoft.com", health="healthy"
    )
    progress.record_progress(acme)
    health.tenant_recompute(acme.pk)  # as the check's one writer would after a pass
    page = admin_page
    sign_in_to_portal(page, portal, alice)
    page.get_by_text("Connected").first.wait_for()
    page.get_by_role("link", name="See the connection of Acme Logistics").click()
    step(page, screenshot, "7-done", "Your mailbox is connected")
    assert page.locator('[aria-current="step"]').inner_text().split() == ["✓", "Done", "(done)"]
