"""Derived state has one writer each, and every change that affects it goes through it:
tenant health (onboarding.checks.health), secret status (onboarding.client_secrets'
transitions, the Django admin included), and checks start only from a POST or from
the save that cleared a verification, never from showing a page."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from accounts.actors import Actor
from accounts.models import User
from onboarding.checks import health
from onboarding.client_secrets import secret_activate
from onboarding.consent import services as consent
from onboarding.models import AuditEvent, CheckRun, ClientSecret, Mailbox, Tenant
from onboarding.wizard import services as wizard
from tests.conftest import PASSWORD
from tests.onboarding.conftest import make_secret
from tests.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db
Health = Tenant.Health


def mailbox(tenant: Tenant, address: str, state: str) -> Mailbox:
    return Mailbox.objects.create(tenant=tenant, address=address, health=state)


def test_it_makes_the_tenant_healthy_when_its_failing_mailbox_is_removed(acme, alice):
    mailbox(acme, "ok@acme.example", Health.HEALTHY)
    failing = mailbox(acme, "broken@acme.example", Health.FAILING)
    health.tenant_recompute(acme.pk)
    acme.refresh_from_db()
    assert acme.health == Health.FAILING
    wizard.remove_mailbox(failing, actor=Actor(user=alice))
    acme.refresh_from_db()
    assert acme.health == Health.HEALTHY


def test_it_removes_a_failing_mailbox_through_the_wizard_and_support_sees_it_healthy(
    client, acme, alice, acme_ready
):
    mailbox(acme, "broken@acme.example", Health.FAILING)
    acme.mailboxes.filter(address="dispatch@acme.example").update(health=Health.HEALTHY)
    health.tenant_recompute(acme.pk)
    client.force_login(alice)
    broken = acme.mailboxes.get(address="broken@acme.example")
    path = reverse("onboarding:mailbox-remove", args=[acme.pk, broken.pk])
    assert client.post(path).status_code == 302
    acme.refresh_from_db()
    assert acme.health == Health.HEALTHY
    assert client.get(reverse("home")).content.decode().count("Partly working") == 0


def test_it_counts_a_tenant_with_an_unverified_mailbox_as_not_verified(acme):
    mailbox(acme, "ok@acme.example", Health.HEALTHY)
    mailbox(acme, "new@acme.example", Health.UNKNOWN)
    assert health.tenant_recompute(acme.pk) == Health.UNKNOWN


def test_it_keeps_secret_expired_while_the_secret_in_use_has_expired(acme, acme_consented):
    make_secret(acme_consented, status=ClientSecret.Status.ACTIVE, expires_on="2020-01-01")
    mailbox(acme, "ok@acme.example", Health.HEALTHY)
    assert health.tenant_recompute(acme.pk) == Health.EXPIRED


@pytest.mark.parametrize("change", ["app", "consent", "secret"])
def test_it_recomputes_the_tenant_when_an_answer_changes(change, acme, alice, acme_ready):
    acme.mailboxes.update(health=Health.FAILING)
    health.tenant_recompute(acme.pk)
    actor = Actor(user=alice)
    if change == "app":
        wizard.save_registration(
            acme,
            client_id=str(uuid.uuid4()),
            directory=str(acme_ready.directory_id),
            directory_id=str(acme_ready.directory_id),
            actor=actor,
        )
    elif change == "consent":
        consent.record_consent(acme_ready, actor=actor, forwarded=False)
    else:
        wizard.save_secret(
            acme_ready,
            value="abc8Q~" + "x" * 34,
            secret_id=str(uuid.uuid4()),
            expires_on=acme.local_today().replace(year=acme.local_today().year + 1),
            actor=actor,
        )
    acme.refresh_from_db()
    assert acme.health == Health.UNKNOWN
    assert set(acme.mailboxes.values_list("health", flat=True)) == {Health.UNKNOWN}


def test_a_save_that_clears_verification_asks_for_the_check_of_the_mailbox(acme, alice, acme_ready):
    saved = wizard.save_mailbox(
        Mailbox(tenant=acme),
        address="new@acme.example",
        password=None,
        forget=False,
        actor=Actor(user=alice),
    )
    assert [(r.run.mailbox.address, r.is_new) for r in saved.checks] == [("new@acme.example", True)]
    assert CheckRun.objects.get().trigger == CheckRun.Trigger.WIZARD


def test_a_save_before_the_setup_can_be_verified_asks_for_no_check(acme, alice, acme_configured):
    make_secret(acme_configured)
    saved = wizard.save_mailbox(
        Mailbox(tenant=acme),
        address="new@acme.example",
        password=None,
        forget=False,
        actor=Actor(user=alice),
    )
    assert saved.checks == []  # consent (step 3) is still missing
    assert not CheckRun.objects.exists()


def test_showing_or_polling_the_verify_step_starts_no_check(client, acme, alice, acme_ready):
    client.force_login(alice)
    page = client.get(reverse("onboarding:verify", args=[acme.pk]))
    polled = client.get(reverse("onboarding:verify-status", args=[acme.pk]), HTTP_HX_REQUEST="true")
    assert (page.status_code, polled.status_code) == (200, 200)
    assert not CheckRun.objects.exists()
    assert "Not checked yet" in page.content.decode()
    assert "Run check</button>" in page.content.decode()


def test_the_verify_button_starts_the_check(client, acme, alice, acme_ready, broker):
    client.force_login(alice)
    response = client.post(reverse("onboarding:verify", args=[acme.pk]))
    assert response.status_code == 302
    assert CheckRun.objects.get().requested_by == alice


# --- secret status: named transitions, audited -------------------------------------


@pytest.fixture
def admin_client(client, db):
    # The admin asks for the second factor.
    sign_in_verified(client, User.objects.create_superuser("root@vendor.example", PASSWORD))
    return client


def admin_action(admin_client, action: str, secret: ClientSecret):
    return admin_client.post(
        reverse("admin:onboarding_clientsecret_changelist"),
        {"action": action, "_selected_action": [str(secret.pk)]},
    )


def test_it_audits_a_status_change_made_in_the_admin(admin_client, acme_consented):
    secret = make_secret(acme_consented)
    assert admin_action(admin_client, "activate", secret).status_code == 302
    secret.refresh_from_db()
    assert secret.status == ClientSecret.Status.ACTIVE
    event = AuditEvent.objects.get(action="client_secret.active")
    assert (event.actor_label, event.object_id) == ("root@vendor.example", str(secret.pk))
    assert event.details["previous"] == "pending"
    assert event.details["via"] == "admin"


def test_it_refuses_a_transition_from_a_state_it_may_not_leave(admin_client, acme_consented):
    secret = make_secret(acme_consented, status=ClientSecret.Status.RETIRED)
    admin_action(admin_client, "activate", secret)
    secret.refresh_from_db()
    assert secret.status == ClientSecret.Status.RETIRED
    assert not AuditEvent.objects.filter(action__startswith="client_secret.").exists()


def test_the_admin_form_has_no_status_field_to_type_into(admin_client, acme_consented):
    secret = make_secret(acme_consented)
    page = admin_client.get(reverse("admin:onboarding_clientsecret_change", args=[secret.pk]))
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()


def test_of_two_activations_only_one_moves_the_secret_and_is_audited(acme_consented):
    secret = make_secret(acme_consented)
    stale_copy = ClientSecret.objects.select_related("app__tenant").get(pk=secret.pk)
    assert secret_activate(secret) is True
    assert secret_activate(stale_copy) is False
    assert AuditEvent.objects.filter(action="client_secret.active").count() == 1


# --- one recipients rule ------------------------------------------------------------


def test_it_tells_each_address_once_admins_first_support_last(acme, alice):
    acme.notification_addresses.create(email="it@acme.example")
    acme.notification_addresses.create(email="Support@Vendor.example")
    User.objects.create_user("gone@acme.example", PASSWORD, is_active=False)
    assert acme.recipients("support@vendor.example") == [
        "alice@acme.example",
        "it@acme.example",
        "Support@Vendor.example",
    ]
