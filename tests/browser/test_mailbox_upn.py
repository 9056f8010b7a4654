"""Step 5 with a mailbox whose address is an alias: a new admin first enters the alias
alone, reads why the check fails, then adds the user principal name and the check
passes, with the test message sent to the alias."""

from __future__ import annotations

import pytest

from microsoft_emulator.scenarios import ready_directory
from onboarding.models import Mailbox
from tests.browser.conftest import accept_invitation, save_steps_1_to_4

pytestmark = pytest.mark.browser

ALIAS = "orders@contoso.com"


@pytest.fixture
def through_step_4(emulated_microsoft, acme):
    """Contoso set up as the guide says, its mailbox user reached at an alias; Acme's
    steps 1 to 4 done against it."""
    ready = ready_directory(emulated_microsoft)
    # The alias is on a verified domain of the directory, as Exchange Online requires
    # (step 5 warns about a domain of no directory or of another one).
    with emulated_microsoft.store.lock:
        ready.directory.domains.append("contoso.com")
    emulated_microsoft.store.changed()
    emulated_microsoft.update_user(
        ready.mailbox, mail="dispatch@contoso.com", proxy_addresses=[f"smtp:{ALIAS}"]
    )
    save_steps_1_to_4(acme, ready)
    return ready


def test_a_new_admin_enters_an_alias_and_its_upn_and_the_check_passes(
    page, portal, through_step_4, acme, charlie, screenshot
):
    ready = through_step_4
    accept_invitation(page, portal, acme, charlie)
    page.get_by_role("link", name="Continue the setup").click()

    page.get_by_role("heading", name="Mailbox", exact=True).wait_for()
    page.get_by_text("Entra admin center > Users > the user > User principal name").wait_for()
    page.get_by_label("Mailbox address").fill(ALIAS)
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text(f"{ALIAS} added").wait_for()
    page.get_by_role("link", name="Continue to verify").click()
    page.locator('.check-status [data-status="failed"]').wait_for()
    page.get_by_text("Microsoft does not know the mailbox by this name").first.wait_for()
    screenshot(page, "alias-without-upn")

    # The fix opens that mailbox's own form, not the list of step 5.
    page.get_by_role("link", name="Fix it in step 5").first.click()
    assert page.get_by_label("Mailbox address").input_value() == ALIAS
    page.get_by_label("User principal name (if different)").fill(ready.mailbox.upn)
    page.get_by_role("button", name="Save").click()
    page.get_by_text(f"{ALIAS} saved").wait_for()
    page.get_by_text(f"signs in as {ready.mailbox.upn}").wait_for()
    screenshot(page, "alias-with-upn")
    page.get_by_role("link", name="Continue to verify").click()
    page.locator('.check-status [data-status="passed"]').wait_for()
    screenshot(page, "verify-passed")

    mailbox = Mailbox.objects.get(tenant=acme)
    assert (mailbox.address, mailbox.upn) == (ALIAS, ready.mailbox.upn)
    assert ready.mailbox.messages[-1].to == [ALIAS]
