"""The emulator's refusals of a refresh token, held to Microsoft's recorded ones
(tests/recordings/token_refresh_*.json): status, error, error_codes, the message up to
its trace trailer (with the times in it standing for ours), and which keys the body
carries. And how a refresh token lives: each use returns a new one, a used one lives
on, one unused for 90 days ends, and a password change or an admin's revocation ends
every one issued before it."""

from __future__ import annotations

import re

import pytest

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.test_contract_password_errors import KEYS, ropc, words
from tests.recordings import load

CLIENT_REQUEST_ID = "5b2f0a7e-58f1-4c55-9b0e-0a4a8f2f6a31"
# Entra's times in these messages: 2021-01-05T05:09:31.5970000Z.
ENTRA_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z")
DAY = 24 * 3600


@pytest.fixture
def signed_in(emulator, http):
    """A mailbox user signed in with a refresh token (offline_access), and a refresher."""
    ready = ready_directory(emulator, delegated=("Mail.Read", "Mail.Send"))
    first = ropc(emulator, http, ready, ready.mailbox.upn, "Mailbox-pass-1")
    assert first.status == 200, first.body

    def refresh(token: str):
        return http.post(
            f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token",
            data={
                "client_id": ready.app.client_id,
                "grant_type": "refresh_token",
                "refresh_token": token,
                "client_info": "1",
                "scope": f"{emulator.graph_url}/Mail.Read offline_access openid profile",
            },
            headers={"client-request-id": CLIENT_REQUEST_ID},
        )

    return ready, first.body["refresh_token"], refresh


def times_of(text: str) -> list[str]:
    return ENTRA_TIME.findall(text)


def assert_like(name: str, code: int, response) -> None:
    recording = load(name)
    expected, body = recording.json(), response.json()
    assert response.status_code == recording.status
    assert body["error"] == expected["error"] == "invalid_grant"
    assert body["error_codes"] == expected["error_codes"] == [code]
    ours, theirs = words(body), words(expected)
    assert len(times_of(ours)) == len(times_of(theirs))
    assert ENTRA_TIME.sub("<time>", ours) == ENTRA_TIME.sub("<time>", theirs)
    for key in KEYS:
        assert (key in body) == (key in expected), key
    assert body["error_uri"].endswith(f"/error?code={code}")
    assert body["correlation_id"] == CLIENT_REQUEST_ID


def test_a_password_change_ends_the_refresh_tokens_issued_before_it(emulator, signed_in):
    ready, token, refresh = signed_in
    emulator.advance_clock(3600)
    emulator.update_user(ready.mailbox, password="A-new-password-2")
    answer = refresh(token)
    assert_like("token_refresh_revoked_password_change", 50173, answer)
    issued, valid_from = times_of(answer.json()["error_description"])
    assert issued < valid_from
    assert valid_from.endswith(".0000000Z")  # whole seconds, as recorded


def test_an_admins_revocation_ends_them_with_the_same_answer(emulator, signed_in):
    ready, token, refresh = signed_in
    emulator.revoke_refresh_tokens(ready.mailbox)
    assert_like("token_refresh_revoked_password_change", 50173, refresh(token))


def test_a_refresh_token_unused_for_90_days_ends(emulator, signed_in):
    _, token, refresh = signed_in
    emulator.advance_clock(90 * DAY + 60)
    assert_like("token_refresh_inactive", 700082, refresh(token))


def test_each_use_returns_a_new_refresh_token_and_a_used_one_lives_on(emulator, signed_in):
    _, token, refresh = signed_in
    emulator.advance_clock(60 * DAY)
    first = refresh(token)
    assert first.status_code == 200, first.text
    rotated = first.json()["refresh_token"]
    assert rotated != token
    emulator.advance_clock(60 * DAY)  # 120 days since the sign-in, 60 since either's use
    assert refresh(token).status_code == 200
    assert refresh(rotated).status_code == 200


def test_a_new_sign_in_after_the_password_change_refreshes_again(emulator, http, signed_in):
    ready, token, refresh = signed_in
    emulator.advance_clock(5)
    emulator.update_user(ready.mailbox, password="A-new-password-2")
    again = ropc(emulator, http, ready, ready.mailbox.upn, "A-new-password-2")
    assert refresh(again.body["refresh_token"]).status_code == 200
    assert refresh(token).status_code == 400


def test_the_same_password_saved_again_ends_nothing(emulator, signed_in):
    ready, token, refresh = signed_in
    emulator.update_user(ready.mailbox, password="Mailbox-pass-1", display_name="Dispatch")
    assert refresh(token).status_code == 200
