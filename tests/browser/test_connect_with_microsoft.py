"""Connect with Microsoft (issue 17) in the browser, through the emulator's own sign-in and
consent pages: an Outlook.com mailbox connected by its owner from the link the admin
e-mails, a work mailbox moved from its stored password to its own sign-in, and the two
ways a sign-in comes back unusable (another account, consent cancelled)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core import mail

from microsoft_emulator.scenarios import Ready, ready_directory
from onboarding.models import ConsentUse, Mailbox, MailboxSignIn
from tests.browser.conftest import (
    accept_invitation,
    browser_context,
    fits_a_phone,
    save_steps_1_to_4,
)
from tests.browser.entra_steps import sign_in_to_microsoft
from tests.personal_mailbox import PASSWORD, UPN, open_to_personal_accounts

pytestmark = pytest.mark.browser


OTHER, OTHER_PASSWORD = "other@outlook.com", "Other-Personal-2026!"
WORK_PASSWORD = "Mailbox-pass-1"  # ready_directory's mailbox user


@pytest.fixture
def through_step_4(portal, emulated_microsoft, acme) -> Ready:
    """Contoso as the guide says, its app also for personal accounts (with the delegated
    permissions the mailbox's own sign-in asks for) and the portal's sign-in address
    among its redirect URIs; someone@outlook.com exists with one order in its inbox.
    Acme's steps 1 to 4 are saved against it."""
    ready = ready_directory(emulated_microsoft, delegated=("Mail.Read", "Mail.Send", "User.Read"))
    open_to_personal_accounts(emulated_microsoft, ready)
    save_steps_1_to_4(acme, ready)
    return ready


@pytest.fixture
def owner_page(chromium_browser) -> Iterator:
    """Another browser: the mailbox's owner, with no portal session."""
    context = browser_context(chromium_browser)
    yield context.new_page()
    context.close()


def add_mailbox(page, portal, acme, charlie, address: str, password: str = "") -> None:
    """Dora accepts her invitation and saves the mailbox in step 5."""
    accept_invitation(page, portal, acme, charlie)
    page.get_by_role("link", name="Continue the setup").click()
    page.get_by_role("heading", name="Mailbox", exact=True).wait_for()
    page.get_by_label("Mailbox address").fill(address)
    if password:
        page.get_by_label("Mailbox password (optional)").fill(password)
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text(f"{address} added").wait_for()


def e_mail_the_link(page, address: str) -> str:
    """On the mailbox's Change page, e-mail the owner's link; the link in that e-mail."""
    page.get_by_role("link", name=f"Change {address}").click()
    page.get_by_role("heading", name=f"Change {address}").wait_for()
    page.get_by_role("button", name=f"E-mail the link to {address}").click()
    page.get_by_text(f"The link to connect it was sent to {address}.").wait_for()
    (message,) = [m for m in mail.outbox if m.to == [address]]
    assert message.subject == f"Please connect your mailbox {address} for Acme Logistics"
    body = str(message.body)
    assert f"dora@acme.example asks you to connect the mailbox {address}" in body
    assert f"sign in with Microsoft as {address}:" in body
    match = re.search(r"http://\S+/onboarding/connect/\S+/", body)
    assert match, body
    return match.group(0)


def test_an_outlook_mailbox_is_connected_by_its_owner_from_the_e_mailed_link(
    admin_page, owner_page, portal, through_step_4, acme, charlie, emulated_microsoft, screenshot
):
    page = admin_page
    add_mailbox(page, portal, acme, charlie, UPN)
    page.get_by_text("personal account: its owner must connect it").wait_for()
    link = e_mail_the_link(page, UPN)

    owner = owner_page
    owner.goto(link)
    owner.get_by_role(
        "heading", name=f"Connect {UPN} to Acme Logistics's operations app"
    ).wait_for()
    owner.get_by_text("Read your mail (Mail.Read)").wait_for()
    owner.get_by_text("Send mail as you (Mail.Send)").wait_for()
    fits_a_phone(owner)
    screenshot(owner, "owner-page")
    owner.get_by_role("button", name="Connect with Microsoft").click()
    sign_in_to_microsoft(owner, UPN, PASSWORD)
    owner.get_by_role("heading", name="Permissions requested").wait_for()
    owner.get_by_role("button", name="Accept").click()
    owner.get_by_role("heading", name=f"{UPN} is connected").wait_for()
    fits_a_phone(owner)
    screenshot(owner, "owner-connected")

    mailbox = Mailbox.objects.get(tenant=acme)
    sign_in = MailboxSignIn.objects.get(mailbox=mailbox)
    assert (sign_in.username, sign_in.authority, sign_in.personal) == (UPN, "consumers", True)
    assert sign_in.connected_by is None  # the owner has no portal account
    assert sign_in.reveal_refresh_token()
    assert ConsentUse.objects.filter(kind=ConsentUse.Kind.OWNER_LINK).count() == 1
    # The link worked once.
    owner.goto(link)
    owner.get_by_role("heading", name="This link cannot be used").wait_for()

    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/6/")
    check = page.locator(".check-status").filter(has_text=f"Check of {UPN}")
    check.locator('[data-status="passed"]').wait_for()
    screenshot(page, "verify-passed")
    mailbox.refresh_from_db()
    assert mailbox.health == "healthy"
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/5/")
    page.get_by_text(f"connected with Microsoft as {UPN}").wait_for()
    assert page.get_by_text("personal account: its owner must connect it").count() == 0


def test_a_work_mailbox_moves_from_its_password_to_its_own_sign_in(
    admin_page, portal, through_step_4, acme, charlie, settings, screenshot
):
    settings.OPERATIONS_SIGN_IN = frozenset({"interactive", "password"})
    ready = through_step_4
    work = ready.mailbox.upn
    page = admin_page
    add_mailbox(page, portal, acme, charlie, work, password=WORK_PASSWORD)
    page.get_by_text("password stored (legacy)").wait_for()
    assert Mailbox.objects.get(tenant=acme).has_password

    page.get_by_role("link", name=f"Change {work}").click()
    page.get_by_text("Recommended instead of a mailbox password").wait_for()
    page.get_by_role("button", name="Connect with Microsoft").click()
    sign_in_to_microsoft(page, work, WORK_PASSWORD)
    page.get_by_text(f"{work} is connected with its own Microsoft sign-in").wait_for()
    assert page.url.endswith(f"/onboarding/{acme.pk}/step/6/")
    page.locator(".check-status").filter(has_text=f"Check of {work}").locator(
        '[data-status="passed"]'
    ).wait_for()
    screenshot(page, "work-connected")

    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/5/")
    page.get_by_text(f"connected with Microsoft as {work}").wait_for()
    assert page.get_by_text("password stored").count() == 0
    page.get_by_role("link", name=f"Change {work}").click()
    page.get_by_text(f"Connected with Microsoft as {work}").wait_for()
    assert page.get_by_text("A password is stored").count() == 0
    page.get_by_role("button", name="Connect again").wait_for()

    mailbox = Mailbox.objects.get(tenant=acme)
    assert mailbox.has_password is False
    sign_in = MailboxSignIn.objects.get(mailbox=mailbox)
    assert (sign_in.username, sign_in.personal) == (work, False)
    assert sign_in.authority == ready.directory.id
    assert sign_in.connected_by is not None
    assert sign_in.connected_by.email == "dora@acme.example"


def test_another_account_signing_in_is_not_connected(
    admin_page, portal, through_step_4, acme, charlie, emulated_microsoft, screenshot
):
    emulated_microsoft.add_personal_account(OTHER, OTHER_PASSWORD)
    page = admin_page
    add_mailbox(page, portal, acme, charlie, UPN)
    page.get_by_role("button", name=f"Connect with Microsoft {UPN}").click()
    sign_in_to_microsoft(page, OTHER, OTHER_PASSWORD)
    page.get_by_role("heading", name="Permissions requested").wait_for()
    page.get_by_role("button", name="Accept").click()
    page.get_by_role("heading", name=f"{UPN} was not connected").wait_for()
    page.get_by_text(f"Microsoft signed in {OTHER}, not {UPN}").wait_for()
    page.get_by_text("Use another account").wait_for()
    fits_a_phone(page)
    screenshot(page, "wrong-account")
    assert MailboxSignIn.objects.count() == 0

    page.get_by_role("link", name=f"Back to {UPN}").click()
    page.get_by_role("heading", name=f"Change {UPN}").wait_for()
    page.get_by_role("button", name="Connect with Microsoft").wait_for()
    assert page.get_by_text("Connected with Microsoft as").count() == 0


def test_consent_cancelled_by_the_owner_stores_nothing_and_keeps_the_link(
    admin_page, owner_page, portal, through_step_4, acme, charlie, screenshot
):
    page = admin_page
    add_mailbox(page, portal, acme, charlie, UPN)
    link = e_mail_the_link(page, UPN)

    owner = owner_page
    owner.goto(link)
    owner.get_by_role("button", name="Connect with Microsoft").click()
    sign_in_to_microsoft(owner, UPN, PASSWORD)
    owner.get_by_role("heading", name="Permissions requested").wait_for()
    owner.get_by_role("button", name="Cancel").click()
    owner.get_by_role("heading", name=f"{UPN} was not connected").wait_for()
    owner.get_by_text("The permission was not given").wait_for()
    owner.get_by_text("Microsoft's code: AADSTS65004").wait_for()
    owner.get_by_text("Open the link you were sent again to retry").wait_for()
    # The owner has no portal account: no link back into the wizard.
    assert owner.get_by_role("link", name=f"Back to {UPN}").count() == 0
    fits_a_phone(owner)
    screenshot(owner, "consent-cancelled")
    assert MailboxSignIn.objects.count() == 0
    assert not ConsentUse.objects.filter(kind=ConsentUse.Kind.OWNER_LINK).exists()

    # The link still works, as the page says.
    owner.goto(link)
    owner.get_by_role("button", name="Connect with Microsoft").wait_for()
