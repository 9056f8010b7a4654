"""Steps 1-3 as a new admin sees them with the deployment's sign-in methods
(settings.OPERATIONS_SIGN_IN): the default asks for every setting of the guide, each
with its reason and risk; "none" asks only for what the portal needs. Step 1 reads a
pasted Essentials block and names the Object ID; a live tenant's app changes only after
a confirmation; Entra's pages open in one reused tab."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from onboarding.models import AppRegistration, Mailbox, Tenant
from tests.browser.conftest import fits_a_phone
from tests.browser.entra_steps import sign_in_to_microsoft
from tests.browser.test_wizard import (  # noqa: F401  (fixtures)
    ADMIN,
    MS_PASSWORD,
    contoso,
    sign_in_to_portal,
)
from tests.onboarding.conftest import make_secret

pytestmark = pytest.mark.browser


@pytest.fixture
def registered(emulated_microsoft, contoso, settings):  # noqa: F811
    """An app registered in the emulated Contoso, as the admin would have done."""
    settings.ENTRA_ADMIN_URL = emulated_microsoft.base_url
    return emulated_microsoft.register_app(contoso, "Acme mailbox connection")


def why_of(page, label: str) -> str:
    row = page.locator(".copy-row").filter(has=page.get_by_text(label, exact=True))
    return row.locator(".why").inner_text()


def essentials_from_entra(page, emulated_microsoft, app) -> str:
    """The Essentials block of the app's Overview, copied as the browser copies it."""
    tab = page.context.new_page()
    tab.goto(f"{emulated_microsoft.base_url}/entra/apps/{app.client_id}")
    if tab.get_by_label("Email, phone, or Skype").count():
        sign_in_to_microsoft(tab, ADMIN, MS_PASSWORD)
    text = tab.locator("dl").first.inner_text()
    tab.close()
    return text


def test_the_default_asks_for_every_setting_with_its_reason_and_risk(
    admin_page,
    portal,
    registered,
    emulated_microsoft,
    alice,
    acme,
    screenshot,
):
    page = admin_page
    sign_in_to_portal(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/1/")
    page.get_by_role("heading", name="Register the application").wait_for()
    account_type = page.get_by_role("button", name="Copy Supported account types")
    assert "personal Microsoft accounts" in account_type.get_attribute("data-copy")
    assert "people outside your organisation can sign in" in why_of(page, "Supported account types")
    page.get_by_text("Object ID", exact=False).first.wait_for()

    # Entra's pages open in one tab, reused by the next link.
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=re.compile("New registration")).click()
    entra = opened.value
    entra.wait_for_load_state()
    with entra.expect_navigation():
        page.get_by_role("link", name=re.compile("^App registrations \\(opens")).click()
    assert len(page.context.pages) == 2

    # The whole Essentials block pasted into the first field fills in both.
    block = essentials_from_entra(page, emulated_microsoft, registered)
    assert "Object ID" in block
    page.get_by_label("Application (client) ID").fill(block)
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("heading", name="Authentication settings").wait_for()
    page.get_by_text("Read from the Essentials text you pasted").wait_for()
    app = AppRegistration.objects.get(tenant=acme)
    assert (str(app.client_id), str(app.directory_id)) == (
        registered.client_id,
        registered.directory_id,
    )

    # Step 2: both flows, each with Microsoft's own warning.
    page.get_by_text("Access tokens (used for implicit flows)").wait_for()
    page.get_by_role(
        "link", name=re.compile("Microsoft recommends you do not use the implicit grant flow")
    ).wait_for()
    page.get_by_text("Enable the following mobile and desktop flows").wait_for()
    page.get_by_role(
        "link", name=re.compile("Microsoft recommends you do not use the ROPC flow")
    ).wait_for()
    assert page.get_by_role("button", name="Copy Redirect URI").count() == 2
    fits_a_phone(page)
    screenshot(page, "2-authentication-default")
    page.get_by_label("I have set these values in Entra").check()
    page.get_by_role("button", name="Continue").click()

    # Step 3: the password sign-in's delegated permission, and AADSTS700016 explained.
    page.get_by_role("heading", name="API permissions and admin consent").wait_for()
    page.get_by_role("button", name="Copy Delegated permission").wait_for()
    page.get_by_text("AADSTS700016").wait_for()
    fits_a_phone(page)
    screenshot(page, "3-permissions-default")


def test_a_vendor_without_the_operations_apps_sign_ins_asks_for_none_of_them(
    admin_page,
    portal,
    registered,
    alice,
    acme,
    settings,
    screenshot,
):
    settings.OPERATIONS_SIGN_IN = frozenset()
    page = admin_page
    sign_in_to_portal(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/1/")
    page.get_by_role("heading", name="Register the application").wait_for()
    account_type = page.get_by_role("button", name="Copy Supported account types")
    assert account_type.get_attribute("data-copy") == (
        "Accounts in this organizational directory only (Single tenant)"
    )
    redirect = page.get_by_role("button", name="Copy Redirect URI: choose Web, then enter")
    assert redirect.get_attribute("data-copy") == f"{portal.url}/onboarding/consent/callback/"
    # (The live portal itself runs on localhost; the guide's URIs have no port.)
    assert 'data-copy="https://localhost"' not in page.content()
    assert 'data-copy="http://localhost"' not in page.content()
    fits_a_phone(page)
    screenshot(page, "1-register-none")

    page.get_by_label("Application (client) ID").fill(registered.client_id)
    page.get_by_label("Directory (tenant) ID").fill(registered.directory_id)
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("heading", name="Authentication settings").wait_for()
    assert page.get_by_role("button", name="Copy Redirect URI").count() == 0
    page.get_by_role("button", name="Copy This portal's consent address").wait_for()
    assert page.get_by_text("Access tokens (used for implicit flows)").count() == 0
    assert page.get_by_text("Enable the following mobile and desktop flows").count() == 0
    page.get_by_text("the operations app of this portal does not use them").wait_for()
    fits_a_phone(page)
    screenshot(page, "2-authentication-none")
    page.get_by_label("I have set these values in Entra").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="API permissions and admin consent").wait_for()
    assert page.get_by_role("button", name="Copy Delegated permission").count() == 0


def test_step_1_catches_mixed_up_ids_before_microsoft_is_asked(
    admin_page,
    portal,
    registered,
    alice,
    acme,
    screenshot,
):
    page = admin_page
    sign_in_to_portal(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/1/")
    client_id = page.get_by_label("Application (client) ID")
    directory = page.get_by_label("Directory (tenant) ID")
    save = page.get_by_role("button", name="Save and continue")

    client_id.fill(registered.client_id)
    directory.fill(registered.client_id)
    save.click()
    page.get_by_text("Both fields hold the same ID").wait_for()
    screenshot(page, "same-id-twice")

    client_id.fill(registered.directory_id)
    directory.fill(registered.client_id)
    save.click()
    page.get_by_text("The two IDs are the wrong way round").wait_for()

    client_id.fill(f"Object ID {registered.object_id}")
    directory.fill(registered.directory_id)
    save.click()
    page.get_by_text("This is the Object ID.").wait_for()
    fits_a_phone(page)
    assert not AppRegistration.objects.filter(tenant=acme).exists()


def test_changing_a_live_tenants_app_asks_first(
    admin_page,
    portal,
    registered,
    emulated_microsoft,
    contoso,  # noqa: F811
    alice,
    acme,
    screenshot,
):
    app = AppRegistration.objects.create(
        tenant=acme,
        client_id=registered.client_id,
        directory=contoso.id,
        directory_id=contoso.id,
        authentication_confirmed_at=timezone.now(),
        consent_granted_at=timezone.now(),
    )
    make_secret(app)
    Mailbox.objects.create(
        tenant=acme, address="dispatch@contoso.onmicrosoft.com", health=Tenant.Health.HEALTHY
    )
    other = emulated_microsoft.register_app(contoso, "Another app")
    page = admin_page
    sign_in_to_portal(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/1/")
    page.get_by_label("Application (client) ID").fill(other.client_id)
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("heading", name="Change the app registration?").wait_for()
    page.get_by_text("The admin consent granted on").wait_for()
    page.get_by_text("The verification of dispatch@contoso.onmicrosoft.com").wait_for()
    page.get_by_text("The client secret Ab1… of the old app").wait_for()
    fits_a_phone(page)
    screenshot(page, "confirm-app-change")

    page.get_by_role("link", name="Cancel, keep the current app").click()
    page.get_by_role("heading", name="Register the application").wait_for()
    app.refresh_from_db()
    assert str(app.client_id) == registered.client_id
    assert app.consent_granted_at is not None

    page.get_by_label("Application (client) ID").fill(other.client_id)
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Change the app and disconnect").click()
    page.get_by_text("admin consent must be granted again").wait_for()
    app.refresh_from_db()
    assert str(app.client_id) == other.client_id
    assert app.consent_granted_at is None
