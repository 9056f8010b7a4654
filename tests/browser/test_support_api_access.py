"""Support gives the operations app access as a new support agent would: creates a
service account (its key shown once), revokes it, opens a webhook endpoint's
deliveries and replays a failed one."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from api import keys
from tests.conftest import PASSWORD
from tests.two_factor import confirmed_device, enter_code
from webhooks import addresses, endpoints, outbox, tasks
from webhooks.models import Delivery

pytestmark = pytest.mark.browser


@pytest.fixture
def failed_delivery(acme, monkeypatch) -> tuple[Delivery, list[str]]:
    """An endpoint of the operations app with one delivery that was given up on, and
    the deliveries queued for the worker since."""
    # A made-up host: answer its name with a public address instead of asking DNS.
    monkeypatch.setattr(addresses, "_resolve", lambda host, port: ("192.0.2.80",))
    owner = keys.create_account(name="Operations app, staging", scopes=["webhooks:manage"])
    endpoints.create(
        owner.key.account_id, url="https://hooks.ops.example/portal", events=["connection.failing"]
    )
    # The worker is not running: the test sees what support queues, nothing is sent.
    queued: list[str] = []
    monkeypatch.setattr(tasks.deliver, "delay", queued.append)
    with transaction.atomic():
        event = outbox.record(
            "connection.failing", tenant_id=acme.pk, connection_id=uuid.uuid4(), data={}
        )
    Delivery.objects.filter(event=event).update(
        state=Delivery.State.FAILED,
        attempts=7,
        last_status_code=503,
        last_error="The endpoint answered 503.",
        last_attempt_at=timezone.now(),
        next_attempt_at=None,
    )
    delivery = Delivery.objects.get(event=event)
    queued.clear()  # the first send, queued by record(); only the replay counts below
    return delivery, queued


def test_support_creates_a_key_sees_it_once_revokes_it_and_replays_a_delivery(
    page, live_server, charlie, acme, failed_delivery, screenshot
):
    delivery, queued = failed_delivery
    device = confirmed_device(charlie)
    page.goto(f"{live_server.url}/support/")
    page.get_by_label("E-mail address").fill(charlie.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    enter_code(page, device)

    page.get_by_role("link", name="Service accounts").click()
    page.get_by_role("heading", name="Service accounts").wait_for()
    page.get_by_role("link", name="New service account").click()
    page.get_by_label(re.compile(r"^\s*Name\W*$")).fill("Operations app, production")
    # Forgetting what it may do is caught, with the rest kept.
    page.get_by_role("button", name="Create the service account").click()
    page.get_by_text("Choose at least one thing it may do.").wait_for()
    page.get_by_label("Read connections").check()
    page.get_by_label("Issue mail tokens").check()
    page.get_by_label("Only these tenants (optional)").fill("Acme Logistics")
    page.get_by_label("Expires after (days)").fill("90")
    screenshot(page, "new-service-account")
    page.get_by_role("button", name="Create the service account").click()

    page.get_by_text("Copy the key now: it is shown only this once.").wait_for()
    value = page.locator("code.form-control").inner_text().strip()
    key = keys.authenticate(value)
    assert key is not None
    assert page.get_by_role("button", name=re.compile("^Copy Key ")).is_visible()
    screenshot(page, "key-shown-once")

    page.get_by_role("link", name="I have copied the key").click()
    page.get_by_role("heading", name="Service accounts").wait_for()
    assert value not in page.content()
    page.locator("code", has_text=f"{keys.PREFIX}{key.key_id}_…").wait_for()
    screenshot(page, "service-accounts")

    page.get_by_role("link", name="Revoke Operations app, production").click()
    page.get_by_role("heading", name="Revoke Operations app, production?").wait_for()
    assert keys.authenticate(value) is not None  # asking revoked nothing
    page.get_by_role("button", name="Revoke the service account").click()
    page.get_by_text("Operations app, production is revoked: its keys no longer work.").wait_for()
    assert keys.authenticate(value) is None

    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("heading", name="Webhook endpoints").wait_for()
    page.get_by_role("link", name="https://hooks.ops.example/portal").click()
    page.get_by_role("heading", name="Recent deliveries").wait_for()
    page.get_by_text("The endpoint answered 503.").wait_for()
    screenshot(page, "endpoint-deliveries")
    page.get_by_role("button", name=f"Replay connection.failing {delivery.event_id}").click()
    page.get_by_text(f"The delivery {delivery.event_id} is queued to be sent again").wait_for()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING
    assert queued == [str(delivery.pk)]
    screenshot(page, "delivery-replayed")


def test_support_sets_the_customer_reference_and_sees_exports(
    page, live_server, charlie, acme, screenshot
):
    from accounts.actors import Actor
    from onboarding.audit import audit_record
    from onboarding.models import Mailbox

    mailbox = Mailbox.objects.create(tenant=acme, address="ops@acme.example")
    # What api/views.py records when the legacy hand-off answers an export.
    audit_record(
        action="api.credentials_exported",
        actor=Actor(),
        tenant=acme,
        obj=mailbox,
        service_account="Legacy operations app",
        reason="The old server cannot take tokens yet",
    )
    device = confirmed_device(charlie)
    page.goto(f"{live_server.url}/support/")
    page.get_by_label("E-mail address").fill(charlie.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    enter_code(page, device)

    page.get_by_role("link", name="Acme Logistics").click()
    page.get_by_role("heading", name="Acme Logistics").wait_for()
    page.get_by_text("Credentials exported to Legacy operations app at").wait_for()
    # (Too long a reference cannot be typed: the field stops at 100 characters; the
    # server's own refusal is tested in tests/support/test_tenant_api_facts.py.)
    page.get_by_label("Customer reference").fill("CRM-0042")
    page.get_by_role("button", name="Save the reference").click()
    page.get_by_text("Customer reference saved.").wait_for()
    page.get_by_text("Now: CRM-0042").wait_for()
    screenshot(page, "customer-reference")
    acme.refresh_from_db()
    assert acme.customer_reference == "CRM-0042"


def test_the_api_access_pages_fit_a_phone(page, live_server, charlie, acme, failed_delivery):
    from tests.browser.conftest import PHONE

    delivery, _queued = failed_delivery
    account_id = delivery.endpoint.owner_id
    key = keys.create_account(
        name="A service account with a rather long name", scopes=["tokens:issue"]
    )
    device = confirmed_device(charlie)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/support/")
    page.get_by_label("E-mail address").fill(charlie.email)
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    enter_code(page, device)
    page.wait_for_url(re.compile(r"/support/$"))
    for path in [
        "/support/service-accounts/",
        "/support/service-accounts/new/",
        f"/support/service-accounts/{account_id}/rotate/",
        f"/support/service-accounts/{account_id}/revoke/",
        f"/support/service-accounts/{key.key.account_id}/keys/{key.key.pk}/revoke/",
        "/support/webhooks/",
        f"/support/webhooks/{delivery.endpoint_id}/",
        f"/support/webhooks/{delivery.endpoint_id}/disable/",
    ]:
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"
