from tests.conftest import PASSWORD


def test_it_signs_in_and_out(page, live_server, alice, screenshot):
    page.goto(f"{live_server.url}/")
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "login")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome, Alice").wait_for()
    assert "Acme Logistics" in page.content()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
