"""Support staff's dashboard as a new staff member uses it: password, authenticator
code, the list filtered to soon-expiring secrets, a tenant's page and its actions."""

import re

from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD
from tests.support.conftest import make_tenant
from tests.two_factor import current_code


def test_it_enrols_then_filters_opens_a_tenant_and_notes(page, live_server, charlie, screenshot):
    make_tenant("Alpha Air", expires_in=12, mailbox="ops@alpha.example")
    make_tenant("Bravo Bus", expires_in=200, mailbox="ops@bravo.example")
    page.goto(f"{live_server.url}/support/")
    page.get_by_label("E-mail address").fill(charlie.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    screenshot(page, "two-factor-setup")
    assert page.get_by_role("img", name=re.compile("QR code")).is_visible()
    device = TOTPDevice.objects.get(user=charlie)
    page.get_by_label("6-digit code from your authenticator app").fill(current_code(device))
    page.get_by_role("button", name="Confirm and continue").click()

    page.get_by_role("heading", name="Tenants").wait_for()
    page.get_by_label("Secret expires within").select_option("30")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("1 tenant", exact=True).wait_for()
    assert page.get_by_role("link", name="Bravo Bus").count() == 0
    screenshot(page, "tenants-expiring-within-30-days")

    page.get_by_role("link", name="Alpha Air").click()
    page.get_by_role("heading", name="Alpha Air").wait_for()
    page.get_by_label("Internal note").fill("Customer asked for a renewal call")
    page.get_by_role("button", name="Add the note").click()
    page.get_by_text("Note added to the timeline.").wait_for()
    page.get_by_role("list", name="Timeline, newest first").get_by_text(
        "Customer asked for a renewal call"
    ).wait_for()
    screenshot(page, "tenant-detail")

    page.get_by_role("link", name="Overview").click()
    page.get_by_role("heading", name="Onboarding funnel").wait_for()
    screenshot(page, "overview")


def test_it_runs_a_check_from_a_tenant_expiring_soon(
    page, live_server, charlie, acme, emulated_microsoft, broker, screenshot
):
    from datetime import timedelta

    from django.utils import timezone

    from microsoft_emulator.scenarios import ready_directory
    from onboarding.models import ClientSecret
    from tests.onboarding.check_helpers import configure
    from tests.two_factor import confirmed_device, enter_code

    configure(acme, ready_directory(emulated_microsoft))
    ClientSecret.objects.filter(app__tenant=acme).update(
        expires_on=timezone.localdate() + timedelta(days=20)
    )
    make_tenant("Bravo Bus", expires_in=200, mailbox="ops@bravo.example")
    device = confirmed_device(charlie)
    page.goto(f"{live_server.url}/support/")
    page.get_by_label("E-mail address").fill(charlie.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    enter_code(page, device)

    page.get_by_label("Secret expires within").select_option("30")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("1 tenant", exact=True).wait_for()
    page.get_by_role("link", name="Acme Logistics").click()
    page.get_by_role("button", name=re.compile("^Run a check now of ")).click()
    page.get_by_text("Queued…").wait_for()
    broker.deliver()  # the worker runs the check; htmx polls the result into the page
    page.locator("#main .badge.text-bg-success", has_text="Passed").wait_for()
    screenshot(page, "check-passed")
