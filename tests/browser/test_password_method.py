"""Step 5 and the check when the operations app does not sign in with the mailbox
password (PORTAL_OPERATIONS_SIGN_IN=none): a new admin is never asked for it, is told
before saving what the first check sends, and the check passes with the password step
marked as not needed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.actors import Actor
from microsoft_emulator.scenarios import ready_directory
from onboarding import progress
from onboarding.checks.results import TEST_HEADER, TEST_SUBJECT_PREFIX
from onboarding.invitations import services as invitations
from onboarding.models import AppRegistration, ClientSecret, Mailbox
from tests.browser.conftest import DESKTOP

pytestmark = pytest.mark.browser

PASSWORD = "a long enough passphrase"


@pytest.fixture
def portal(live_server, settings, emulated_microsoft):
    settings.PORTAL_BASE_URL = live_server.url
    settings.PORTAL_CHECK_SEND_TO = ""
    settings.OPERATIONS_SIGN_IN = frozenset()  # PORTAL_OPERATIONS_SIGN_IN=none
    return live_server


@pytest.fixture
def admin_page(chromium_browser):
    # The screenshots are taken at both widths (the `screenshot` fixture).
    context = chromium_browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def through_step_4(emulated_microsoft, acme):
    """Contoso set up as the guide says; Acme's steps 1 to 4 done against it."""
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


def test_without_the_password_method_step_5_asks_for_no_password_and_the_check_passes(
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
    page.get_by_role("link", name="Continue the setup").click()

    page.get_by_role("heading", name="Mailbox", exact=True).wait_for()
    assert page.get_by_label("Mailbox password").count() == 0
    assert page.get_by_text("Mailbox password").count() == 0
    assert page.get_by_text("multi-factor authentication").count() == 0
    # What saving sends, said before the button.
    note = page.get_by_text("Saving starts the first check of this mailbox")
    assert "from the mailbox to itself" in note.inner_text()
    assert TEST_SUBJECT_PREFIX in note.inner_text()
    assert TEST_HEADER in note.inner_text()
    screenshot(page, "step-5-without-password")

    # Bad input first: not an address.
    page.get_by_label("Mailbox address").fill("dispatch at contoso")
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_role("heading", name="Mailbox", exact=True).wait_for()
    assert page.get_by_label("Mailbox address").get_attribute("aria-invalid") == "true"
    assert Mailbox.objects.filter(tenant=acme).count() == 0
    assert page.get_by_label("Mailbox password").count() == 0

    page.get_by_label("Mailbox address").fill(ready.mailbox.upn)
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text(f"{ready.mailbox.upn} added").wait_for()
    assert page.get_by_text("no password").count() == 0
    page.get_by_role("link", name="Continue to verify").click()
    page.locator('.check-status [data-status="passed"]').wait_for()
    row = page.locator('[data-step="password_sign_in"]')
    assert "Sign in with the mailbox password" in row.inner_text()
    assert "skipped" in row.inner_text()
    assert "Not needed" in row.inner_text()
    screenshot(page, "verify-password-not-needed")

    assert Mailbox.objects.get(tenant=acme).has_password is False
