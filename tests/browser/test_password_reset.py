import re

from django.core import mail

NEW_PASSWORD = "a brand new passphrase 42"


def test_it_resets_a_forgotten_password(page, live_server, alice, settings, screenshot):
    settings.PORTAL_BASE_URL = live_server.url
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail address").fill(alice.email)
    screenshot(page, "request")
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()

    (message,) = mail.outbox
    match = re.search(r"http://\S+/accounts/password-reset/\S+/", str(message.body))
    assert match
    page.goto(match.group(0))
    page.get_by_label(re.compile(r"^\s*New password\W*$")).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    screenshot(page, "choose")
    page.get_by_role("button", name="Save the new password").click()
    page.get_by_role("heading", name="Your password is changed").wait_for()

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome, Alice").wait_for()

    page.goto(match.group(0))
    page.get_by_role("heading", name="This link no longer works").wait_for()
