"""POST /api/v1/connections/{id}/credentials: the legacy hand-off, sealed to the
operations app's public key, off by default, audited with its reason."""

from __future__ import annotations

import json

import pytest
from jwcrypto import jwe, jwk

from api import handoff
from api.models import ApiCall
from onboarding.models import AuditEvent
from tests.api.conftest import seed_connection

pytestmark = pytest.mark.django_db

REASON = {"reason": "The dispatch host still runs the IMAP client"}


@pytest.fixture(scope="module")
def private_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048, kid="ops-2026")


@pytest.fixture
def on(settings):
    settings.PORTAL_API_CREDENTIAL_EXPORT = True


def path(box) -> str:
    return f"/api/v1/connections/{box.pk}/credentials"


def test_it_is_off_unless_the_portal_turns_it_on(make_key, api, acme_box, private_key):
    key = make_key("credentials:export", public_jwk=json.loads(private_key.export_public()))
    response = api(key).post(path(acme_box), REASON, format="json")
    assert response.status_code == 403
    assert "turned off" in response.json()["detail"]
    assert not ApiCall.objects.exists()
    assert not AuditEvent.objects.filter(action="api.credentials_exported").exists()


def test_it_seals_the_guides_five_values_to_the_registered_key(
    on, make_key, api, acme, private_key, canary
):
    secret, password = canary(), canary("password")
    box = seed_connection(acme, "orders@acme.example", secret_value=secret)
    box.set_password(password)
    box.save()
    key = make_key(
        "credentials:export", name="Legacy ops", public_jwk=json.loads(private_key.export_public())
    )
    response = api(key).post(path(box), REASON, format="json")
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert (body["alg"], body["enc"], body["kid"]) == ("RSA-OAEP-256", "A256GCM", "ops-2026")
    sealed = jwe.JWE()
    sealed.deserialize(body["jwe"], key=private_key)
    values = json.loads(sealed.payload)
    assert values["client_id"] == "11111111-2222-3333-4444-555555555555"
    assert values["client_secret"] == secret
    assert values["client_secret_id"] == "99999999-8888-7777-6666-555555555555"
    assert values["mailbox_username"] == "orders@acme.example"
    assert values["mailbox_password"] == password
    header = json.loads(sealed.objects["protected"])
    assert (header["alg"], header["enc"]) == ("RSA-OAEP-256", "A256GCM")
    # Audited, for the tenant's page in support, with the reason and never a value.
    event = AuditEvent.objects.get(action="api.credentials_exported")
    assert event.tenant == acme
    assert event.details["service_account"] == "Legacy ops"
    assert event.details["reason"] == REASON["reason"]
    call = ApiCall.objects.get()
    assert (call.action, call.details) == ("credentials.export", REASON)
    # The canary fixture fails the test if the secret or password reached a response
    # in clear, a log or a table.


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 400), ({"reason": ""}, 400), ({"reason": "x" * 501}, 400), ({"reason": 5}, 400)],
)
def test_it_needs_a_reason(on, body, status, make_key, api, acme_box, private_key):
    key = make_key("credentials:export", public_jwk=json.loads(private_key.export_public()))
    response = api(key).post(path(acme_box), body, format="json")
    assert response.status_code == status
    assert "reason" in response.json()["errors"]
    assert not AuditEvent.objects.filter(action="api.credentials_exported").exists()


def test_without_a_registered_key_it_is_a_409(on, make_key, api, acme_box):
    response = api(make_key("credentials:export")).post(path(acme_box), REASON, format="json")
    assert response.status_code == 409
    assert response.json()["type"] == "urn:mailbox-portal:problem:no-public-key"
    assert not AuditEvent.objects.filter(action="api.credentials_exported").exists()


def test_a_connection_without_a_usable_secret_is_a_409(on, make_key, api, acme, private_key):
    box = seed_connection(acme, "new@acme.example", with_secret=False)
    key = make_key("credentials:export", public_jwk=json.loads(private_key.export_public()))
    response = api(key).post(path(box), REASON, format="json")
    assert response.status_code == 409
    assert response.json()["diagnosis"]["code"] == "secret_missing"


def test_only_public_rsa_keys_of_2048_bits_or_more_are_accepted(private_key):
    assert handoff.public_key(json.loads(private_key.export_public()))
    with pytest.raises(handoff.InvalidPublicKey, match="private key"):
        handoff.public_key(json.loads(private_key.export_private()))
    small = jwk.JWK.generate(kty="RSA", size=1024)
    with pytest.raises(handoff.InvalidPublicKey, match="2048"):
        handoff.public_key(json.loads(small.export_public()))
    with pytest.raises(handoff.InvalidPublicKey, match="RSA"):
        handoff.public_key(json.loads(jwk.JWK.generate(kty="EC").export_public()))
    with pytest.raises(handoff.InvalidPublicKey, match="not a valid"):
        handoff.public_key({"kty": "RSA", "n": "!!", "e": "AQAB"})


def test_support_registers_and_removes_the_public_key(private_key, charlie):
    from accounts.actors import Actor
    from api import keys

    account = keys.create_account(name="Ops", scopes=["credentials:export"]).key.account
    public = json.loads(private_key.export_public())
    keys.set_public_key(account, public, actor=Actor(user=charlie))
    account.refresh_from_db()
    assert account.public_jwk == public
    with pytest.raises(handoff.InvalidPublicKey):
        keys.set_public_key(account, json.loads(private_key.export_private()))
    with pytest.raises(handoff.InvalidPublicKey):
        keys.create_account(
            name="Bad", scopes=["credentials:export"], public_jwk={"kty": "oct", "k": "AA"}
        )
    keys.set_public_key(account, None)
    account.refresh_from_db()
    assert account.public_jwk is None
    actions = list(
        AuditEvent.objects.filter(action__startswith="api.public_key").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["api.public_key_removed", "api.public_key_set"]
