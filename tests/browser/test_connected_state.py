"""One state, everywhere (issue 15, finding 1): a new admin who finishes the wizard
with a passing check sees "Connected" on the Done page and the start page, with the
mailbox, the last good check and the secret's expiry, and no "Continue the setup"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.conftest import accept_invitation, fits_a_phone

pytestmark = pytest.mark.browser


def test_a_new_admin_who_finishes_sees_connected_everywhere(
    page, portal, through_step_4, acme, charlie, screenshot
):
    ready = through_step_4
    accept_invitation(page, portal, acme, charlie)

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
