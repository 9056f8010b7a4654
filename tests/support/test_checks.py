from unittest import mock

from onboarding.models import AuditEvent, CheckRun, Mailbox
from tests.support.conftest import make_tenant


def test_it_requests_a_support_check_and_audits_it(staff_client, charlie, db):
    tenant = make_tenant("Alpha Air", mailbox="ops@alpha.example")
    mailbox = tenant.mailboxes.get()
    with mock.patch("onboarding.tasks.enqueue_check") as enqueue:
        response = staff_client.post(
            f"/support/tenants/{tenant.pk}/mailboxes/{mailbox.pk}/check/", HTTP_HX_REQUEST="true"
        )
    run = CheckRun.objects.get()
    enqueue.assert_called_once_with(run.pk, countdown=0.0)
    assert (run.trigger, run.requested_by, run.status) == ("support", charlie, "queued")
    body = response.content.decode()
    assert f"/support/tenants/{tenant.pk}/checks/{run.pk}/" in body  # polls while queued
    assert 'hx-trigger="every ' in body
    assert "Sign in as the application:" in body  # its steps, filled in as they end
    event = AuditEvent.objects.get(action="check.requested")
    assert (event.actor_label, event.details) == (charlie.email, {"mailbox": "ops@alpha.example"})


def test_it_shows_a_finished_check_with_its_diagnosis_and_stops_polling(staff_client, db):
    tenant = make_tenant("Alpha Air", mailbox="ops@alpha.example")
    run = CheckRun.objects.create(
        mailbox=tenant.mailboxes.get(),
        trigger="support",
        status="failed",
        diagnosis_key="app_not_found",
    )
    body = staff_client.get(f"/support/tenants/{tenant.pk}/checks/{run.pk}/").content.decode()
    assert "Failed" in body
    assert "Application not found in your directory" in body
    assert "hx-trigger" not in body


def test_it_refuses_another_tenants_mailbox_or_run(staff_client, db):
    alpha = make_tenant("Alpha Air", mailbox="ops@alpha.example")
    bravo = make_tenant("Bravo Bus", mailbox="ops@bravo.example")
    bravo_mailbox = Mailbox.objects.get(tenant=bravo)
    run = CheckRun.objects.create(mailbox=bravo_mailbox, trigger="support")
    url = f"/support/tenants/{alpha.pk}/mailboxes/{bravo_mailbox.pk}/check/"
    assert staff_client.post(url).status_code == 404
    assert staff_client.get(f"/support/tenants/{alpha.pk}/checks/{run.pk}/").status_code == 404
    assert CheckRun.objects.count() == 1


def test_it_puts_checks_with_their_diagnosis_in_the_timeline(staff_client, charlie, db):
    tenant = make_tenant("Alpha Air", mailbox="ops@alpha.example")
    CheckRun.objects.create(
        mailbox=tenant.mailboxes.get(),
        trigger="support",
        status="failed",
        requested_by=charlie,
        diagnosis_key="app_not_found",
    )
    (entry,) = staff_client.get(f"/support/tenants/{tenant.pk}/").context["timeline"]
    assert entry.kind == "check"
    assert entry.title == "Check of ops@alpha.example failed"
    assert entry.detail == "Application not found in your directory"
    assert entry.actor == "Charlie Support"
