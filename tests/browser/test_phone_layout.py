"""Every page of accounts, invitations and support fits a 375px phone without
sideways scrolling."""

import re

from accounts.actors import Actor
from onboarding.invitations import services as invitations
from tests.browser.conftest import PHONE
from tests.conftest import PASSWORD
from tests.two_factor import confirmed_device, enter_code


def assert_fits(page, url):
    page.goto(url)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{url} is {width}px wide"


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Support staff land on the two-factor page first.
    page.wait_for_url(re.compile(r"/(support/(2fa/\?next=.*)?)?$"))


def test_it_fits_anonymous_pages_on_a_phone(page, live_server, acme, charlie):
    _, token = invitations.invitation_create(
        tenant=acme,
        email="a-very-long-address-for-testing@subsidiary.acme.example",
        actor=Actor(user=charlie),
    )
    page.set_viewport_size(PHONE)
    for path in [
        "/accounts/login/",
        "/accounts/password-reset/",
        "/accounts/password-reset/sent/",
        f"/invitations/{token}/",
        "/invitations/forged/",
        "/no-such-page/",
    ]:
        assert_fits(page, live_server.url + path)


def test_it_fits_support_pages_on_a_phone(page, live_server, acme, alice, charlie):
    invitations.invitation_create(tenant=acme, email="eve@acme.example", actor=Actor(user=charlie))
    page.set_viewport_size(PHONE)
    device = confirmed_device(charlie)
    sign_in(page, live_server, charlie)
    enter_code(page, device)
    page.wait_for_url(re.compile(r"/support/$"))
    for path in [
        "/support/",
        "/support/?expiring=30",
        "/support/overview/",
        "/support/tenants/new/",
        f"/support/tenants/{acme.pk}/",
    ]:
        assert_fits(page, live_server.url + path)


def test_it_fits_the_tenant_admin_start_page_on_a_phone(page, live_server, alice):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    assert_fits(page, live_server.url + "/")
