"""The emulator's own user realm (api-version 1.0) held to Microsoft's recorded answers:
managed, federated with AD FS, and Outlook.com (tests/recordings/userrealm_*.json)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.recordings import load

# What stays the same from one organisation to another (the rest names its domain).
FIXED = ("ver", "account_type", "federation_protocol", "cloud_instance_name", "cloud_audience_urn")


def realm(emulator, http, upn: str) -> dict[str, object]:
    response = http.get(f"{emulator.login_url}/common/userrealm/{upn}?api-version=1.0")
    assert response.status_code == 200
    return response.json()


def fixed(answer: dict[str, object]) -> dict[str, object]:
    return {name: answer.get(name) for name in FIXED}


def test_it_answers_a_managed_domain_as_microsoft_does(emulator, http, ready):
    recorded = load("userrealm_managed").json()
    answer = realm(emulator, http, ready.mailbox.upn)
    assert set(answer) == set(recorded)
    assert fixed(answer) == fixed(recorded)
    assert answer["domain_name"] == "contoso.onmicrosoft.com"


@pytest.fixture
def federated(emulator, ready):
    """Contoso's own domain contoso.example, federated with its AD FS."""
    emulator.federate_domain(ready.directory, "contoso.example")
    return emulator.add_user(ready.directory, "ann@contoso.example", "Ann-pass-1")


def test_it_answers_a_federated_domain_as_microsoft_does(emulator, http, federated):
    recorded = load("userrealm_federated_adfs").json()
    answer = realm(emulator, http, federated.upn)
    assert set(answer) == set(recorded) == set(load("userrealm_federated").json())
    assert fixed(answer) == fixed(recorded)
    assert answer["domain_name"] == "contoso.example"
    # The customer's AD FS, at AD FS's own paths, as in the recording.
    for name in ("federation_metadata_url", "federation_active_auth_url"):
        ours, theirs = urlsplit(str(answer[name])), urlsplit(str(recorded[name]))
        assert (ours.scheme, ours.hostname, ours.path) == (
            theirs.scheme,
            "sts.contoso.example",
            theirs.path,
        )


def test_it_answers_for_a_federated_domain_whatever_the_user(emulator, http, federated):
    # The realm belongs to the domain: a user Entra has not synced yet gets it too.
    assert realm(emulator, http, "newhire@contoso.example")["account_type"] == "Federated"
    assert realm(emulator, http, "newhire@contoso.onmicrosoft.com")["account_type"] == "Managed"


def test_it_answers_an_outlook_com_account_as_microsoft_does(emulator, http):
    recorded = load("userrealm_personal_account").json()
    emulator.add_personal_account("someone@outlook.com", "Personal-pass-1")
    answer = realm(emulator, http, "someone@outlook.com")
    assert set(recorded) <= set(answer)
    assert fixed(answer) | {"ver": None} == fixed(recorded) | {"ver": None}  # no ver recorded
    assert answer["domain_name"] == recorded["domain_name"] == "live.com"


def test_the_control_api_federates_a_domain(emulator, http, ready):
    url = f"{emulator.base_url}/_emulator/directories/{ready.directory.id}/federated-domains"
    created = http.post(url, json={"domain": "contoso.example"})
    assert created.status_code == 201
    assert created.json()["federated_domains"] == ["contoso.example"]
    assert "contoso.example" in created.json()["domains"]
    assert realm(emulator, http, "ann@contoso.example")["account_type"] == "Federated"
    assert http.post(url, json={"domain": "a/b"}).status_code == 400
