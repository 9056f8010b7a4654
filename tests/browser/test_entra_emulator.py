"""The guide's Entra steps, done by a new admin in the emulated admin center, and the
values read off its pages then working with the portal's msal code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from onboarding import microsoft
from onboarding.microsoft import admin_center
from tests.browser.conftest import DESKTOP

pytestmark = pytest.mark.browser


@pytest.fixture
def emulator_page(chromium_browser):
    # The emulator makes a new CA on every run and Chromium takes no CA per context,
    # so this context (used for the emulator's pages only) skips certificate checks.
    context = chromium_browser.new_context(viewport=DESKTOP, ignore_https_errors=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def contoso(emulated_microsoft):
    directory = emulated_microsoft.add_directory("Contoso", "contoso.onmicrosoft.com")
    emulated_microsoft.add_user(
        directory, "admin@contoso.onmicrosoft.com", "Admin-pass-1", admin=True
    )
    return directory


def sign_in(page, emulator):
    page.goto(f"{emulator.base_url}/entra/")
    page.get_by_label("Email, phone, or Skype").fill("admin@contoso.onmicrosoft.com")
    page.get_by_label("Password").fill("Admin-pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="App registrations").wait_for()


def register(page, screenshot):
    page.get_by_role("link", name="New registration").click()
    page.get_by_label("Name", exact=True).fill("CXT Operations")
    page.get_by_label(admin_center.ACCOUNT_TYPE, exact=True).check()
    page.get_by_label("Select a platform").select_option("Web")
    page.get_by_label("Redirect URI").fill("https://localhost")
    screenshot(page, "register")
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Application (client) ID").wait_for()
    screenshot(page, "overview")
    return page.locator("#client-id").inner_text(), page.locator("#tenant-id").inner_text()


def configure_authentication(page, screenshot):
    page.get_by_role("link", name="Authentication").click()
    page.get_by_label("Add URI").fill("http://localhost")
    page.get_by_label("Access tokens (used for implicit flows)").check()
    page.get_by_label("ID tokens (used for implicit and hybrid flows)").check()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Successfully updated").wait_for()
    screenshot(page, "authentication")


def add_mail_permissions_and_consent(page, screenshot):
    page.get_by_role("link", name="API permissions").click()
    page.get_by_role("link", name="Add a permission").click()
    page.get_by_role("link", name="Application permissions").click()
    page.get_by_label("Select permissions").fill("mail")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Mail.Read", exact=True).check()
    page.get_by_label("Mail.Send", exact=True).check()
    screenshot(page, "add-permissions")
    page.get_by_role("button", name="Add permissions").click()
    page.get_by_role("link", name="Grant admin consent for Contoso").click()
    page.get_by_role("button", name="Yes").click()
    page.get_by_role("cell", name="Granted for Contoso").first.wait_for()
    screenshot(page, "permissions-granted")


def create_secret(page, screenshot):
    page.get_by_role("link", name="Certificates & secrets").click()
    page.get_by_role("link", name="New client secret").click()
    page.get_by_label("Description").fill("Oauth")
    page.get_by_label("Expires").select_option(label="Recommended: 180 days (6 months)")
    page.get_by_role("button", name="Add").click()
    value = page.get_by_test_id("secret-value").inner_text()
    secret_id = page.get_by_test_id("secret-id").inner_text()
    screenshot(page, "secret-created")
    return value, secret_id


def test_it_performs_the_guides_entra_steps(emulator_page, emulated_microsoft, contoso, screenshot):
    page = emulator_page
    sign_in(page, emulated_microsoft)
    client_id, tenant_id = register(page, screenshot)
    assert tenant_id == contoso.id
    configure_authentication(page, screenshot)
    add_mail_permissions_and_consent(page, screenshot)
    value, secret_id = create_secret(page, screenshot)
    assert re.fullmatch(r"[A-Za-z0-9_~.]{3}8Q~[A-Za-z0-9_~.-]{34}", value)
    assert re.fullmatch(r"[0-9a-f-]{36}", secret_id)

    page.reload()
    assert page.get_by_test_id("secret-value").count() == 0
    assert f"{value[:3]}{'*' * 37}" in page.content()
    screenshot(page, "secret-hidden")

    app = emulated_microsoft.store.app(client_id)
    assert app is not None
    assert app.redirect_uris == ["https://localhost", "http://localhost"]
    assert (app.implicit_access_tokens, app.implicit_id_tokens, app.public_client) == (
        True,
        True,
        True,
    )
    token = microsoft.acquire_app_token(
        directory=tenant_id, client_id=client_id, client_secret=value
    )
    assert token.roles == {"Mail.Read", "Mail.Send"}
    with pytest.raises(microsoft.MicrosoftError, match="AADSTS7000215"):
        microsoft.acquire_app_token(
            directory=tenant_id, client_id=client_id, client_secret=secret_id
        )


def test_it_works_on_a_phone_by_keyboard(emulator_page, emulated_microsoft, contoso, screenshot):
    page = emulator_page
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{emulated_microsoft.base_url}/entra/")
    # The e-mail field takes focus on load; typing before it has focus loses the keys.
    expect(page.get_by_label("Email, phone, or Skype")).to_be_focused()
    page.keyboard.type("admin@contoso.onmicrosoft.com")
    page.keyboard.press("Tab")
    page.keyboard.type("Admin-pass-1")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="App registrations").wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    screenshot(page, "app-list")


def add_custom_secret(page, description, start, end):
    page.get_by_role("link", name="Certificates & secrets").click()
    page.get_by_role("link", name="New client secret").click()
    page.get_by_label("Description").fill(description)
    page.get_by_label("Expires").select_option(label="Custom")
    page.get_by_label("Start").fill(start.isoformat())
    page.get_by_label("End").fill(end.isoformat())
    page.get_by_role("button", name="Add").click()


def test_it_allows_the_guides_account_type_two_secrets_only(
    emulator_page, emulated_microsoft, contoso, screenshot
):
    page = emulator_page
    sign_in(page, emulated_microsoft)
    client_id, _ = register(page, screenshot)
    create_secret(page, screenshot)
    today = emulated_microsoft.store.now().date()
    start, end = today + timedelta(days=7), today + timedelta(days=7 + 365)
    add_custom_secret(page, "Renewal", start, end)
    page.get_by_test_id("secret-value").wait_for()
    add_custom_secret(page, "One too many", start, end)
    refusal = page.get_by_role("alert").filter(has_text="Not allowed to add 3 passwords")
    refusal.wait_for()
    screenshot(page, "third-secret-refused")
    app = emulated_microsoft.store.app(client_id)
    assert [s.display_name for s in app.secrets] == ["Oauth", "Renewal"]
    assert (app.secrets[1].start.date(), app.secrets[1].end.date()) == (start, end)
