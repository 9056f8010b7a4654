"""sendMail's custom internet message headers, against what Microsoft documents and
answered (tests/recordings/graph_sendmail_custom_headers, _header_without_x_prefix,
_header_count): x-... headers are accepted and kept with the message; any other name,
none or more than five, refuse the whole message."""

from __future__ import annotations

import pytest

from tests.microsoft_emulator.conftest import graph_scope
from tests.microsoft_emulator.test_contract_mailbox import call
from tests.microsoft_emulator.test_graph import mail_to
from tests.recordings import load


@pytest.fixture
def app_token(emulator, cca, ready):
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    return app.acquire_token_for_client(graph_scope(emulator))["access_token"]


def with_headers(address: str, headers: list[dict[str, str]]) -> dict:
    body = mail_to(address, subject="With headers")
    body["message"]["internetMessageHeaders"] = headers
    return body


def inbox(emulator, upn: str):
    user = next(u for d in emulator.state.directories for u in d.users if u.upn == upn)
    return user.messages


def test_it_accepts_and_keeps_x_headers_as_documented(emulator, http, ready, app_token):
    recorded = load("graph_sendmail_custom_headers")
    headers = [
        {"name": "x-custom-header-group-name", "value": "Nevada"},
        {"name": "X-Custom-Header-Group-Id", "value": "NV001"},
    ]
    path = f"/users/{ready.mailbox.upn}/sendMail"
    own = call(http, emulator, "POST", path, app_token, json=with_headers(ready.admin.upn, headers))
    assert own.status_code == recorded.status
    assert own.content == recorded.body.encode()
    delivered = inbox(emulator, ready.admin.upn)[-1]
    assert emulator.store.headers_of(delivered) == {
        "x-custom-header-group-name": "Nevada",
        "X-Custom-Header-Group-Id": "NV001",
    }


def test_it_refuses_a_header_not_named_x_as_graph_does(emulator, http, ready, app_token):
    recorded = load("graph_sendmail_header_without_x_prefix")
    headers = [{"name": "Notification-Center-Parcel-ID", "value": "1"}]
    path = f"/users/{ready.mailbox.upn}/sendMail"
    before = len(inbox(emulator, ready.admin.upn))
    own = call(http, emulator, "POST", path, app_token, json=with_headers(ready.admin.upn, headers))
    assert own.status_code == recorded.status
    mine, theirs = own.json()["error"], recorded.json()["error"]
    assert (mine["code"], mine["message"]) == (theirs["code"], theirs["message"])
    assert own.headers["request-id"] == mine["innerError"]["request-id"]
    # The whole message is refused: nothing is delivered.
    assert len(inbox(emulator, ready.admin.upn)) == before


@pytest.mark.parametrize("count", [0, 6])
def test_it_refuses_no_header_or_more_than_five(emulator, http, ready, app_token, count):
    recorded = load("graph_sendmail_header_count")
    assert "max. 5 entries" in recorded.statement
    headers = [{"name": f"x-portal-{i}", "value": str(i)} for i in range(count)]
    path = f"/users/{ready.mailbox.upn}/sendMail"
    own = call(http, emulator, "POST", path, app_token, json=with_headers(ready.admin.upn, headers))
    assert own.status_code == 400
    assert own.json()["error"]["code"] == "InvalidInternetMessageHeaderCollection"


def test_five_x_headers_are_accepted(emulator, http, ready, app_token):
    headers = [{"name": f"x-portal-{i}", "value": str(i)} for i in range(5)]
    path = f"/users/{ready.mailbox.upn}/sendMail"
    own = call(http, emulator, "POST", path, app_token, json=with_headers(ready.admin.upn, headers))
    assert own.status_code == 202
