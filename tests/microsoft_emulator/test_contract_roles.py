"""The emulator's own answers about roles and consent, held to what Microsoft recorded or
documents (tests/recordings/). Where they disagree the recording wins."""

import json

import pytest

from tests.microsoft_emulator.conftest import claims, graph_scope
from tests.recordings import load


@pytest.fixture
def token_response(emulator, cca):
    def acquire(ready):
        app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
        return app.acquire_token_for_client(graph_scope(emulator))

    return acquire


def inbox(http, emulator, access_token, upn):
    return http.get(
        f"{emulator.graph_url}/v1.0/users/{upn}/mailFolders/inbox/messages",
        params={"$top": "1"},
        headers={"Authorization": f"Bearer {access_token}"},
    )


def test_a_token_without_the_mail_permission_is_refused_as_recorded(
    emulator, http, unconsented, token_response
):
    recorded = load("graph_access_denied_without_mail_permission")
    own = inbox(
        http, emulator, token_response(unconsented)["access_token"], unconsented.mailbox.upn
    )
    assert own.status_code == recorded.status
    assert {k: own.json()["error"][k] for k in ("code", "message")} == recorded.json()["error"]


def test_the_refusal_has_graphs_full_shape(emulator, http, unconsented, token_response):
    recorded = load("graph_access_denied_full_response")
    own = inbox(
        http, emulator, token_response(unconsented)["access_token"], unconsented.mailbox.upn
    )
    # The recording's quote stops before the body's last brace: compare field by field.
    for field in ("code", "message", "date", "request-id"):
        assert f'"{field}"' in recorded.body
    error = own.json()["error"]
    assert error["code"] in recorded.body
    assert error["message"] in recorded.body
    assert {"date", "request-id"} <= set(error["innerError"])
    assert own.headers["request-id"] == error["innerError"]["request-id"]
    assert own.headers["Content-Type"].startswith(recorded.headers["Content-Type"])
    assert own.status_code == recorded.status


def test_graph_honours_exchange_grants_the_token_does_not_show(
    emulator, http, unconsented, token_response
):
    # "These permission grants are independent of the unscoped grants in Microsoft
    # Entra ID" and the two are "a union": consent removed, Exchange's grant works.
    documented = load("exchange_rbac_for_applications").statement
    assert "independent of the unscoped grants in Microsoft Entra ID" in documented
    assert "union operation" in documented
    emulator.add_exchange_role_assignment(
        unconsented.app, unconsented.directory, "Application Mail.Read", [unconsented.mailbox.upn]
    )
    access = token_response(unconsented)["access_token"]
    assert "roles" not in claims(access)
    assert inbox(http, emulator, access, unconsented.mailbox.upn).status_code == 200


def test_an_exchange_grant_does_not_narrow_entras_consent(emulator, http, ready, token_response):
    # The document's FAQ: a scoped Exchange grant next to Entra's Mail.Read results in
    # "no effective resource scoping".
    assert "union" in load("exchange_rbac_for_applications").statement
    emulator.add_exchange_role_assignment(
        ready.app, ready.directory, "Application Mail.Read", [ready.admin.upn]
    )
    access = token_response(ready)["access_token"]
    assert inbox(http, emulator, access, ready.mailbox.upn).status_code == 200


def test_app_only_tokens_are_issued_without_roles_and_say_nothing_of_them(
    emulator, unconsented, token_response
):
    documented = load("token_roles_not_for_clients")
    assert "shouldn't understand or attempt to parse it" in documented.statement
    response = token_response(unconsented)
    assert "roles" not in claims(response["access_token"])
    # What the client is given besides the opaque token: no roles, no scope.
    assert {"token_type", "expires_in", "access_token"} <= set(response)
    assert not {"roles", "scope"} & set(response)


def test_tokens_lack_the_roles_for_a_while_after_consent_and_graph_refuses_them(
    emulator, http, unconsented, token_response
):
    assert (
        "does not contain the permissions"
        in load("consent_propagation_token_without_roles").statement
    )
    assert (
        "it takes a while before the 403 disappears and returns a 200"
        in load("graph_forbidden_until_consent_propagates").statement
    )
    emulator.set_consent_propagation(60)
    emulator.grant_admin_consent(unconsented.app, unconsented.directory)
    early = token_response(unconsented)["access_token"]
    assert "roles" not in claims(early)
    assert inbox(http, emulator, early, unconsented.mailbox.upn).status_code == 403
    emulator.advance_clock(61)
    late = token_response(unconsented)["access_token"]
    assert inbox(http, emulator, late, unconsented.mailbox.upn).status_code == 200


def test_the_recorded_401_for_a_token_without_permissions_replays_verbatim(
    emulator, http, ready, token_response
):
    recorded = load("graph_sendmail_no_permissions_in_access_token")
    recorded.replay_into(emulator)
    response = http.post(
        f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}/sendMail",
        headers={"Authorization": f"Bearer {token_response(ready)['access_token']}"},
        json={},
    )
    assert (response.status_code, response.text) == (recorded.status, recorded.body)
    assert json.loads(response.text)["error"]["code"] == "NoPermissionsInAccessToken"
