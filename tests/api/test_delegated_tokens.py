"""The token call for a personal Outlook.com mailbox: its owner's delegated token (by
the stored refresh token), for Graph's /me, against the emulator."""

from __future__ import annotations

import pytest
import requests

from onboarding.models import MailboxSignIn
from tests.personal_mailbox import UPN

pytestmark = pytest.mark.django_db


def token_path(box) -> str:
    return f"/api/v1/connections/{box.pk}/token"


def test_a_connected_outlook_mailbox_gets_its_owners_token_for_me(
    make_key, api, connected, personal, emulated_microsoft
):
    client = api(make_key("tokens:issue"))
    emulated_microsoft.reset_counters()
    answers = [client.post(token_path(personal.mailbox)) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    # The token of the connection's own check is still fresh: no refresh for any of them.
    assert emulated_microsoft.counters()["requests"].get("token", 0) == 0
    body = answers[0].json()
    assert (body["kind"], body["user_path"]) == ("delegated", "/me")
    assert body["expires_in"] >= 300
    graph = requests.get(
        f"{body['graph_base_url']}{body['user_path']}/mailFolders/inbox/messages",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        params={"$top": "1"},
        verify=str(emulated_microsoft.ca_path),
        timeout=10,
    )
    assert graph.status_code == 200, graph.text
    # The refresh token never leaves the portal.
    assert MailboxSignIn.objects.get().reveal_refresh_token() not in answers[0].content.decode()


def test_an_outlook_mailbox_nobody_connected_is_a_409_naming_the_fix(
    make_key, api, personal, emulated_microsoft
):
    response = api(make_key("tokens:issue")).post(token_path(personal.mailbox))
    assert response.status_code == 409
    assert response.json()["diagnosis"]["code"] == "sign_in_missing"


def test_a_revoked_sign_in_is_a_409_with_the_sign_ins_diagnosis(
    make_key, api, connected, personal, emulated_microsoft
):
    from onboarding.delegated import tokens

    tokens.forget(connected)  # no cached access token: the call must refresh
    emulated_microsoft.update_user(emulated_microsoft.personal_account(UPN), password="New-2026!x")
    response = api(make_key("tokens:issue")).post(token_path(personal.mailbox))
    assert response.status_code == 409
    body = response.json()
    assert body["diagnosis"]["code"] == "sign_in_revoked"
    assert "TokensValidFrom" not in str(body)  # Microsoft's words stay out of the answer
