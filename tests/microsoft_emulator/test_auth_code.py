"""Authorization code flow with PKCE, driven by msal and a browser-like client."""

import pytest

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.conftest import callback, csrf, sign_in


@pytest.fixture
def delegated(emulator):
    return ready_directory(emulator, delegated=("Mail.Read", "User.Read"))


def start_flow(emulator, cca, ready, *names, **options):
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    flow = app.initiate_auth_code_flow(
        [f"{emulator.graph_url}/{name}" for name in names],
        redirect_uri="https://localhost",
        response_mode="form_post",
        **options,
    )
    return app, flow


def callback_after_sign_in(http, flow, upn, password):
    page = http.get(flow["auth_uri"], allow_redirects=False)
    landed = sign_in(http, page, upn, password)
    assert 'action="https://localhost"' in landed.text
    return callback(landed)


def test_it_completes_the_auth_code_flow_with_pkce_and_the_nonce(emulator, http, cca, delegated):
    app, flow = start_flow(emulator, cca, delegated, "Mail.Read")
    answer = callback_after_sign_in(http, flow, delegated.mailbox.upn, "Mailbox-pass-1")
    assert answer["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    assert result["id_token_claims"]["preferred_username"] == delegated.mailbox.upn
    assert "refresh_token" in result
    assert emulator.counters()["grants"] == {"authorization_code": 1}


def test_it_asks_the_user_to_consent_to_new_scopes(emulator, http, cca, delegated):
    app, flow = start_flow(emulator, cca, delegated, "Mail.Send")
    page = sign_in(
        http,
        http.get(flow["auth_uri"], allow_redirects=False),
        delegated.mailbox.upn,
        "Mailbox-pass-1",
    )
    assert "Permissions requested" in page.text
    accepted = http.post(
        page.url, data={"csrf": csrf(page.text), "decision": "accept"}, allow_redirects=False
    )
    result = app.acquire_token_by_auth_code_flow(flow, callback(accepted))
    assert "access_token" in result


def test_it_reports_a_declined_user_consent_as_access_denied(emulator, http, cca, delegated):
    app, flow = start_flow(emulator, cca, delegated, "Mail.Send")
    page = sign_in(
        http,
        http.get(flow["auth_uri"], allow_redirects=False),
        delegated.mailbox.upn,
        "Mailbox-pass-1",
    )
    declined = http.post(
        page.url, data={"csrf": csrf(page.text), "decision": "cancel"}, allow_redirects=False
    )
    result = app.acquire_token_by_auth_code_flow(flow, callback(declined))
    assert result["error"] == "access_denied"
    assert result["error_description"].startswith("AADSTS65004")


def test_it_refuses_a_wrong_code_verifier_with_aadsts501481(emulator, http, cca, delegated):
    app, flow = start_flow(emulator, cca, delegated, "Mail.Read")
    answer = callback_after_sign_in(http, flow, delegated.mailbox.upn, "Mailbox-pass-1")
    flow["code_verifier"] = "x" * 43
    assert app.acquire_token_by_auth_code_flow(flow, answer)["error_codes"] == [501481]


def test_it_refuses_a_code_used_twice_with_aadsts54005(emulator, http, cca, delegated):
    app, flow = start_flow(emulator, cca, delegated, "Mail.Read")
    answer = callback_after_sign_in(http, flow, delegated.mailbox.upn, "Mailbox-pass-1")
    app.acquire_token_by_auth_code_flow(dict(flow), answer)
    assert app.acquire_token_by_auth_code_flow(dict(flow), answer)["error_codes"] == [54005]


def test_it_refuses_an_expired_code_with_aadsts70008(emulator, http, cca, delegated):
    app, flow = start_flow(emulator, cca, delegated, "Mail.Read")
    answer = callback_after_sign_in(http, flow, delegated.mailbox.upn, "Mailbox-pass-1")
    emulator.advance_clock(11 * 60)
    assert app.acquire_token_by_auth_code_flow(flow, answer)["error_codes"] == [70008]


def test_it_shows_a_wrong_password_on_the_sign_in_page(emulator, http, cca, delegated):
    _, flow = start_flow(emulator, cca, delegated, "Mail.Read")
    page = http.get(flow["auth_uri"], allow_redirects=False)
    form = {
        "csrf": csrf(page.text),
        "next": "/entra/",
        "username": delegated.mailbox.upn,
        "password": "no",
    }
    again = http.post(f"{emulator.base_url}/login", data=form)
    assert "Your account or password is incorrect." in again.text
    assert "AADSTS50126" in again.text


def test_it_asks_an_mfa_user_to_approve_the_sign_in(emulator, http, cca, delegated):
    emulator.update_user(delegated.mailbox, mfa_required=True)
    app, flow = start_flow(emulator, cca, delegated, "Mail.Read")
    page = http.get(flow["auth_uri"], allow_redirects=False)
    next_path = flow["auth_uri"].removeprefix(emulator.base_url)
    form = {
        "csrf": csrf(page.text),
        "next": next_path,
        "username": delegated.mailbox.upn,
        "password": "Mailbox-pass-1",
    }
    prompt = http.post(f"{emulator.base_url}/login", data=form)
    assert "Approve sign in request" in prompt.text
    approved = http.post(
        f"{emulator.base_url}/login/mfa",
        data={"csrf": csrf(prompt.text), "next": next_path},
        allow_redirects=False,
    )
    landed = http.get(emulator.base_url + approved.headers["Location"], allow_redirects=False)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, callback(landed))


def test_it_shows_an_unregistered_redirect_uri_error_without_redirecting(
    emulator, http, cca, delegated
):
    app = cca(delegated.app.client_id, delegated.secret.value, delegated.directory.id)
    flow = app.initiate_auth_code_flow(
        ["User.Read"], redirect_uri="https://evil.example/callback", response_mode="form_post"
    )
    page = http.get(flow["auth_uri"], allow_redirects=False)
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "AADSTS50011" in page.text
    assert "https://evil.example/callback" in page.text


def test_it_accepts_a_loopback_redirect_uri_on_any_port(emulator, http, cca, delegated):
    app = cca(delegated.app.client_id, delegated.secret.value, delegated.directory.id)
    flow = app.initiate_auth_code_flow(
        ["User.Read"], redirect_uri="http://localhost:8400", response_mode="form_post"
    )
    page = http.get(flow["auth_uri"], allow_redirects=False)
    assert page.status_code == 200
    assert "Sign in" in page.text


@pytest.mark.parametrize(
    ("flag", "response_type", "code"),
    [
        ("implicit_id_tokens", "id_token", 700054),
        ("implicit_access_tokens", "token", 700051),
    ],
)
def test_it_honours_the_implicit_grant_switches(
    emulator, http, delegated, flag, response_type, code
):
    url = f"{emulator.login_url}/{delegated.directory.id}/oauth2/v2.0/authorize"
    params = {
        "client_id": delegated.app.client_id,
        "response_type": response_type,
        "nonce": "n1",
        "redirect_uri": "https://localhost",
        "scope": "openid",
        "state": "s1",
    }
    page = http.get(url, params=params, allow_redirects=False)
    refused = sign_in(http, page, delegated.mailbox.upn, "Mailbox-pass-1")
    assert f"AADSTS{code}" in refused.headers["Location"]
    emulator.update_app(delegated.app, **{flag: True})
    granted = http.get(url, params=params, allow_redirects=False).headers["Location"]
    assert f"{response_type}=" in granted.split("#", 1)[1]
    assert "state=s1" in granted
