"""Step 5 and the check when the operations app does not sign in with the mailbox
password (PORTAL_OPERATIONS_SIGN_IN=none): a new admin is never asked for it, is told
before saving what the first check sends, and the check passes with the password step
marked as not needed."""

from __future__ import annotations

import pytest

from onboarding.checks.results import TEST_HEADER, TEST_SUBJECT_PREFIX
from onboarding.models import Mailbox
from tests.browser.conftest import accept_invitation

pytestmark = pytest.mark.browser


@pytest.fixture
def portal(portal, settings):
    """The shared portal fixture, with no check recipient and no mailbox password."""
    settings.PORTAL_CHECK_SEND_TO = ""
    settings.OPERATIONS_SIGN_IN = frozenset()  # PORTAL_OPERATIONS_SIGN_IN=none
    return portal


def test_without_the_password_method_step_5_asks_for_no_password_and_the_check_passes(
    page, portal, through_step_4, acme, charlie, screenshot
):
    ready = through_step_4
    accept_invitation(page, portal, acme, charlie)
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
