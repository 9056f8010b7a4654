"""One state, everywhere (issue 15, finding 1): a new admin who finishes the wizard
with a passing check sees "Connected" on the Done page and the start page, with the
mailbox, the last good check and the secret's expiry, and no "Continue the setup"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.actors import Actor
from microsoft_emulator.scenarios import ready_directory
from onboarding import progress
from onboarding.invitations import services as invitations
from onboarding.models import AppRegistration, ClientSecret
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

PASSWORD = "a long enough passphrase"


@pytest.fixture
def portal(live_server, settings, emulated_microsoft):
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def admin_page(chromium_browser):
    context = chromium_browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def through_step_4(emulated_microsoft, acme):
    """Contoso set up as the guide says; Acme's steps 1 to 4 saved against it, as the
    admin leaves them (the secret still waiting for its first check)."""
    ready = ready_directory(emulated_microsoft)
    app = AppRegistration.objects.create(
        tenant=acme,
        client_id=ready.app.client_id,
        directory=ready.directory.id,
        directory_id=ready.directory.id,
        authentication_confirmed_at=timezone.now(),
        consent_granted_at=timezone.now(),
    )
    secret = ClientSecret(
        app=app, secret_id=ready.secret.key_id, expires_on=date.today() + timedelta(days=180)
    )
    secret.set_value(ready.secret.value)
    secret.save()
    progress.record_progress(acme)
    return ready


def fits_a_phone(page) -> None:
    original = page.viewport_size
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(original)


def test_a_new_admin_who_finishes_sees_connected_everywhere(
    admin_page, portal, through_step_4, acme, charlie, screenshot
):
    ready, page = through_step_4, admin_page
    _, token = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    page.goto(f"{portal.url}/invitations/{token}/")
    page.get_by_label("Your full name").fill("Dora Admin")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    # Before finishing: the start page offers the setup and says what it takes.
    page.get_by_role("heading", name="Welcome, Dora").wait_for()
    assert page.get_by_text("Setup in progress").is_visible()
    page.get_by_text("Before you start").click()
    page.get_by_text("Global Administrator", exact=True).first.wait_for()
    screenshot(page, "start-page-in-setup")
    page.get_by_role("link", name="Continue the setup").click()

    page.get_by_role("heading", name="Mailbox", exact=True).wait_for()
    page.get_by_label("Mailbox address").fill(ready.mailbox.upn)
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text(f"{ready.mailbox.upn} added").wait_for()
    page.get_by_role("link", name="Continue to verify").click()
    page.locator('.check-status [data-status="passed"]').first.wait_for()
    page.get_by_role("link", name="Continue", exact=True).click()

    page.get_by_role("heading", name="Your mailbox is connected").wait_for()
    main = page.get_by_role("main")
    main.get_by_text("Connected", exact=True).wait_for()
    assert ready.mailbox.upn in main.inner_text()
    assert "Last good check" in main.inner_text()
    expires = date.today() + timedelta(days=180)
    assert f"{expires.day} {expires:%b %Y}" in main.inner_text()
    fits_a_phone(page)
    screenshot(page, "done-connected")

    page.get_by_role("link", name="Go to the start page").click()
    page.get_by_role("heading", name="Welcome, Dora").wait_for()
    tenant = page.locator(".tenant-state")
    assert tenant.get_attribute("data-state") == "connected"
    tenant.get_by_text("Connected", exact=True).wait_for()
    text = tenant.inner_text()
    assert ready.mailbox.upn in text
    assert f"{expires.day} {expires:%b %Y}" in text
    assert page.get_by_role("link", name="Continue the setup").count() == 0
    assert page.get_by_text("Setup: step").count() == 0
    assert page.get_by_text("Partly working").count() == 0
    assert page.get_by_text("Before you start").count() == 0
    fits_a_phone(page)
    screenshot(page, "start-page-connected")

    page.get_by_role("link", name="See the connection of Acme Logistics").click()
    page.get_by_role("heading", name="Your mailbox is connected").wait_for()
