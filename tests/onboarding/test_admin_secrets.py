"""The Django admin takes secrets write-only and shows only hint, secret id and key id.

Every secret here is a canary: the session also checks logs, pages and task messages.
"""

import uuid
from unittest import mock

import pytest
from django.contrib.admin import ModelAdmin
from django.http import HttpResponse
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from accounts.models import User
from onboarding.models import AppRegistration, AuditEvent, ClientSecret, Mailbox
from tests.canary import assert_absent_from_database
from tests.conftest import PASSWORD
from tests.two_factor import sign_in_verified


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root@vendor.example", PASSWORD)


@pytest.fixture
def admin_client(client, root):
    sign_in_verified(client, root)  # the admin asks for the second factor
    return client


@pytest.fixture
def app(acme) -> AppRegistration:
    return AppRegistration.objects.create(tenant=acme, client_id=uuid.uuid4(), directory="acme")


def add_secret(admin_client, app, value: str, **overrides: str):
    data = {
        "app": str(app.pk),
        "secret_id": str(uuid.uuid4()),
        "new_value": value,
        "expires_on": "2030-01-31",
        "status": "pending",
        **overrides,
    }
    return admin_client.post(reverse("admin:onboarding_clientsecret_add"), data)


def test_it_stores_a_secret_entered_in_the_admin_encrypted(admin_client, app, canary):
    value = canary()
    response = add_secret(admin_client, app, value)
    assert response.status_code == 302
    secret = ClientSecret.objects.get()
    assert secret.reveal() == value
    assert (secret.hint, secret.value_key_id) == (value[:3], "test-1")
    assert_absent_from_database(value)


def test_it_shows_only_hint_secret_id_and_key_id(admin_client, app, canary):
    value = canary()
    add_secret(admin_client, app, value)
    secret = ClientSecret.objects.get()
    listing = admin_client.get(reverse("admin:onboarding_clientsecret_changelist")).content
    detail = admin_client.get(
        reverse("admin:onboarding_clientsecret_change", args=[secret.pk])
    ).content.decode()
    for page in (listing.decode(), detail):
        assert str(secret.secret_id) in page
        assert "test-1" in page
        assert "ciphertext" not in page
    assert '<td class="field-value_key_id">test-1</td>' in listing.decode()
    assert f'<td class="field-hint">{value[:3]}</td>' in listing.decode()
    assert f'<div class="readonly">{value[:3]}</div>' in detail
    assert 'type="password" name="new_value"' in detail
    assert bytes(secret.value_ciphertext).hex()[:16] not in detail


def test_it_never_renders_a_submitted_secret_back_on_a_form_error(admin_client, app, canary):
    value = canary()
    response = add_secret(admin_client, app, value, secret_id="not-a-guid")
    assert response.status_code == 200
    assert "Enter a valid UUID" in response.content.decode()
    assert value not in response.content.decode()
    assert not ClientSecret.objects.exists()


def test_it_requires_a_value_for_a_new_secret(admin_client, app):
    response = add_secret(admin_client, app, "")
    assert "Enter the secret value." in response.content.decode()
    assert not ClientSecret.objects.exists()


def test_it_keeps_the_value_when_a_change_leaves_it_blank(admin_client, app, canary):
    value = canary()
    add_secret(admin_client, app, value)
    secret = ClientSecret.objects.get()
    url = reverse("admin:onboarding_clientsecret_change", args=[secret.pk])
    data = {"app": str(app.pk), "secret_id": str(secret.secret_id), "new_value": ""}
    response = admin_client.post(url, {**data, "expires_on": "2031-01-31", "status": "active"})
    assert response.status_code == 302
    secret.refresh_from_db()
    # The status is read-only on the form: a posted status is ignored.
    assert (secret.reveal(), secret.expires_on.isoformat(), secret.status) == (
        value,
        "2031-01-31",
        "pending",
    )
    # It changes through the list's audited action instead.
    changelist = reverse("admin:onboarding_clientsecret_changelist")
    response = admin_client.post(
        changelist, {"action": "activate", "_selected_action": [str(secret.pk)]}
    )
    assert response.status_code == 302
    secret.refresh_from_db()
    assert (secret.reveal(), secret.status) == (value, "active")
    event = AuditEvent.objects.get(action="client_secret.active")
    assert (event.object_id, event.actor_label) == (str(secret.pk), "root@vendor.example")
    assert event.details["previous"] == "pending"
    assert event.details["via"] == "admin"


def test_it_takes_a_mailbox_password_write_only_and_can_forget_it(admin_client, acme, canary):
    password = canary("password")
    add_url = reverse("admin:onboarding_mailbox_add")
    data = {"tenant": str(acme.pk), "address": "ops@acme.example"}
    assert admin_client.post(add_url, {**data, "new_password": password}).status_code == 302
    mailbox = Mailbox.objects.get()
    assert mailbox.reveal_password() == password
    change_url = reverse("admin:onboarding_mailbox_change", args=[mailbox.pk])
    page = admin_client.get(change_url).content.decode()
    assert "test-1" in page
    assert 'type="password" name="new_password"' in page
    assert_absent_from_database(password)
    admin_client.post(change_url, {**data, "forget_password": "on"})
    mailbox.refresh_from_db()
    assert (mailbox.reveal_password(), mailbox.password_key_id) == (None, "")


@pytest.mark.parametrize(
    ("url_name", "field"),
    [
        ("admin:onboarding_clientsecret_add", "new_value"),
        ("admin:onboarding_mailbox_add", "new_password"),
    ],
)
def test_it_hides_typed_secrets_from_error_reports(admin_client, url_name, field, canary):
    seen = {}

    def capture(self, request, *args, **kwargs):
        seen["post"] = SafeExceptionReporterFilter().get_post_parameters(request)
        return HttpResponse("captured")

    with mock.patch.object(ModelAdmin, "_changeform_view", capture):
        admin_client.post(reverse(url_name), {field: canary(), "address": "ops@acme.example"})
    assert seen["post"][field] == SafeExceptionReporterFilter.cleansed_substitute
    assert seen["post"]["address"] == "ops@acme.example"
