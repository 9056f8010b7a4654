import re

from tests.conftest import PASSWORD


def test_it_pauses_sign_in_after_five_wrong_passwords(page, live_server, alice, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    for attempt in range(5):
        page.get_by_label("E-mail address").fill(alice.email)
        page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(f"wrong password {attempt}")
        page.get_by_role("button", name="Sign in").click()
        if attempt < 4:
            page.get_by_text("The e-mail address or the password is not right").first.wait_for()
    page.get_by_role("heading", name="Too many failed sign-ins").wait_for()
    page.get_by_text("Please wait 15 minutes before you try again.").wait_for()
    screenshot(page, "locked-out")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Too many failed sign-ins").wait_for()
