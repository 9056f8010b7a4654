"""Security finding 13: support's "Run a check now" sends a test message from the
customer's mailbox, so it is limited per mailbox and refused moments after a check."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from onboarding.models import AuditEvent, CheckRun
from tests.support.conftest import make_tenant


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    """A fixed clock, so no test straddles two rate-limit windows."""
    monkeypatch.setattr("accounts.rate_limits._now", lambda: 1_800_000_000.0)


def url_of(tenant, mailbox) -> str:
    return f"/support/tenants/{tenant.pk}/mailboxes/{mailbox.pk}/check/"


def finish_all_a_while_ago() -> None:
    """Every run so far passed long enough ago that "moments ago" does not apply."""
    CheckRun.objects.update(status="passed", created_at=timezone.now() - timedelta(minutes=5))


def test_it_refuses_more_than_the_hourly_limit_per_mailbox(staff_client, settings, db):
    settings.SUPPORT_CHECKS_PER_HOUR = 6
    tenant = make_tenant("Alpha Air", mailbox="ops@alpha.example")
    mailbox = tenant.mailboxes.get()
    other = make_tenant("Bravo Bus", mailbox="ops@bravo.example")
    with mock.patch("onboarding.tasks.enqueue_check") as enqueue:
        for _ in range(6):
            response = staff_client.post(url_of(tenant, mailbox), HTTP_HX_REQUEST="true")
            assert "hx-trigger" in response.content.decode()  # a queued check
            finish_all_a_while_ago()
        refused = staff_client.post(url_of(tenant, mailbox), HTTP_HX_REQUEST="true")
        page = staff_client.post(url_of(tenant, mailbox), follow=True)
        # Another mailbox has its own budget.
        assert staff_client.post(url_of(other, other.mailboxes.get())).status_code == 302
    body = refused.content.decode()
    assert refused.status_code == 200  # htmx swaps it in place of a result
    assert "checked 6 times in the last hour" in body
    assert "No check of ops@alpha.example" in body
    assert "checked 6 times in the last hour" in page.content.decode()
    assert page.redirect_chain[-1][0] == f"/support/tenants/{tenant.pk}/"
    assert CheckRun.objects.filter(mailbox=mailbox).count() == 6
    assert enqueue.call_count == 7  # six for Alpha, one for Bravo
    assert AuditEvent.objects.filter(action="check.requested", tenant=tenant).count() == 6


def test_it_refuses_a_check_moments_after_the_last(staff_client, db):
    tenant = make_tenant("Alpha Air", mailbox="ops@alpha.example")
    mailbox = tenant.mailboxes.get()
    CheckRun.objects.create(mailbox=mailbox, trigger="support", status="passed")
    with mock.patch("onboarding.tasks.enqueue_check") as enqueue:
        fragment = staff_client.post(url_of(tenant, mailbox), HTTP_HX_REQUEST="true")
        page = staff_client.post(url_of(tenant, mailbox), follow=True)
    assert "The last check was moments ago; try again in" in fragment.content.decode()
    assert "The last check was moments ago; try again in" in page.content.decode()
    assert CheckRun.objects.count() == 1
    enqueue.assert_not_called()
    assert not AuditEvent.objects.filter(action="check.requested").exists()


def test_a_refused_moments_ago_request_does_not_use_up_the_hour(staff_client, settings, db):
    settings.SUPPORT_CHECKS_PER_HOUR = 1
    tenant = make_tenant("Alpha Air", mailbox="ops@alpha.example")
    mailbox = tenant.mailboxes.get()
    CheckRun.objects.create(mailbox=mailbox, trigger="support", status="passed")
    with mock.patch("onboarding.tasks.enqueue_check"):
        staff_client.post(url_of(tenant, mailbox))  # moments ago: refused, not counted
        finish_all_a_while_ago()
        staff_client.post(url_of(tenant, mailbox))
    assert CheckRun.objects.count() == 2
