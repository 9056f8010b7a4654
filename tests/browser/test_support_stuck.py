"""Support tells from the list who is stuck, on what, since when (issue 15, finding 10),
and watches a check it asked for fill in without reloading the page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from onboarding.audit import audit_record
from onboarding.models import AppRegistration, AuditEvent, Membership
from tests.conftest import PASSWORD
from tests.support.conftest import make_tenant
from tests.two_factor import confirmed_device, enter_code

pytestmark = pytest.mark.browser


def sign_in_as_support(page, live_server, user) -> None:
    device = confirmed_device(user)
    page.goto(f"{live_server.url}/support/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    enter_code(page, device)
    page.get_by_role("heading", name="Tenants").wait_for()


@pytest.fixture
def stuck_tenants(db):
    """Kilo Kargo declined consent 9 days ago; Lima Lines is at step 2 since today;
    Mike Mail is connected."""
    kilo = make_tenant("Kilo Kargo", step=3, created_days_ago=20, directory="kilo.onmicrosoft.com")
    admin = User.objects.create_user("kim@kilo.example", "x" * 20, full_name="Kim Kilo")
    Membership.objects.create(tenant=kilo, user=admin)
    event = audit_record(
        action="consent.failed",
        actor=Actor(user=admin),
        tenant=kilo,
        obj=AppRegistration.objects.get(tenant=kilo),
        code="AADSTS65004",
        via="wizard",
    )
    AuditEvent.objects.filter(pk=event.pk).update(at=timezone.now() - timedelta(days=9))
    make_tenant("Lima Lines", step=2, directory="lima.onmicrosoft.com")
    make_tenant("Mike Mail", expires_in=90, mailbox="ops@mike.example")
    return kilo


def test_support_filters_stuck_tenants_and_sees_since_when_and_why(
    page, live_server, charlie, stuck_tenants, screenshot
):
    sign_in_as_support(page, live_server, charlie)
    table = page.get_by_role("table")
    table.get_by_role("columnheader", name="Waiting since").wait_for()

    # 0 days honoured: everyone still in the setup, nobody connected.
    page.get_by_label("Stuck in setup for more than").fill("0")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("2 tenants", exact=True).wait_for()
    assert page.get_by_role("link", name="Mike Mail").count() == 0

    page.get_by_label("Stuck in setup for more than").fill("7")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("1 tenant", exact=True).wait_for()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Kilo Kargo"))
    assert "9 days" in row.inner_text()
    assert "Admin consent declined on Microsoft's consent page" in row.inner_text()
    assert "Setup in progress" in row.inner_text()
    screenshot(page, "stuck-for-more-than-7-days")

    # The timeline says it in a sentence, and shows only consent when asked.
    page.get_by_role("link", name="Kilo Kargo").click()
    page.get_by_role("heading", name="Kilo Kargo").wait_for()
    page.get_by_role("navigation", name="Show in the timeline").get_by_role(
        "link", name="Consent"
    ).click()
    timeline = page.get_by_role("list", name="Timeline, newest first")
    timeline.get_by_text("Admin consent declined on Microsoft's consent page").wait_for()
    assert "consent.failed" not in timeline.inner_text()
    screenshot(page, "timeline-consent-only")

    # The overview's lines lead to the tenants they count.
    page.get_by_role("link", name="Overview").click()
    page.get_by_role("link", name="Step 3: API permissions and admin consent").click()
    page.get_by_text("2 tenants", exact=True).wait_for()  # Kilo at step 3, Mike done
    page.get_by_role("link", name="Kilo Kargo").wait_for()
    assert page.get_by_role("link", name="Lima Lines").count() == 0
    page.get_by_role("link", name="Overview").click()
    page.get_by_role("link", name="Connected", exact=True).click()
    page.get_by_text("1 tenant", exact=True).wait_for()
    page.get_by_role("link", name="Mike Mail").wait_for()
    assert page.get_by_label("State").input_value() == "connected"


def test_support_runs_a_check_and_sees_it_fill_in_without_reloading(
    page, live_server, charlie, acme, emulated_microsoft, broker, screenshot
):
    from microsoft_emulator.scenarios import ready_directory
    from tests.onboarding.check_helpers import configure

    configure(acme, ready_directory(emulated_microsoft))
    sign_in_as_support(page, live_server, charlie)
    page.get_by_role("link", name="Acme Logistics").click()
    page.get_by_role("heading", name="Acme Logistics").wait_for()
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name=re.compile("^Run a check now of ")).click()
    result = page.locator(".check-run")
    result.get_by_text("Queued…").wait_for()
    result.get_by_text("Sign in as the application:").wait_for()

    broker.deliver()  # the worker runs the check; the fragment polls its result in
    result.get_by_text("Passed", exact=True).wait_for()
    assert "Read the inbox: passed" in re.sub(r"\s+", " ", result.inner_text())
    # The mailbox's line above shows the new result too, and the page never reloaded.
    page.get_by_text("Last checked never").wait_for(state="detached")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "check-result-live")
