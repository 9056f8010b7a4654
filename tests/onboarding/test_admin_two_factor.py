"""The Django admin: superusers only, behind the verified second factor of /support/,
and every change it makes is in the audit log."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from onboarding.models import AppRegistration, AuditEvent, ClientSecret, Membership
from tests.conftest import PASSWORD
from tests.two_factor import confirmed_device, current_code, sign_in_verified


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root@vendor.example", PASSWORD)


def writes() -> tuple[int, int, int, int]:
    return (
        AuditEvent.objects.count(),
        LogEntry.objects.count(),
        TOTPDevice.objects.count(),
        Membership.objects.count(),
    )


def test_a_password_alone_opens_nothing_and_changes_nothing(client, root, acme, alice):
    # The attack: a stolen superuser password, no authenticator app.
    device = confirmed_device(alice)
    client.force_login(root)
    before = writes()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/support/2fa/?next=%2Fadmin%2F"
    for url, data in [
        (reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"}),
        (
            reverse("admin:onboarding_membership_add"),
            {"user": root.pk, "tenant": acme.pk, "role": "admin"},
        ),
        (
            reverse("admin:otp_totp_totpdevice_changelist"),
            {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"},
        ),
    ]:
        response = client.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/support/2fa/?next=")
    assert client.get(reverse("admin:otp_totp_totpdevice_changelist")).status_code == 302
    assert writes() == before
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not Membership.objects.filter(user=root).exists()


def test_the_admin_login_form_signs_nobody_in(client, root):
    before = writes()
    response = client.post(
        reverse("admin:login"), {"username": root.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith("/accounts/login/?next=")
    assert writes() == before


def test_staff_who_are_not_superusers_get_a_404_even_verified(client, charlie, acme):
    sign_in_verified(client, charlie)
    before = writes()
    assert client.get("/admin/").status_code == 404
    add = reverse("admin:onboarding_membership_add")
    assert client.post(add, {"user": charlie.pk, "tenant": acme.pk}).status_code == 404
    assert writes() == before


def test_a_superuser_enrols_verifies_and_comes_back_to_the_admin(client, root):
    client.force_login(root)
    assert client.get("/admin/")["Location"] == "/support/2fa/?next=%2Fadmin%2F"
    setup = client.get("/support/2fa/?next=%2Fadmin%2F")
    assert setup["Location"].startswith("/support/2fa/setup/")
    device = confirmed_device(root)
    response = client.post("/support/2fa/", {"token": current_code(device), "next": "/admin/"})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_it_audits_every_change_made_in_the_admin(client, root, acme, alice, charlie):
    sign_in_verified(client, root)
    when = {"created_at_0": "2026-01-05", "created_at_1": "10:00:00"}
    response = client.post(
        reverse("admin:onboarding_membership_add"),
        {"user": root.pk, "tenant": acme.pk, "role": "admin", **when},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    membership = Membership.objects.get(user=root)
    added = AuditEvent.objects.get(action="admin.added")
    assert (added.actor, added.tenant, added.ip_address) == (root, acme, "203.0.113.7")
    assert added.object_type == "onboarding.membership"
    assert added.object_id == str(membership.pk)

    change = reverse("admin:onboarding_membership_change", args=[membership.pk])
    client.post(change, {"user": charlie.pk, "tenant": acme.pk, "role": "admin", **when})
    changed = AuditEvent.objects.get(action="admin.changed")
    assert "User" in changed.details["changes"][0]["changed"]["fields"]

    device = confirmed_device(alice)
    client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    deleted = AuditEvent.objects.get(action="admin.deleted")
    assert deleted.object_type == "otp_totp.totpdevice"
    assert deleted.object_id == str(device.pk)

    other = confirmed_device(alice)
    client.post(
        reverse("admin:otp_totp_totpdevice_changelist"),
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )
    assert not TOTPDevice.objects.filter(pk=other.pk).exists()
    assert AuditEvent.objects.filter(action="admin.deleted", object_id=str(other.pk)).exists()


def test_it_audits_an_admin_action(client, root, acme):
    sign_in_verified(client, root)
    app = AppRegistration.objects.create(tenant=acme, client_id=uuid.uuid4(), directory="acme")
    secret = ClientSecret(app=app, secret_id=str(uuid.uuid4()), expires_on="2030-01-31")
    secret.set_value("abc8Q~admin-action-secret")
    secret.save()
    client.post(
        reverse("admin:onboarding_clientsecret_changelist"),
        {"action": "retire", "_selected_action": [secret.pk]},
    )
    event = AuditEvent.objects.get(action="admin.action")
    assert event.details["admin_action"] == "retire"
    assert (event.actor, event.tenant, event.object_id) == (root, acme, str(secret.pk))
    assert "abc8Q" not in str(event.details)
