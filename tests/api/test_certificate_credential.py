"""The operations app's API for a connection whose app signs in with a certificate:
named as one, served by the token call, never handed off (its private key stays)."""

from __future__ import annotations

import json

import pytest
from jwcrypto import jwk

from microsoft_emulator.scenarios import ready_directory
from tests.onboarding.check_helpers import certificate_in_use, configure, through_the_wizard

pytestmark = pytest.mark.django_db


def test_the_api_names_a_certificate_and_never_hands_its_key_off(
    acme, alice, emulated_microsoft, make_key, api, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_API_CREDENTIAL_EXPORT = True
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    _, uploaded = certificate_in_use(
        acme, ready, emulated_microsoft, django_capture_on_commit_callbacks, by=alice
    )
    public = json.loads(jwk.JWK.generate(kty="RSA", size=2048).export_public())
    key = make_key("connections:read", "tokens:issue", "credentials:export", public_jwk=public)
    client = api(key)
    listed = client.get("/api/v1/connections/").json()["results"]
    assert listed[0]["credential"]["type"] == "certificate"
    assert listed[0]["credential"]["secret_id"] == uploaded.key_id
    token = client.post(f"/api/v1/connections/{mailbox.pk}/token")
    assert token.status_code == 200, token.content
    refused = client.post(
        f"/api/v1/connections/{mailbox.pk}/credentials", {"reason": "migration"}, format="json"
    )
    assert refused.status_code == 409, refused.content
    assert refused.json()["type"].endswith("certificate-credential")
    assert "PRIVATE KEY" not in refused.content.decode()
