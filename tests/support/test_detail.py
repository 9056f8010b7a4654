from datetime import timedelta

from django.utils import timezone

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.models import AppRegistration, AuditEvent, NotificationAddress
from tests.canary import assert_absent_from_database
from tests.support.conftest import make_tenant


def test_it_masks_every_secret_to_its_hint(staff_client, db, canary, charlie):
    secret = canary()
    password = canary("password")
    tenant = make_tenant(
        "Alpha Air", expires_in=5, secret_value=secret, mailbox="ops@alpha.example"
    )
    mailbox = tenant.mailboxes.get()
    mailbox.set_password(password)
    mailbox.save()
    pages = [
        f"/support/tenants/{tenant.pk}/",
        "/support/",
        "/support/?q=alpha",
        "/support/overview/",
    ]
    for path in pages:
        body = staff_client.get(path).content.decode()
        assert secret not in body
        assert password not in body
    detail = staff_client.get(f"/support/tenants/{tenant.pk}/").content.decode()
    assert f"{secret[:3]}•••••" in detail
    assert "legacy password set" in detail
    assert_absent_from_database(secret, password)
    # The session's pages were watched too: tests/canary.py fails the test on a leak.


def test_it_merges_audit_events_notes_and_consent_newest_first(staff_client, charlie, db):
    tenant = make_tenant("Alpha Air", directory="alpha.onmicrosoft.com")
    AppRegistration.objects.filter(tenant=tenant).update(
        consent_granted_at=timezone.now() - timedelta(days=2)
    )
    audit_record(action="tenant.created", actor=Actor(user=charlie), tenant=tenant)
    staff_client.post(f"/support/tenants/{tenant.pk}/notes/", {"text": "Called Ian, will retry"})
    timeline = staff_client.get(f"/support/tenants/{tenant.pk}/").context["timeline"]
    assert [entry.kind for entry in timeline] == ["note", "support", "consent"]
    assert timeline[1].title == "Tenant created"  # a sentence, not the audit code
    assert timeline[0].detail == "Called Ian, will retry"
    assert timeline[0].actor == charlie.email


def test_it_keeps_other_tenants_events_out_of_the_timeline(staff_client, charlie, db):
    alpha = make_tenant("Alpha Air")
    bravo = make_tenant("Bravo Bus")
    audit_record(action="tenant.created", actor=Actor(user=charlie), tenant=bravo)
    assert staff_client.get(f"/support/tenants/{alpha.pk}/").context["timeline"] == []


def test_it_adds_a_note_audited_with_the_staff_member(staff_client, charlie, acme):
    response = staff_client.post(f"/support/tenants/{acme.pk}/notes/", {"text": "  Waiting  "})
    assert response["Location"] == f"/support/tenants/{acme.pk}/"
    event = AuditEvent.objects.get(action="support.note")
    assert (event.actor, event.tenant, event.details) == (charlie, acme, {"text": "Waiting"})


def test_it_rejects_an_empty_or_huge_note(staff_client, acme):
    for text in ["", "   ", "x" * 2001]:
        response = staff_client.post(f"/support/tenants/{acme.pk}/notes/", {"text": text})
        assert response.status_code == 400
        assert response.context["note_form"].errors
    assert not AuditEvent.objects.filter(action="support.note").exists()


def test_it_adds_a_notification_address(staff_client, charlie, acme):
    response = staff_client.post(
        f"/support/tenants/{acme.pk}/addresses/", {"email": "IT@Acme.example"}
    )
    assert response.status_code == 302
    assert list(acme.notification_addresses.values_list("email", flat=True)) == ["it@acme.example"]
    event = AuditEvent.objects.get(action="notification_address.added")
    assert (event.actor_label, event.details) == (charlie.email, {"email": "it@acme.example"})
    assert "it@acme.example" in staff_client.get(f"/support/tenants/{acme.pk}/").content.decode()


def test_it_refuses_a_duplicate_or_bad_notification_address(staff_client, acme):
    NotificationAddress.objects.create(tenant=acme, email="it@acme.example")
    for email in ["it@acme.example", "not-an-address", ""]:
        response = staff_client.post(f"/support/tenants/{acme.pk}/addresses/", {"email": email})
        assert response.status_code == 400
        assert response.context["address_form"].errors
    assert acme.notification_addresses.count() == 1
    assert not AuditEvent.objects.filter(action="notification_address.added").exists()


def test_it_adds_actions_only_by_post(staff_client, acme):
    for path in ["notes/", "addresses/"]:
        assert staff_client.get(f"/support/tenants/{acme.pk}/{path}").status_code == 405


def test_it_shows_reminders_sent_in_the_timeline(staff_client, db):
    from onboarding.models import ClientSecret, ReminderDispatch

    tenant = make_tenant("Alpha Air", expires_in=7)
    secret = ClientSecret.objects.get(app__tenant=tenant)
    ReminderDispatch.objects.create(
        secret=secret,
        threshold=7,
        expires_on=secret.expires_on,
        status=ReminderDispatch.Status.SENT,
        sent_at=timezone.now(),
        recipients=2,
    )
    ReminderDispatch.objects.create(
        secret=secret, threshold=14, expires_on=secret.expires_on
    )  # claimed, not sent: not shown
    timeline = staff_client.get(f"/support/tenants/{tenant.pk}/").context["timeline"]
    (entry,) = timeline
    assert entry.kind == "reminder"
    assert entry.title == f"Expiry reminder sent for secret {secret.hint}•••"
    assert "2 recipient(s)" in entry.detail


def test_it_tells_a_reported_consent_from_one_a_check_confirmed(staff_client, db):
    tenant = make_tenant("Alpha Air", directory="alpha.onmicrosoft.com")
    app = AppRegistration.objects.get(tenant=tenant)
    app.consent_granted_at = timezone.now() - timedelta(hours=3)
    app.save()
    page = staff_client.get(f"/support/tenants/{tenant.pk}/").content.decode()
    assert "not confirmed by a check yet" in page
    assert "Reported, not confirmed" in staff_client.get("/support/").content.decode()
    app.consent_confirmed_at = timezone.now() - timedelta(hours=2)
    app.save()
    response = staff_client.get(f"/support/tenants/{tenant.pk}/")
    assert "Confirmed by Microsoft" in response.content.decode()
    kinds = [(entry.kind, entry.title) for entry in response.context["timeline"]]
    assert ("consent", "Admin consent confirmed by a passing check") in kinds
    assert "Confirmed" in staff_client.get("/support/").content.decode()
