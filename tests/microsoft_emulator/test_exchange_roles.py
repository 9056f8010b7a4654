"""The emulator's Exchange RBAC for Applications (mailbox access granted outside Entra)
and its consent propagation delay: behaviour, control API and state."""

import pytest

from microsoft_emulator.scenarios import ready_directory
from microsoft_emulator.state import state_from_plain
from tests.microsoft_emulator.conftest import claims, graph_scope


@pytest.fixture
def token(emulator, cca):
    def acquire(ready):
        app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
        return app.acquire_token_for_client(graph_scope(emulator))["access_token"]

    return acquire


def call(http, emulator, token, method, path, **kwargs):
    headers = {"Authorization": f"Bearer {token}"}
    return http.request(method, f"{emulator.graph_url}/v1.0{path}", headers=headers, **kwargs)


def read(http, emulator, token, upn):
    return call(http, emulator, token, "GET", f"/users/{upn}/mailFolders/inbox/messages")


def send(http, emulator, token, upn):
    message = {
        "message": {
            "subject": "Hi",
            "body": {"contentType": "Text", "content": "Hi"},
            "toRecipients": [{"emailAddress": {"address": upn}}],
        },
        "saveToSentItems": False,
    }
    return call(http, emulator, token, "POST", f"/users/{upn}/sendMail", json=message)


# --- RBAC for Applications ----------------------------------------------------------


def test_it_lets_a_token_without_roles_use_the_mailboxes_exchange_grants(
    emulator, http, unconsented, token
):
    emulator.add_exchange_role_assignment(
        unconsented.app,
        unconsented.directory,
        "Application Mail Full Access",
        [unconsented.mailbox.upn],
    )
    access = token(unconsented)
    assert "roles" not in claims(access)
    assert read(http, emulator, access, unconsented.mailbox.upn).status_code == 200
    assert send(http, emulator, access, unconsented.mailbox.upn).status_code == 202


def test_it_refuses_mailboxes_outside_the_assignment_as_graph_does(
    emulator, http, unconsented, token
):
    emulator.add_exchange_role_assignment(
        unconsented.app, unconsented.directory, "Application Mail.Read", [unconsented.admin.upn]
    )
    response = read(http, emulator, token(unconsented), unconsented.mailbox.upn)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ErrorAccessDenied"
    assert response.json()["error"]["message"] == (
        "Access is denied. Check credentials and try again."
    )


def test_an_assignment_without_mailboxes_covers_every_mailbox(emulator, http, unconsented, token):
    emulator.add_exchange_role_assignment(
        unconsented.app, unconsented.directory, "Application Mail.Read"
    )
    access = token(unconsented)
    for user in (unconsented.mailbox, unconsented.admin):
        assert read(http, emulator, access, user.upn).status_code == 200


def test_a_role_grants_only_its_own_permissions(emulator, http, unconsented, token):
    emulator.add_exchange_role_assignment(
        unconsented.app, unconsented.directory, "Application Mail.Send"
    )
    access = token(unconsented)
    assert send(http, emulator, access, unconsented.mailbox.upn).status_code == 202
    assert read(http, emulator, access, unconsented.mailbox.upn).status_code == 403


def test_an_assignment_of_another_app_or_directory_grants_nothing(emulator, http, token):
    one = ready_directory(emulator, "Fabrikam", consent=False)
    other = ready_directory(emulator, "Tailspin", consent=False)
    emulator.add_exchange_role_assignment(other.app, other.directory, "Application Mail.Read")
    assert read(http, emulator, token(one), one.mailbox.upn).status_code == 403


def test_an_access_policy_constrains_entras_roles_but_not_exchanges(emulator, http, ready, token):
    emulator.add_access_policy(ready.app, ready.directory, [ready.admin.upn])
    refused = read(http, emulator, token(ready), ready.mailbox.upn)
    assert refused.status_code == 403
    assert "RAOP" in refused.json()["error"]["message"]
    emulator.add_exchange_role_assignment(
        ready.app, ready.directory, "Application Mail.Read", [ready.mailbox.upn]
    )
    assert read(http, emulator, token(ready), ready.mailbox.upn).status_code == 200


def test_it_refuses_a_role_exchange_does_not_have(emulator, unconsented):
    with pytest.raises(ValueError, match="role is one of"):
        emulator.add_exchange_role_assignment(
            unconsented.app, unconsented.directory, "Application Mail.Everything"
        )


def test_the_control_api_adds_assignments_and_refuses_bad_ones(emulator, http, unconsented):
    base = f"{emulator.base_url}/_emulator/apps/{unconsented.app.client_id}"
    created = http.post(
        f"{base}/exchange-role-assignments",
        json={
            "directory": unconsented.directory.id,
            "role": "Application Mail.Read",
            "mailboxes": [unconsented.mailbox.upn],
        },
    )
    assert created.status_code == 201
    assert created.json() == {
        "directory_id": unconsented.directory.id,
        "client_id": unconsented.app.client_id,
        "role": "Application Mail.Read",
        "mailboxes": [unconsented.mailbox.upn],
    }
    bad = http.post(
        f"{base}/exchange-role-assignments",
        json={"directory": unconsented.directory.id, "role": "Mail.Read"},
    )
    assert bad.status_code == 400
    assert len(emulator.state.exchange_role_assignments) == 1


def test_assignments_and_the_delay_survive_a_state_file(emulator, unconsented):
    emulator.add_exchange_role_assignment(
        unconsented.app, unconsented.directory, "Application Mail.Send", ["a@fabrikam.example"]
    )
    emulator.set_consent_propagation(30)
    again = state_from_plain(emulator.snapshot())
    assert again.exchange_role_assignments == emulator.state.exchange_role_assignments
    assert again.consent_propagation_seconds == 30


# --- consent propagation ------------------------------------------------------------


def test_tokens_lack_the_roles_until_the_consent_has_propagated(emulator, http, unconsented, token):
    emulator.set_consent_propagation(120)
    emulator.grant_admin_consent(unconsented.app, unconsented.directory)
    early = token(unconsented)
    assert "roles" not in claims(early)
    assert read(http, emulator, early, unconsented.mailbox.upn).status_code == 403
    emulator.advance_clock(121)
    late = token(unconsented)  # a new msal app: a new token request
    assert claims(late)["roles"] == ["Mail.Read", "Mail.Send"]
    assert read(http, emulator, late, unconsented.mailbox.upn).status_code == 200
    # A token issued during the delay keeps what it had.
    assert read(http, emulator, early, unconsented.mailbox.upn).status_code == 403


def test_by_default_consent_reaches_tokens_at_once(emulator, unconsented, token):
    emulator.grant_admin_consent(unconsented.app, unconsented.directory)
    assert claims(token(unconsented))["roles"] == ["Mail.Read", "Mail.Send"]


def test_the_control_api_sets_the_delay(emulator, http):
    url = f"{emulator.base_url}/_emulator/consent-propagation"
    assert http.put(url, json={"seconds": 90}).json() == {"seconds": 90}
    assert emulator.state.consent_propagation_seconds == 90
    assert http.put(url, json={"seconds": -1}).status_code == 400
    assert http.put(url, json={"seconds": "soon"}).status_code == 400
