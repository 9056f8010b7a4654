"""Vendor mode when consent does not happen, as a new admin meets it: an account
without an admin role, and a Cancel on Microsoft's consent page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onboarding.models import AppRegistration
from tests.browser.conftest import accept_invitation, fits_a_phone
from tests.browser.entra_steps import sign_in_to_microsoft
from tests.onboarding.vendor.conftest import ADMIN_PASSWORD, make_customer, make_vendor

pytestmark = pytest.mark.browser


def to_vendor_consent(page, portal, acme, charlie) -> None:
    accept_invitation(page, portal, acme, charlie)
    page.get_by_role("link", name="Set up the mailbox connection").click()
    page.get_by_label("Consent to the vendor's app (quickest)").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Grant admin consent").click()


def test_an_account_without_the_role_is_told_who_can_and_may_choose_the_own_app_instead(
    admin_page, portal, emulated_microsoft, acme, charlie, settings, screenshot
):
    make_vendor(emulated_microsoft, settings)
    customer = make_customer(emulated_microsoft)
    page = admin_page
    to_vendor_consent(page, portal, acme, charlie)
    sign_in_to_microsoft(page, customer.reader.upn, "Rd-pass-1")
    page.get_by_text("Need admin approval").first.wait_for()
    page.get_by_role("link", name="Return to the application without granting consent").click()
    page.get_by_role("heading", name="An administrator needs to grant consent").wait_for()
    fits_a_phone(page)
    screenshot(page, "vendor-not-admin")
    assert "Privileged Role Administrator" in page.content()
    page.get_by_role("link", name="Choose another way to connect").click()
    page.get_by_role("heading", name="How do you want to connect?").wait_for()
    page.get_by_label("Register your own app", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Register the application").wait_for()
    assert not AppRegistration.objects.filter(tenant=acme).exists()


def test_a_cancel_on_microsofts_page_changes_nothing_and_offers_to_try_again(
    admin_page, portal, emulated_microsoft, acme, charlie, settings
):
    make_vendor(emulated_microsoft, settings)
    customer = make_customer(emulated_microsoft)
    page = admin_page
    to_vendor_consent(page, portal, acme, charlie)
    sign_in_to_microsoft(page, customer.admin.upn, ADMIN_PASSWORD)
    page.get_by_role("heading", name="Permissions requested").wait_for()
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("heading", name="Consent was declined").wait_for()
    page.get_by_role("link", name="Back to admin consent").click()
    page.get_by_role("heading", name="Admin consent to the vendor's app").wait_for()
    assert not AppRegistration.objects.filter(tenant=acme).exists()


def test_the_choice_works_by_keyboard_alone(
    admin_page, portal, emulated_microsoft, acme, charlie, settings
):
    make_vendor(emulated_microsoft, settings)
    page = admin_page
    accept_invitation(page, portal, acme, charlie)
    page.get_by_role("link", name="Set up the mailbox connection").click()
    page.get_by_role("heading", name="How do you want to connect?").wait_for()
    page.get_by_label("Consent to the vendor's app (quickest)").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the radios are one stop: on to the button
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Admin consent to the vendor's app").wait_for()
