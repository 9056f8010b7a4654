"""From the invitation to a green verify, as a new admin would, in each way to connect:
the guide's own app with a client secret, and the vendor's app. Each walk counts what it
asked of the person (tests/browser/effort.py) and writes the figures to
var/setup-effort/<walk>.json for the closing note."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onboarding.models import AppRegistration, Mailbox
from tests.browser.conftest import ROOT, accept_invitation, fits_a_phone
from tests.browser.effort import Effort
from tests.browser.entra_steps import (
    entra_new_secret,
    open_in_entra,
    sign_in_to_microsoft,
    walk_steps_1_to_3,
)
from tests.onboarding.provisioning import test_script as harness
from tests.onboarding.provisioning.test_script import Script, emulator_run, essentials
from tests.onboarding.vendor.conftest import ADMIN_PASSWORD, make_customer, make_vendor

# The PowerShell harness's fixtures (tests/onboarding/provisioning/test_script.py).
http, cca, contoso = harness.http, harness.cca, harness.contoso
pytestmark = pytest.mark.browser
RESULTS = ROOT / "var" / "setup-effort"
INVITATION_FIELDS = 3  # full name, password, the password again


def record(walk: str, effort: Effort) -> dict[str, int]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures = effort.summary()
    Path(RESULTS / f"{walk}.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"setup effort, {walk}: {figures}")
    return figures


def start_with(page, portal, acme, charlie, way: str) -> None:
    """From the invitation to the start page's choice of `way`."""
    accept_invitation(page, portal, acme, charlie)
    page.get_by_role("link", name="Set up the mailbox connection").click()
    page.get_by_role("heading", name="How do you want to connect?").wait_for()
    fits_a_phone(page)
    page.get_by_label(way, exact=True).check()
    page.get_by_role("button", name="Continue").click()


def add_mailbox_and_verify(page, address: str) -> None:
    page.get_by_role("heading", name="Mailbox", exact=True).wait_for()
    page.get_by_label("Mailbox address").fill(address)
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text(f"{address} added").wait_for()
    page.get_by_role("link", name="Continue to verify").click()
    page.locator('.check-status [data-status="passed"]').wait_for()


def test_with_the_vendors_app_one_consent_and_one_mailbox_address_reach_a_green_verify(
    admin_page, portal, emulated_microsoft, acme, charlie, settings
):
    vendor = make_vendor(emulated_microsoft, settings)
    customer = make_customer(emulated_microsoft)
    page = admin_page
    effort = Effort().attach(page.context)
    start_with(page, portal, acme, charlie, "Consent to the vendor's app (quickest)")

    page.get_by_role("heading", name="Admin consent to the vendor's app").wait_for()
    fits_a_phone(page)
    page.get_by_role("button", name="Grant admin consent").click()
    sign_in_to_microsoft(page, customer.admin.upn, ADMIN_PASSWORD)
    page.get_by_role("heading", name="Permissions requested").wait_for()
    page.get_by_role("button", name="Accept").click()
    page.get_by_text("Admin consent granted in your directory").wait_for()
    add_mailbox_and_verify(page, customer.mailbox.upn)
    fits_a_phone(page)

    app = AppRegistration.objects.get(tenant=acme)
    assert (str(app.client_id), str(app.directory_id)) == (
        vendor.app.client_id,
        customer.directory.id,
    )
    assert app.consent_confirmed_at is not None
    assert Mailbox.objects.get(tenant=acme).health == "healthy"
    figures = record("vendor", effort)
    # Typed: the invitation's three fields, Microsoft's sign-in (two), the mailbox (one).
    assert figures["fields"] == INVITATION_FIELDS + 2 + 1
    page.get_by_role("link", name="Done (done)").click()
    page.get_by_text("The vendor's app “Mail connector”").wait_for()


def test_with_their_own_app_the_guides_way_reaches_a_green_verify(
    admin_page, portal, emulated_microsoft, acme, charlie, settings
):
    """The guide's way, done without a mistake, as the baseline (vendor mode offered
    too: the start page is part of the walk)."""
    make_vendor(emulated_microsoft, settings)
    customer = make_customer(emulated_microsoft)
    settings.ENTRA_ADMIN_URL = emulated_microsoft.base_url
    page = admin_page
    effort = Effort().attach(page.context)
    start_with(page, portal, acme, charlie, "Register your own app")
    walk_steps_1_to_3(page, customer.admin.upn, ADMIN_PASSWORD)

    page.get_by_role("heading", name="Client secret", exact=True).wait_for()
    value, secret_id, expires = entra_new_secret(
        open_in_entra(page, "Certificates & secrets for this app")
    )
    page.get_by_label("Value").fill(value)
    page.get_by_label("Secret ID").fill(secret_id)
    page.get_by_label("Custom, or the date in Entra's Expires column").check()
    page.get_by_label("Expiry date").fill(expires)
    page.get_by_role("button", name="Save secret").click()
    add_mailbox_and_verify(page, customer.mailbox.upn)

    figures = record("manual", effort)
    assert figures["fields"] > INVITATION_FIELDS + 2 + 1
    assert AppRegistration.objects.get(tenant=acme).consent_confirmed_at is not None


def test_with_the_powershell_script_one_paste_replaces_steps_1_to_4(
    admin_page, portal, emulator, http, cca, contoso, acme, charlie, settings
):
    """The script downloaded from step 1, run (by test_script's harness, against the
    emulator, as the admin's PowerShell would), its output pasted into step 1: the
    mailbox and a green verify follow. The browser's part is counted; the script's is
    two commands and one Microsoft sign-in in PowerShell."""
    make_vendor(emulator, settings)  # offered, so the start page is part of the walk
    page = admin_page
    effort = Effort().attach(page.context)
    start_with(page, portal, acme, charlie, "Register your own app")
    page.get_by_role("heading", name="Register the application").wait_for()
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download the PowerShell script").click()
    body = Path(downloaded.value.path()).read_bytes().decode("utf-8-sig")
    script = Script(body)
    result, _ = emulator_run(emulator, http, cca, contoso, script)
    page.get_by_label("Application (client) ID").fill(essentials(script, result.env))
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_text("Read from the script's output").wait_for()
    add_mailbox_and_verify(page, contoso.mailbox.upn)
    figures = record("script", effort)
    assert figures["fields"] == INVITATION_FIELDS + 1 + 1  # the paste, the mailbox


def test_with_the_portal_registering_the_app_no_id_or_secret_is_typed(
    admin_page, portal, emulated_microsoft, acme, charlie, settings, monkeypatch
):
    from onboarding.provisioning import workflow
    from tests.onboarding.provisioning.test_registration import (
        ADMIN,
        PASSWORD,
        make_contoso,
        make_provisioning_app,
    )

    monkeypatch.setattr(workflow, "_sleep", lambda seconds: None)
    make_vendor(emulated_microsoft, settings)  # all three ways offered
    make_provisioning_app(emulated_microsoft, settings)
    contoso = make_contoso(emulated_microsoft)
    page = admin_page
    effort = Effort().attach(page.context)
    start_with(page, portal, acme, charlie, "Let the portal register your own app")
    page.get_by_role("heading", name="Let the portal register your app").wait_for()
    fits_a_phone(page)
    page.get_by_role("button", name="Sign in with Microsoft and register the app").click()
    sign_in_to_microsoft(page, ADMIN, PASSWORD)
    page.get_by_role("heading", name="Permissions requested").wait_for()
    page.get_by_role("button", name="Accept").click()
    page.get_by_text("The portal registered").wait_for()
    add_mailbox_and_verify(page, "dispatch@contoso.onmicrosoft.com")
    figures = record("automatic", effort)
    # Typed: the invitation's three, Microsoft's sign-in (two), the mailbox (one).
    assert figures["fields"] == INVITATION_FIELDS + 2 + 1
    app = AppRegistration.objects.get(tenant=acme)
    assert str(app.directory_id) == contoso.id
    assert app.consent_confirmed_at is not None
