"""ROPC (username + password) with msal's PublicClientApplication, as the operations app
does with the mailbox password; and with a ConfidentialClientApplication."""

import jwt
import pytest

from microsoft_emulator.scenarios import ready_directory

pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")


@pytest.fixture
def delegated(emulator):
    return ready_directory(emulator, delegated=("Mail.Read", "Mail.Send", "User.Read"))


def scopes(emulator, *names):
    return [f"{emulator.graph_url}/{name}" for name in names]


def test_it_signs_a_user_in_with_a_password(emulator, pca, delegated):
    app = pca(delegated.app.client_id, delegated.directory.id)
    result = app.acquire_token_by_username_password(
        delegated.mailbox.upn, "Mailbox-pass-1", scopes(emulator, "Mail.Read")
    )
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["scp"] == "Mail.Read"
    assert claims["upn"] == delegated.mailbox.upn
    assert result["id_token_claims"]["preferred_username"] == delegated.mailbox.upn
    assert "refresh_token" in result
    assert emulator.counters()["requests"]["userrealm"] == 1
    assert emulator.counters()["grants"] == {"password": 1}


def test_it_signs_in_through_the_organizations_endpoint(emulator, pca, delegated):
    app = pca(delegated.app.client_id, "organizations")
    result = app.acquire_token_by_username_password(
        delegated.mailbox.upn, "Mailbox-pass-1", scopes(emulator, "Mail.Read")
    )
    assert result["id_token_claims"]["tid"] == delegated.directory.id


def test_it_signs_in_with_a_confidential_client_and_its_secret(emulator, cca, delegated):
    app = cca(delegated.app.client_id, delegated.secret.value, delegated.directory.id)
    result = app.acquire_token_by_username_password(
        delegated.mailbox.upn, "Mailbox-pass-1", scopes(emulator, "Mail.Send")
    )
    assert (
        jwt.decode(result["access_token"], options={"verify_signature": False})["appidacr"] == "1"
    )


def ropc_error(emulator, pca, ready, username, password, names=("Mail.Read",)):
    app = pca(ready.app.client_id, ready.directory.id)
    return app.acquire_token_by_username_password(username, password, scopes(emulator, *names))


def test_it_refuses_a_wrong_password_with_aadsts50126(emulator, pca, delegated):
    result = ropc_error(emulator, pca, delegated, delegated.mailbox.upn, "wrong")
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50126]
    assert (
        "Error validating credentials due to invalid username or password."
        in result["error_description"]
    )


def test_it_refuses_a_user_of_another_directory_with_aadsts50034(emulator, pca, delegated):
    result = ropc_error(emulator, pca, delegated, "nobody@contoso.onmicrosoft.com", "x")
    assert result["error_codes"] == [50034]


def test_it_requires_mfa_with_aadsts50076(emulator, pca, delegated):
    emulator.update_user(delegated.mailbox, mfa_required=True)
    result = ropc_error(emulator, pca, delegated, delegated.mailbox.upn, "Mailbox-pass-1")
    assert result["error_codes"] == [50076]
    assert result["suberror"] == "basic_action"
    assert "you must use multi-factor authentication" in result["error_description"]


@pytest.mark.parametrize(
    ("blocked", "code"), [("locked", 50053), ("disabled", 50057), ("password_expired", 50055)]
)
def test_it_refuses_blocked_accounts(emulator, pca, delegated, blocked, code):
    emulator.update_user(delegated.mailbox, blocked=blocked)
    assert ropc_error(emulator, pca, delegated, delegated.mailbox.upn, "Mailbox-pass-1")[
        "error_codes"
    ] == [code]


def test_it_requires_delegated_consent_with_aadsts65001(emulator, pca):
    guide_only = ready_directory(emulator)  # application permissions only, as in the guide
    result = ropc_error(emulator, pca, guide_only, guide_only.mailbox.upn, "Mailbox-pass-1")
    assert result["error_codes"] == [65001]
    assert result["suberror"] == "consent_required"
    assert f"application with ID '{guide_only.app.client_id}'" in result["error_description"]


def test_it_refuses_a_public_client_when_public_flows_are_off_with_aadsts7000218(emulator, pca):
    closed = ready_directory(emulator, delegated=("Mail.Read",), public_client=False)
    result = ropc_error(emulator, pca, closed, closed.mailbox.upn, "Mailbox-pass-1")
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000218]


def test_it_refuses_personal_accounts_for_ropc_as_msal_does(emulator, pca, delegated):
    emulator.add_personal_account("someone@outlook.com", "Personal-pass-1")
    with pytest.raises(ValueError, match="Unable to find wstrust endpoint from MEX"):
        ropc_error(emulator, pca, delegated, "someone@outlook.com", "Personal-pass-1")


def test_it_refuses_ropc_on_the_consumers_endpoint_with_aadsts9001023(emulator, http, delegated):
    response = http.post(
        f"{emulator.login_url}/consumers/oauth2/v2.0/token",
        data={
            "client_id": delegated.app.client_id,
            "grant_type": "password",
            "username": "someone@outlook.com",
            "password": "x",
            "scope": "Mail.Read",
        },
    )
    assert response.json()["error_codes"] == [9001023]


def test_it_refreshes_a_password_token(emulator, pca, delegated):
    app = pca(delegated.app.client_id, delegated.directory.id)
    wanted = scopes(emulator, "Mail.Read")
    app.acquire_token_by_username_password(delegated.mailbox.upn, "Mailbox-pass-1", wanted)
    account = app.get_accounts()[0]
    refreshed = app.acquire_token_silent(wanted, account=account, force_refresh=True)
    assert refreshed["token_source"] == "identity_provider"
    assert emulator.counters()["grants"]["refresh_token"] == 1


def test_it_refuses_a_refresh_token_after_the_user_is_disabled(emulator, pca, delegated):
    app = pca(delegated.app.client_id, delegated.directory.id)
    wanted = scopes(emulator, "Mail.Read")
    app.acquire_token_by_username_password(delegated.mailbox.upn, "Mailbox-pass-1", wanted)
    emulator.update_user(delegated.mailbox, blocked="disabled")
    result = app.acquire_token_silent_with_error(
        wanted, account=app.get_accounts()[0], force_refresh=True
    )
    assert result["error_codes"] == [50057]
