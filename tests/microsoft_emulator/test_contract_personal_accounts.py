"""A personal Microsoft account (Outlook.com) through the authorization code flow with
PKCE, driven by msal at /consumers and /common, held to Microsoft's recorded answers
(tests/recordings/): the token responses' shape (token_auth_code_success,
token_refresh_success), the ID token's claims (id_token_personal_account_claims), the
home account ID (msa_home_account_id), the refusals (authorize_personal_account_work_only_app,
authorize_work_account_at_consumers, token_client_not_enabled_for_consumers) and the
refresh token's life (token_refresh_revoked_password_change, token_refresh_inactive)."""

from __future__ import annotations

import html
import json
import re

import pytest

from microsoft_emulator.scenarios import ready_directory
from microsoft_emulator.state import CONSUMERS_TENANT_ID
from tests.microsoft_emulator.conftest import callback, claims, csrf, query, sign_in
from tests.microsoft_emulator.test_contract_password_errors import words
from tests.microsoft_emulator.test_contract_refresh_errors import CLIENT_REQUEST_ID, assert_like
from tests.recordings import load

UPN, PASSWORD = "someone@outlook.com", "Outlook-Personal-2026!"
SCOPES = ("Mail.Read", "Mail.Send", "User.Read")
DAY = 24 * 3600


def recorded_keys(name: str) -> set[str]:
    """The keys of the docs' example token response. The docs' JSON ends in a comma
    after id_token, which no parser takes: dropped here, the recording stays as quoted."""
    return set(json.loads(re.sub(r",\s*}\s*$", "}", load(name).body)))


@pytest.fixture
def setup(emulator):
    """The guide's app, open to personal accounts, and an Outlook.com user with mail."""
    ready = ready_directory(emulator, delegated=SCOPES)
    emulator.update_app(ready.app, sign_in_audience="AzureADandPersonalMicrosoftAccount")
    person = emulator.add_personal_account(UPN, PASSWORD)
    emulator.add_message(person, "Hello", "From a friend.", sender="friend@example.com")
    return ready, person


def start(emulator, cca, ready, tenant="consumers", **options):
    app = cca(ready.app.client_id, ready.secret.value, tenant)
    flow = app.initiate_auth_code_flow(
        [f"{emulator.graph_url}/{name}" for name in ("Mail.Read", "Mail.Send")],
        redirect_uri="https://localhost",
        response_mode="form_post",
        **options,
    )
    return app, flow


def signed_in_page(http, flow, upn=UPN, password=PASSWORD):
    return sign_in(http, http.get(flow["auth_uri"], allow_redirects=False), upn, password)


def decide(http, page, decision):
    assert "Permissions requested" in page.text
    form = {"csrf": csrf(page.text), "decision": decision}
    return http.post(page.url, data=form, allow_redirects=False)


def redeem(emulator, http, cca, ready, tenant="consumers"):
    """A first sign-in of the personal account: consent, then msal redeems the code."""
    app, flow = start(emulator, cca, ready, tenant)
    answer = callback(decide(http, signed_in_page(http, flow), "accept"))
    return app, flow, app.acquire_token_by_auth_code_flow(flow, answer)


def raw_refresh(emulator, http, ready, token, tenant="consumers"):
    return http.post(
        f"{emulator.login_url}/{tenant}/oauth2/v2.0/token",
        data={
            "client_id": ready.app.client_id,
            "client_secret": ready.secret.value,
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_info": "1",
            "scope": f"{emulator.graph_url}/Mail.Read offline_access openid profile",
        },
        headers={"client-request-id": CLIENT_REQUEST_ID},
    )


# --- the code and its redemption -------------------------------------------------------


def test_msal_redeems_a_personal_accounts_code_as_the_docs_show(emulator, http, cca, setup):
    ready, person = setup
    _, flow, result = redeem(emulator, http, cca, ready)
    assert "error" not in result, result
    assert recorded_keys("token_auth_code_success") <= set(result)
    assert result["token_type"] == "Bearer"
    # tests/recordings/id_token_personal_account_claims.json
    id_claims = result["id_token_claims"]
    assert id_claims["tid"] == CONSUMERS_TENANT_ID
    assert id_claims["iss"] == f"{emulator.login_url}/{CONSUMERS_TENANT_ID}/v2.0"
    assert id_claims["oid"] == person.id
    assert id_claims["preferred_username"] == UPN
    # msal sends a hash of its nonce, and checks that hash comes back.
    assert id_claims["nonce"] == query(flow["auth_uri"])["nonce"]
    access = claims(result["access_token"])
    assert access["tid"] == CONSUMERS_TENANT_ID
    assert set(access["scp"].split()) == {"Mail.Read", "Mail.Send"}
    assert emulator.counters()["grants"] == {"authorization_code": 1}


def test_msal_files_the_account_under_the_consumer_tenant(emulator, http, cca, setup):
    ready, person = setup
    app, _, _ = redeem(emulator, http, cca, ready)
    (account,) = app.get_accounts()
    # uid.utid, uid an object ID of eight zero bytes (msa_home_account_id.json).
    assert account["home_account_id"] == f"{person.id}.{CONSUMERS_TENANT_ID}"
    assert person.id.startswith("00000000-0000-0000-")


def test_the_common_endpoint_serves_a_personal_account_the_same(emulator, http, cca, setup):
    ready, _ = setup
    _, _, result = redeem(emulator, http, cca, ready, tenant="common")
    assert result["id_token_claims"]["tid"] == CONSUMERS_TENANT_ID
    assert recorded_keys("token_auth_code_success") <= set(result)


def test_the_token_works_on_graph_for_the_personal_mailbox(emulator, http, cca, setup):
    ready, person = setup
    _, _, result = redeem(emulator, http, cca, ready)
    headers = {"Authorization": f"Bearer {result['access_token']}"}
    me = http.get(f"{emulator.graph_url}/v1.0/me", headers=headers)
    assert me.status_code == 403  # User.Read was not asked for: Graph refuses /me
    inbox = http.get(f"{emulator.graph_url}/v1.0/me/mailFolders/inbox/messages", headers=headers)
    assert inbox.status_code == 200, inbox.text
    assert [m["subject"] for m in inbox.json()["value"]] == ["Hello"]
    message = {
        "message": {
            "subject": "Reply",
            "body": {"contentType": "Text", "content": "Thanks."},
            "toRecipients": [{"emailAddress": {"address": ready.mailbox.upn}}],
        }
    }
    sent = http.post(f"{emulator.graph_url}/v1.0/me/sendMail", json=message, headers=headers)
    assert sent.status_code == 202, sent.text
    assert ready.mailbox.messages[-1].sender == UPN
    assert person.sent[-1].subject == "Reply"


def test_me_answers_with_user_read(emulator, http, cca, setup):
    ready, _ = setup
    app = cca(ready.app.client_id, ready.secret.value, "consumers")
    flow = app.initiate_auth_code_flow(
        [f"{emulator.graph_url}/User.Read"],
        redirect_uri="https://localhost",
        response_mode="form_post",
    )
    answer = callback(decide(http, signed_in_page(http, flow), "accept"))
    token = app.acquire_token_by_auth_code_flow(flow, answer)["access_token"]
    me = http.get(f"{emulator.graph_url}/v1.0/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["userPrincipalName"] == UPN


# --- consent ---------------------------------------------------------------------------


def test_the_consent_is_asked_once_and_kept_in_the_state(emulator, http, cca, setup):
    ready, person = setup
    redeem(emulator, http, cca, ready)
    (consent,) = emulator.snapshot()["personal_consents"]
    assert consent == {
        "client_id": ready.app.client_id,
        "user_id": person.id,
        "scopes": ["Mail.Read", "Mail.Send"],
    }
    app, flow = start(emulator, cca, ready)
    again = http.get(flow["auth_uri"], allow_redirects=False)  # still signed in
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, callback(again))


def test_a_declined_consent_comes_back_as_access_denied(emulator, http, cca, setup):
    ready, _ = setup
    app, flow = start(emulator, cca, ready)
    declined = callback(decide(http, signed_in_page(http, flow), "cancel"))
    result = app.acquire_token_by_auth_code_flow(flow, declined)
    assert result["error"] == "access_denied"
    assert result["error_description"].startswith("AADSTS65004")
    assert emulator.snapshot()["personal_consents"] == []


def test_prompt_select_account_changes_nothing_for_a_signed_in_user(emulator, http, cca, setup):
    ready, _ = setup
    redeem(emulator, http, cca, ready)
    app, flow = start(emulator, cca, ready, prompt="select_account")
    again = http.get(flow["auth_uri"], allow_redirects=False)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, callback(again))


# --- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["AzureADMyOrg", "AzureADMultipleOrgs"])
@pytest.mark.parametrize("tenant", ["consumers", "common"])
def test_a_work_only_app_refuses_a_personal_account_on_microsofts_page(
    emulator, http, cca, setup, audience, tenant
):
    ready, _ = setup
    emulator.update_app(ready.app, sign_in_audience=audience)
    _, flow = start(emulator, cca, ready, tenant)
    page = signed_in_page(http, flow)
    heading, message = load("authorize_personal_account_work_only_app").statement.split("\n")
    assert page.status_code == 400
    assert "Location" not in page.headers
    text = html.unescape(page.text)
    assert heading in text
    assert message in text


def test_a_work_account_at_consumers_is_not_a_microsoft_account(emulator, http, cca, setup):
    ready, _ = setup
    _, flow = start(emulator, cca, ready)
    page = signed_in_page(http, flow, ready.mailbox.upn, "Mailbox-pass-1")
    quoted = load("authorize_work_account_at_consumers").statement
    sentence = re.search(r'"(That Microsoft account .*)"', quoted)
    assert sentence
    assert sentence[1] in html.unescape(page.text)
    assert "Location" not in page.headers
    # The page is the sign-in page: a personal account signing in there goes on.
    assert "Permissions requested" in sign_in(http, page, UPN, PASSWORD).text


def test_a_tenant_url_still_refuses_a_personal_account_with_aadsts50020(emulator, http, cca, setup):
    ready, _ = setup
    _, flow = start(emulator, cca, ready, ready.directory.id)
    page = signed_in_page(http, flow)
    assert "AADSTS50020" in page.text
    assert "live.com" in page.text


def test_a_code_for_an_app_no_longer_open_to_personal_accounts_gets_aadsts70002(
    emulator, http, cca, setup
):
    ready, _ = setup
    app, flow = start(emulator, cca, ready)
    answer = callback(decide(http, signed_in_page(http, flow), "accept"))
    emulator.update_app(ready.app, sign_in_audience="AzureADMultipleOrgs")
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    recorded = load("token_client_not_enabled_for_consumers").statement
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [70002]
    assert words(result) in recorded


# --- refresh tokens --------------------------------------------------------------------


def test_msal_refreshes_a_personal_accounts_token_as_the_docs_show(emulator, http, cca, setup):
    ready, person = setup
    app, _, first = redeem(emulator, http, cca, ready)
    scopes = [f"{emulator.graph_url}/Mail.Read"]
    refreshed = app.acquire_token_by_refresh_token(first["refresh_token"], scopes)
    assert "error" not in refreshed, refreshed
    assert recorded_keys("token_refresh_success") <= set(refreshed)
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert refreshed["id_token_claims"]["tid"] == CONSUMERS_TENANT_ID
    assert claims(refreshed["access_token"])["oid"] == person.id
    assert emulator.counters()["grants"] == {"authorization_code": 1, "refresh_token": 1}


def test_an_admins_revocation_ends_a_personal_accounts_refresh_tokens(emulator, http, cca, setup):
    ready, person = setup
    _, _, first = redeem(emulator, http, cca, ready)
    emulator.revoke_refresh_tokens(person)
    answer = raw_refresh(emulator, http, ready, first["refresh_token"])
    assert_like("token_refresh_revoked_password_change", 50173, answer)


def test_the_control_api_revokes_them_too(emulator, http, cca, setup):
    ready, _ = setup
    _, _, first = redeem(emulator, http, cca, ready)
    revoked = http.post(f"{emulator.base_url}/_emulator/users/{UPN}/revoke-refresh-tokens")
    assert revoked.status_code == 200
    answer = raw_refresh(emulator, http, ready, first["refresh_token"], tenant="common")
    assert_like("token_refresh_revoked_password_change", 50173, answer)


def test_a_password_change_ends_them(emulator, http, cca, setup):
    ready, person = setup
    _, _, first = redeem(emulator, http, cca, ready)
    emulator.advance_clock(60)
    emulator.update_user(person, password="Outlook-New-2026!")
    answer = raw_refresh(emulator, http, ready, first["refresh_token"])
    assert_like("token_refresh_revoked_password_change", 50173, answer)


def test_one_unused_for_90_days_ends(emulator, http, cca, setup):
    ready, _ = setup
    _, _, first = redeem(emulator, http, cca, ready)
    emulator.advance_clock(90 * DAY + 60)
    answer = raw_refresh(emulator, http, ready, first["refresh_token"])
    assert_like("token_refresh_inactive", 700082, answer)


def test_a_used_one_lives_on_and_each_use_rotates(emulator, http, cca, setup):
    ready, _ = setup
    _, _, first = redeem(emulator, http, cca, ready)
    emulator.advance_clock(60 * DAY)
    answer = raw_refresh(emulator, http, ready, first["refresh_token"])
    assert answer.status_code == 200, answer.text
    rotated = answer.json()["refresh_token"]
    assert rotated != first["refresh_token"]
    emulator.advance_clock(60 * DAY)
    assert raw_refresh(emulator, http, ready, first["refresh_token"]).status_code == 200
    assert raw_refresh(emulator, http, ready, rotated).status_code == 200


def test_the_demo_account_signs_in_at_consumers(emulator, http, cca):
    from microsoft_emulator.scenarios import DEMO_PASSWORDS, demo_state

    emulator.reset(demo_state())
    directory = emulator.state.directories[0]
    app = emulator.register_app(
        directory,
        "Demo app",
        redirect_uris=["https://localhost"],
        delegated=["Mail.Read", "Mail.Send"],
        sign_in_audience="AzureADandPersonalMicrosoftAccount",
    )
    secret = emulator.add_secret(app)
    client = cca(app.client_id, secret.value, "consumers")
    flow = client.initiate_auth_code_flow(
        [f"{emulator.graph_url}/Mail.Read"],
        redirect_uri="https://localhost",
        response_mode="form_post",
    )
    page = signed_in_page(http, flow, UPN, DEMO_PASSWORDS["personal"])
    answer = callback(decide(http, page, "accept"))
    result = client.acquire_token_by_auth_code_flow(flow, answer)
    assert result["id_token_claims"]["preferred_username"] == UPN
