"""The emulator's own throttling of the identity platform, held to Microsoft's recorded
answer (tests/recordings/token_throttled_plain_text.json): 429, Retry-After, a
plain-text body "Too Many Requests"."""

from __future__ import annotations

import json

import pytest

from tests.recordings import load

RECORDED = load("token_throttled_plain_text")


def token_form(emulator, ready) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": ready.app.client_id,
        "client_secret": ready.secret.value,
        "scope": f"{emulator.graph_url}/.default",
    }


def assert_like_the_recording(response, retry_after: str) -> None:
    assert response.status_code == RECORDED.status
    assert response.headers["Retry-After"] == retry_after
    assert response.text == RECORDED.body
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)  # what makes msal raise instead of returning an error


def test_its_throttled_token_answer_is_microsofts(emulator, http, ready):
    emulator.set_fault(
        "token", throttle_share=1.0, retry_after=int(RECORDED.headers["Retry-After"])
    )
    response = http.post(
        f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token",
        data=token_form(emulator, ready),
    )
    assert_like_the_recording(response, RECORDED.headers["Retry-After"])


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        ("discovery", "/{tenant}/v2.0/.well-known/openid-configuration"),
        ("userrealm", "/common/userrealm/{upn}?api-version=1.0"),
    ],
)
def test_it_throttles_the_other_identity_endpoints_the_same_way(
    emulator, http, ready, endpoint, path
):
    emulator.set_fault(endpoint, throttle_share=1.0, retry_after=7)
    url = emulator.login_url + path.format(tenant=ready.directory.id, upn=ready.mailbox.upn)
    assert_like_the_recording(http.get(url), "7")


def test_it_keeps_graphs_json_throttling(emulator, http, ready):
    # Graph's 429 is JSON ({"error": {"code": ...}}): only the identity platform's is text.
    emulator.set_fault("graph.user", throttle_share=1.0, retry_after=3)
    response = http.get(f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")
    assert response.json()["error"]["code"] == "TooManyRequests"
