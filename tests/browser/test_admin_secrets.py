import re
import uuid

import pytest

from accounts.models import User
from onboarding.models import AppRegistration, ClientSecret
from tests.canary import assert_absent_from_database
from tests.conftest import PASSWORD
from tests.two_factor import confirmed_device, enter_code


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root@vendor.example", PASSWORD)


def test_it_takes_a_secret_in_the_admin_and_shows_only_its_hint(
    page, live_server, root, acme, canary, screenshot
):
    app = AppRegistration.objects.create(tenant=acme, client_id=uuid.uuid4(), directory="acme")
    value, secret_id = canary(), str(uuid.uuid4())
    device = confirmed_device(root)
    page.goto(f"{live_server.url}/admin/onboarding/clientsecret/add/")
    # The admin signs in through the portal's sign-in page, then the second factor.
    page.get_by_label("E-mail address").fill(root.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    enter_code(page, device)

    page.get_by_label("App").select_option(label=str(app))
    page.get_by_label("Secret ID").fill(secret_id)
    page.get_by_label("Secret value").fill(value)
    page.get_by_label("Expires on").fill("2030-01-31")
    screenshot(page, "add-secret")
    page.get_by_role("button", name="Save", exact=True).click()

    page.get_by_text("was added successfully").wait_for()
    screenshot(page, "secret-list")
    listing = page.content()
    assert secret_id in listing
    assert value[:3] in listing
    assert value not in listing
    page.get_by_role("link", name=secret_id, exact=True).click()
    assert page.get_by_label("Secret value").input_value() == ""
    assert value not in page.content()
    assert ClientSecret.objects.get().reveal() == value
    assert_absent_from_database(value)
