# TEMPORARY preview, not committed
from tests.conftest import PASSWORD
from tests.onboarding.conftest import *  # noqa


def test_preview(page, live_server, alice, acme, acme_consented, screenshot):
    page.goto(f"{live_server.url}/")
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Set up the mailbox connection").click()
    page.get_by_label("Value").fill("Zx98Q~" + "s" * 34)
    page.get_by_label("Secret ID").fill("5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
    page.get_by_role("button", name="Save secret").click()
    screenshot(page, "p5")
    page.get_by_label("Mailbox address").fill("dispatch@acme.example")
    page.get_by_role("button", name="Save mailbox").click()
    screenshot(page, "p5list")
    page.get_by_role("link", name="Continue to verify").click()
    screenshot(page, "p6")
