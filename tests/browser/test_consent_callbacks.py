"""Admin consent that Microsoft does not grant, walked in the browser through the emulator's
own pages: a user without an admin role ("Need admin approval") and an admin of another
directory, each coming back to the page that says what to do."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from onboarding.models import AppRegistration
from tests.browser.conftest import browser_context, fits_a_phone
from tests.browser.entra_steps import sign_in_to_microsoft
from tests.browser.test_wizard import (
    ADMIN,
    CLERK,
    MS_PASSWORD,
    copied,
    sign_in_to_portal,
)

pytestmark = pytest.mark.browser

OUTSIDER = "admin@globex.onmicrosoft.com"


@pytest.fixture
def contoso(emulated_microsoft):
    directory = emulated_microsoft.add_directory("Contoso", "contoso.onmicrosoft.com")
    emulated_microsoft.add_user(directory, ADMIN, MS_PASSWORD, admin=True)
    emulated_microsoft.add_user(directory, CLERK, MS_PASSWORD, admin=False)
    globex = emulated_microsoft.add_directory("Globex", "globex.onmicrosoft.com")
    emulated_microsoft.add_user(globex, OUTSIDER, MS_PASSWORD, admin=True)
    return directory


@pytest.fixture
def consent_app(emulated_microsoft, contoso, portal, acme, alice) -> AppRegistration:
    """Acme at step 3: its app registered in Contoso with Mail.Read/Send, no consent."""
    app = emulated_microsoft.register_app(
        contoso,
        "Acme mailbox connection",
        redirect_uris=[f"{portal.url}/onboarding/consent/callback/"],
        permissions=["Mail.Read", "Mail.Send"],
    )
    return AppRegistration.objects.create(
        tenant=acme,
        client_id=app.client_id,
        directory=contoso.id,
        directory_id=contoso.id,
        authentication_confirmed_at="2026-11-28T10:00:00Z",
    )


@pytest.fixture
def browser_page(chromium_browser) -> Iterator:
    context = browser_context(chromium_browser)
    yield context.new_page()
    context.close()


def to_microsoft(page, portal, alice, acme) -> None:
    sign_in_to_portal(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/3/")
    page.get_by_role("button", name="Grant admin consent").click()


def test_it_shows_the_forward_page_after_microsofts_need_admin_approval(
    browser_page, portal, consent_app, alice, acme, screenshot
):
    page = browser_page
    to_microsoft(page, portal, alice, acme)
    sign_in_to_microsoft(page, CLERK, MS_PASSWORD)
    page.get_by_role("heading", name="Need admin approval").wait_for()
    page.get_by_role("link", name="Return to the application without granting consent").click()
    page.get_by_role("heading", name="An administrator needs to grant consent").wait_for()
    # What came back is what Microsoft sends from that page: no description, no code.
    sent = parse_qs(urlsplit(page.url).query)
    assert sorted(sent) == ["error", "error_subcode", "state"]
    assert (sent["error"], sent["error_subcode"]) == (["access_denied"], ["cancel"])
    page.get_by_text("Global Administrator").first.wait_for()
    assert "/onboarding/consent/forwarded/" in copied(page, "Link for your colleague")
    fits_a_phone(page)
    screenshot(page, "need-admin-approval-came-back")
    page.get_by_role("link", name="Back to admin consent").click()
    page.get_by_text("Not granted yet").wait_for()


def test_it_tells_an_admin_of_another_directory_to_use_their_own(
    browser_page, portal, consent_app, alice, acme, contoso, screenshot
):
    page = browser_page
    to_microsoft(page, portal, alice, acme)
    sign_in_to_microsoft(page, OUTSIDER, MS_PASSWORD)
    page.get_by_role("heading", name="That account belongs to another organisation").wait_for()
    page.get_by_text(contoso.id).wait_for()
    page.get_by_role("button", name="Copy Link for your colleague").wait_for()
    fits_a_phone(page)
    screenshot(page, "other-directory")
    consent_app.refresh_from_db()
    assert consent_app.consent_granted_at is None
