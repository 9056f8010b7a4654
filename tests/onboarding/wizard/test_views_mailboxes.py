from django.urls import reverse

from onboarding.models import AuditEvent, Mailbox, Tenant
from tests.onboarding.wizard.conftest import mailbox_url


def test_it_explains_the_optional_password(as_alice, at_mailbox_step, acme):
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert "multi-factor authentication" in page
    assert "personal Outlook.com accounts" in page


def test_it_adds_a_mailbox_with_an_encrypted_password(as_alice, at_mailbox_step, acme):
    response = as_alice.post(
        mailbox_url(acme), {"address": "Dispatch@Acme.example", "password": "pw 1"}
    )
    assert response["Location"] == mailbox_url(acme)
    mailbox = Mailbox.objects.get()
    assert mailbox.address == "dispatch@acme.example"
    assert mailbox.password_ciphertext is not None
    assert b"pw 1" not in bytes(mailbox.password_ciphertext)
    assert mailbox.reveal_password() == "pw 1"
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert "pw 1" not in page
    assert reverse("onboarding:verify", args=[acme.pk]) in page


def test_it_adds_a_mailbox_without_a_password(as_alice, at_mailbox_step, acme):
    as_alice.post(mailbox_url(acme), {"address": "dispatch@acme.example"})
    assert Mailbox.objects.get().has_password is False


def test_it_adds_a_second_mailbox(as_alice, acme_ready, acme):
    as_alice.post(mailbox_url(acme), {"address": "second@acme.example"})
    assert sorted(acme.mailboxes.values_list("address", flat=True)) == [
        "dispatch@acme.example",
        "second@acme.example",
    ]


def test_it_keeps_the_password_when_none_is_typed(as_alice, acme_ready, acme):
    mailbox = acme.mailboxes.get()
    mailbox.set_password("kept")
    mailbox.save()
    edit = reverse("onboarding:mailbox-edit", args=[acme.pk, mailbox.pk])
    as_alice.post(edit, {"address": "dispatch@acme.example"})
    mailbox.refresh_from_db()
    assert mailbox.reveal_password() == "kept"


def test_it_forgets_the_password_when_asked(as_alice, acme_ready, acme):
    mailbox = acme.mailboxes.get()
    mailbox.set_password("gone")
    mailbox.save()
    edit = reverse("onboarding:mailbox-edit", args=[acme.pk, mailbox.pk])
    as_alice.post(edit, {"address": "dispatch@acme.example", "forget_password": "on"})
    mailbox.refresh_from_db()
    assert mailbox.has_password is False


def test_it_clears_the_check_of_a_changed_mailbox(as_alice, acme_ready, acme):
    acme.mailboxes.update(health=Tenant.Health.HEALTHY)
    mailbox = acme.mailboxes.get()
    edit = reverse("onboarding:mailbox-edit", args=[acme.pk, mailbox.pk])
    as_alice.post(edit, {"address": "new@acme.example"})
    mailbox.refresh_from_db()
    assert (mailbox.address, mailbox.health) == ("new@acme.example", "unknown")


def test_it_keeps_the_check_when_nothing_changed(as_alice, acme_ready, acme):
    acme.mailboxes.update(health=Tenant.Health.HEALTHY)
    mailbox = acme.mailboxes.get()
    edit = reverse("onboarding:mailbox-edit", args=[acme.pk, mailbox.pk])
    as_alice.post(edit, {"address": "dispatch@acme.example"})
    mailbox.refresh_from_db()
    assert mailbox.health == "healthy"


def test_it_removes_a_mailbox_and_closes_verify_without_one(as_alice, acme_ready, acme):
    mailbox = acme.mailboxes.get()
    as_alice.post(reverse("onboarding:mailbox-remove", args=[acme.pk, mailbox.pk]))
    assert not Mailbox.objects.exists()
    verify = reverse("onboarding:verify", args=[acme.pk])
    assert as_alice.get(verify)["Location"] == mailbox_url(acme)


def test_it_asks_before_removing_and_removes_only_by_post(as_alice, acme_ready, acme):
    mailbox = acme.mailboxes.get()
    response = as_alice.get(reverse("onboarding:mailbox-remove", args=[acme.pk, mailbox.pk]))
    assert response.status_code == 200
    assert f"Remove {mailbox.address}?" in response.content.decode()
    assert Mailbox.objects.exists()


def test_it_audits_adding_and_removing_a_mailbox(as_alice, at_mailbox_step, acme, alice):
    as_alice.post(mailbox_url(acme), {"address": "ops@acme.example", "password": "pw"})
    mailbox = Mailbox.objects.get()
    as_alice.post(reverse("onboarding:mailbox-remove", args=[acme.pk, mailbox.pk]))
    events = AuditEvent.objects.filter(action__startswith="mailbox.").order_by("at")
    assert [(e.action, e.actor, e.details["address"]) for e in events] == [
        ("mailbox.added", alice, "ops@acme.example"),
        ("mailbox.removed", alice, "ops@acme.example"),
    ]
    assert "pw" not in str(events[0].details.values())
