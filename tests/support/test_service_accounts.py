"""Support's service-account pages: create (the key shown once), rotate, revoke, the
list, and the messages for bad input."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from jwcrypto import jwk

from api import keys
from api.models import ServiceAccount, ServiceKey
from onboarding.models import AuditEvent, Tenant

CREATE = "/support/service-accounts/new/"
LIST = "/support/service-accounts/"


@pytest.fixture(scope="module")
def rsa_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048)


def _post(client, follow=False, **overrides):
    data = {
        "name": "Operations app, production",
        "scopes": ["connections:read", "tokens:issue"],
        "tenants": "",
        "expires_in_days": "365",
        "public_jwk": "",
        **overrides,
    }
    return client.post(CREATE, data, follow=follow)


KEY = re.compile(
    rf"{keys.PREFIX}[a-z0-9]{{{keys.KEY_ID_LENGTH}}}_[A-Za-z0-9]{{{keys.SECRET_LENGTH}}}"
)


def _key_value(response) -> str:
    """The one full key on the page (in the text and in the copy button)."""
    found = set(KEY.findall(response.content.decode()))
    assert len(found) == 1, found
    return found.pop()


def test_creating_an_account_shows_its_key_once_and_stores_only_a_hash(staff_client, acme):
    response = _post(staff_client, tenants="Acme Logistics")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "shown only this once" in page
    value = _key_value(response)
    key = keys.authenticate(value)
    assert key is not None
    account = key.account
    assert account.name == "Operations app, production"
    assert account.scopes == ["connections:read", "tokens:issue"]
    assert list(account.tenants.all()) == [acme]
    assert account.expires_at is not None
    assert timedelta(days=364) < account.expires_at - timezone.now() <= timedelta(days=365)
    assert value not in str(ServiceKey.objects.values_list().get())
    event = AuditEvent.objects.get(action="api.service_account_created")
    assert event.actor_label == "charlie@vendor.example"
    assert value not in json.dumps(event.details)

    # Never again: the list shows the key's public start only.
    listing = staff_client.get(LIST).content.decode()
    assert f"{keys.PREFIX}{key.key_id}_…" in listing
    assert value not in listing
    assert "Acme Logistics" in listing
    assert "Read connections" in listing


def test_an_account_for_every_tenant_is_listed_as_all(staff_client):
    keys.create_account(name="Everything app", scopes=["connections:read"])
    page = staff_client.get(LIST).content.decode()
    assert "Everything app" in page
    assert ">All<" in page
    assert "Never" in page  # never used


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "   "}, "Give the service account a name."),
        ({"scopes": []}, "Choose at least one thing it may do."),
        ({"scopes": ["mail:everything"]}, "Select a valid choice."),
        (
            {"tenants": "Nobody Ltd"},
            "No tenant is named or has the customer reference: Nobody Ltd.",
        ),
        ({"expires_in_days": "0"}, "It must last at least 1 day."),
        ({"expires_in_days": "9999"}, "It may last at most 730 days"),
        ({"expires_in_days": "soon"}, "Enter a whole number of days."),
        ({"public_jwk": "{not json"}, "The public key is not valid JSON"),
        ({"public_jwk": '["a list"]'}, "The public key must be one JWK"),
        ({"public_jwk": '{"kty": "EC", "crv": "P-256"}'}, "The public key must be an RSA JWK"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(staff_client, overrides, message):
    response = _post(staff_client, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ServiceAccount.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="api.").exists()


def test_a_private_or_small_rsa_key_is_refused(staff_client, rsa_key):
    private = _post(staff_client, public_jwk=rsa_key.export_private())
    assert private.status_code == 400
    assert "Register the public key only" in private.content.decode()
    # The pasted private key is not echoed back into the form.
    assert json.loads(rsa_key.export_private())["d"] not in private.content.decode()
    small = jwk.JWK.generate(kty="RSA", size=1024).export_public()
    response = _post(staff_client, public_jwk=small)
    assert response.status_code == 400
    assert "at least 2048 bits" in response.content.decode()
    assert not ServiceAccount.objects.exists()


def test_a_public_rsa_key_is_registered(staff_client, rsa_key):
    response = _post(
        staff_client, public_jwk=rsa_key.export_public(), scopes=["credentials:export"]
    )
    assert response.status_code == 200
    account = ServiceAccount.objects.get()
    assert account.public_jwk == json.loads(rsa_key.export_public())
    assert "d" not in account.public_jwk
    assert "Public key registered" in staff_client.get(LIST).content.decode()


def test_a_tenant_can_be_named_by_its_customer_reference(staff_client, acme):
    Tenant.objects.filter(pk=acme.pk).update(customer_reference="CRM-0042")
    assert _post(staff_client, tenants="crm-0042\n\n").status_code == 200
    assert list(ServiceAccount.objects.get().tenants.all()) == [acme]


def test_rotating_shows_the_new_key_once_and_keeps_the_old_one_for_the_overlap(staff_client):
    old = keys.create_account(name="Ops", scopes=["tokens:issue"])
    url = f"/support/service-accounts/{old.key.account_id}/rotate/"
    assert "The old keys keep working for" in staff_client.get(url).content.decode()
    response = staff_client.post(url, {"overlap_hours": "24"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new_value = _key_value(response)
    assert new_value != old.value
    assert keys.authenticate(new_value) is not None
    assert keys.authenticate(old.value) is not None  # still inside the overlap
    old.key.refresh_from_db()
    assert old.key.expires_at is not None
    assert timedelta(hours=23) < old.key.expires_at - timezone.now() <= timedelta(hours=24)
    assert "keep working until" in response.content.decode()
    assert AuditEvent.objects.filter(action="api.service_key_rotated").count() == 1


def test_rotating_without_overlap_ends_the_old_key_now(staff_client):
    old = keys.create_account(name="Ops", scopes=["tokens:issue"])
    url = f"/support/service-accounts/{old.key.account_id}/rotate/"
    response = staff_client.post(url, {"overlap_hours": "0"})
    assert "The old keys stopped working now." in response.content.decode()
    assert keys.authenticate(old.value) is None


def test_rotating_with_an_unknown_overlap_is_refused(staff_client):
    old = keys.create_account(name="Ops", scopes=["tokens:issue"])
    url = f"/support/service-accounts/{old.key.account_id}/rotate/"
    response = staff_client.post(url, {"overlap_hours": "9000"})
    assert response.status_code == 400
    assert "Choose how long the old keys keep working." in response.content.decode()
    assert ServiceKey.objects.count() == 1


def test_revoking_asks_first_then_takes_effect_at_once(staff_client):
    issued = keys.create_account(name="Ops", scopes=["tokens:issue"])
    url = f"/support/service-accounts/{issued.key.account_id}/revoke/"
    question = staff_client.get(url)
    assert "Revoke Ops?" in question.content.decode()
    assert keys.authenticate(issued.value) is not None  # asking changed nothing
    response = staff_client.post(url, follow=True)
    assert "Ops is revoked: its keys no longer work." in response.content.decode()
    assert keys.authenticate(issued.value) is None
    assert AuditEvent.objects.filter(action="api.service_account_revoked").count() == 1
    # A revoked account gets no new key.
    rotate = staff_client.post(
        f"/support/service-accounts/{issued.key.account_id}/rotate/",
        {"overlap_hours": "0"},
        follow=True,
    )
    assert "a revoked account gets no new key" in rotate.content.decode()
    assert ServiceKey.objects.count() == 1


def test_revoking_one_key_leaves_the_others(staff_client):
    old = keys.create_account(name="Ops", scopes=["tokens:issue"])
    new = keys.rotate(old.key.account, old_valid_until=timezone.now() + timedelta(days=1))
    url = f"/support/service-accounts/{old.key.account_id}/keys/{old.key.pk}/revoke/"
    assert "The other keys of Ops keep working." in staff_client.get(url).content.decode()
    staff_client.post(url)
    assert keys.authenticate(old.value) is None
    assert keys.authenticate(new.value) is not None
    assert AuditEvent.objects.filter(action="api.service_key_revoked").count() == 1


def test_a_key_of_another_account_is_a_404(staff_client):
    one = keys.create_account(name="One", scopes=["tokens:issue"])
    two = keys.create_account(name="Two", scopes=["tokens:issue"])
    url = f"/support/service-accounts/{one.key.account_id}/keys/{two.key.pk}/revoke/"
    assert staff_client.post(url).status_code == 404
    assert keys.authenticate(two.value) is not None


def test_an_expired_account_gets_no_new_key(staff_client):
    issued = keys.create_account(
        name="Old ops", scopes=["tokens:issue"], expires_at=timezone.now() - timedelta(days=1)
    )
    url = f"/support/service-accounts/{issued.key.account_id}/rotate/"
    response = staff_client.post(url, {"overlap_hours": "0"}, follow=True)
    assert "Old ops has expired: create a new service account instead." in (
        response.content.decode()
    )
    assert ServiceKey.objects.count() == 1
    assert "Expired" in staff_client.get(LIST).content.decode()


def test_sending_the_create_form_twice_creates_one_account(staff_client):
    form_id = "6f0c8f4e-7a3b-4d0e-9a55-0d8e2f1b9c11"
    first = _post(staff_client, form_id=form_id)
    assert first.status_code == 200
    again = _post(staff_client, form_id=form_id, follow=True)
    page = again.content.decode()
    assert "was already created and its key shown once" in page
    assert not KEY.search(page)
    assert ServiceAccount.objects.count() == 1
    # Another filled-in form is another account.
    assert _post(staff_client, form_id="0d3c1a8e-5a1b-4c4e-8f00-1f2e3d4c5b6a").status_code == 200
    assert ServiceAccount.objects.count() == 2
