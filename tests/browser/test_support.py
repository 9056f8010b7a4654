import re

from django.core import mail

from tests.conftest import PASSWORD
from tests.two_factor import confirmed_device, enter_code


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_it_lets_support_create_a_tenant_and_invite_its_admin(
    page, live_server, charlie, settings, screenshot, chromium_browser
):
    settings.PORTAL_BASE_URL = live_server.url
    device = confirmed_device(charlie)
    sign_in(page, live_server, charlie)
    enter_code(page, device)
    page.get_by_role("heading", name="Tenants").wait_for()
    page.get_by_role("main").get_by_role("link", name="New tenant").click()
    page.get_by_label("Organisation name").fill("Contoso Freight")
    page.get_by_label("E-mail address of its first admin").fill("ian@contoso.example")
    screenshot(page, "new-tenant")
    page.get_by_role("button", name="Create and send the invitation").click()
    page.get_by_role("heading", name="Contoso Freight").wait_for()
    page.get_by_text("Invitation sent to ian@contoso.example").wait_for()
    screenshot(page, "tenant-page")

    page.get_by_label("E-mail address of the new admin").fill("jo@contoso.example")
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text("Invitation sent to jo@contoso.example").wait_for()
    assert [m.to for m in mail.outbox] == [["ian@contoso.example"], ["jo@contoso.example"]]

    match = re.search(r"http://\S+/invitations/\S+/", str(mail.outbox[0].body))
    assert match
    invitee = chromium_browser.new_context()
    try:
        invitee_page = invitee.new_page()
        invitee_page.goto(match.group(0))
        invitee_page.get_by_role("heading", name="Set up Contoso Freight").wait_for()
    finally:
        invitee.close()


def test_it_hides_support_pages_from_a_tenant_admin(page, live_server, alice):
    sign_in(page, live_server, alice)
    page.get_by_role("heading", name="Welcome, Alice").wait_for()
    response = page.goto(f"{live_server.url}/support/")
    assert response is not None
    assert response.status == 404
    page.get_by_role("heading", name="Page not found").wait_for()
