"""Graph and mail addresses that are not the sign-in name (aliases, hybrid directories),
users without a mailbox, and Graph's correlation headers on every answer."""

import json
import uuid

import pytest

from microsoft_emulator.scenarios import ready_directory
from microsoft_emulator.state import User, state_from_plain
from tests.microsoft_emulator.conftest import graph_scope
from tests.microsoft_emulator.test_graph import graph, inbox, mail_to

ALIAS = "orders@contoso.com"
PRIMARY = "dispatch@contoso.com"


@pytest.fixture
def token(emulator, cca, ready):
    def acquire():
        app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
        return app.acquire_token_for_client(graph_scope(emulator))["access_token"]

    return acquire


@pytest.fixture
def aliased(emulator, ready):
    """The mailbox user signs in as dispatch@contoso.onmicrosoft.com; mail reaches it as
    dispatch@contoso.com (primary) and orders@contoso.com (alias)."""
    return emulator.update_user(ready.mailbox, mail=PRIMARY, proxy_addresses=[f"smtp:{ALIAS}"])


def send(http, emulator, access, sender, to, subject="Test"):
    return graph(
        http, emulator, "POST", f"/users/{sender}/sendMail", access, json=mail_to(to, subject)
    )


@pytest.mark.parametrize("address", [PRIMARY, ALIAS])
def test_it_answers_an_address_that_is_not_the_upn_with_error_invalid_user(
    emulator, http, aliased, token, address
):
    access = token()
    for response in (
        inbox(http, emulator, access, address),
        send(http, emulator, access, address, aliased.upn),
    ):
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "ErrorInvalidUser"
        assert error["message"] == f"The requested user '{address}' is invalid."


def test_it_reads_and_sends_by_the_upn_or_object_id(emulator, http, aliased, token):
    access = token()
    assert inbox(http, emulator, access, aliased.upn).status_code == 200
    assert inbox(http, emulator, access, aliased.id).status_code == 200
    assert send(http, emulator, access, aliased.upn, aliased.upn).status_code == 202


@pytest.mark.parametrize("address", [PRIMARY, ALIAS.upper()])
def test_it_delivers_mail_to_any_address_of_the_user(
    emulator, http, aliased, ready, token, address
):
    response = send(http, emulator, token(), ready.admin.upn, address, "To an alias")
    assert response.status_code == 202
    assert aliased.messages[-1].subject == "To an alias"
    assert aliased.messages[-1].to == [address]


def test_it_sends_from_the_primary_address(emulator, http, aliased, ready, token):
    send(http, emulator, token(), aliased.upn, ready.admin.upn, "From the mailbox")
    assert ready.admin.messages[-1].sender == PRIMARY


def test_it_shows_the_primary_address_as_mail(emulator, http, aliased, cca, ready):
    emulator.set_consent(ready.app, ready.directory, app_roles=["User.Read.All"])
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    access = app.acquire_token_for_client([f"{emulator.graph_url}/.default"])["access_token"]
    user = graph(http, emulator, "GET", f"/users/{aliased.upn}", access).json()
    assert (user["userPrincipalName"], user["mail"]) == (aliased.upn, PRIMARY)
    missing = graph(http, emulator, "GET", f"/users/{ALIAS}", access)
    assert missing.status_code == 404


def test_it_applies_an_access_policy_that_names_the_mailbox_by_an_alias(
    emulator, http, aliased, ready, token
):
    emulator.add_access_policy(ready.app, ready.directory, [ALIAS])
    assert inbox(http, emulator, token(), aliased.upn).status_code == 200
    assert inbox(http, emulator, token(), ready.admin.upn).status_code == 403


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_it_signs_in_with_the_upn_only(emulator, pca):
    delegated = ready_directory(emulator, "Fabrikam", delegated=("Mail.Read",))
    user = emulator.update_user(delegated.mailbox, mail="dispatch@fabrikam.com")
    app = pca(delegated.app.client_id, delegated.directory.id)
    scopes = [f"{emulator.graph_url}/Mail.Read"]
    refused = app.acquire_token_by_username_password(user.mail, "Mailbox-pass-1", scopes)
    assert refused["error_codes"] == [50034]
    signed_in = app.acquire_token_by_username_password(user.upn, "Mailbox-pass-1", scopes)
    assert "access_token" in signed_in, signed_in


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        ),
        ("ResourceNotFound", "Resource could not be discovered."),
    ],
)
def test_it_answers_a_user_without_a_mailbox_in_either_of_graphs_ways(
    emulator, http, ready, token, code, message
):
    emulator.update_user(ready.mailbox, mailbox=False, no_mailbox_code=code)
    access = token()
    for response in (
        inbox(http, emulator, access, ready.mailbox.upn),
        send(http, emulator, access, ready.mailbox.upn, ready.admin.upn),
    ):
        assert response.status_code == 404
        assert (response.json()["error"]["code"], response.json()["error"]["message"]) == (
            code,
            message,
        )


def test_the_control_api_and_state_files_take_the_new_user_fields(emulator, http, ready):
    changed = http.patch(
        f"{emulator.base_url}/_emulator/users/{ready.mailbox.upn}",
        json={"mail": PRIMARY, "proxy_addresses": [ALIAS], "no_mailbox_code": "ResourceNotFound"},
    )
    assert changed.status_code == 200
    assert (ready.mailbox.mail, ready.mailbox.proxy_addresses) == (PRIMARY, [ALIAS])
    assert ready.mailbox.no_mailbox_code == "ResourceNotFound"
    refused = http.patch(
        f"{emulator.base_url}/_emulator/users/{ready.mailbox.upn}",
        json={"proxy_addresses": ALIAS},
    )
    assert refused.status_code == 400
    snapshot = json.loads(json.dumps(emulator.snapshot()))
    loaded = state_from_plain(snapshot).directories[0].users[1]
    assert loaded.addresses == {ready.mailbox.upn, PRIMARY, ALIAS}


def test_a_user_without_other_addresses_is_reached_by_its_upn():
    user = User(upn="A@Contoso.onmicrosoft.com", password="x")
    assert (user.primary_address, user.addresses) == (user.upn, {"a@contoso.onmicrosoft.com"})


# --- request-id and client-request-id --------------------------------------------------


@pytest.mark.parametrize("sent_id", [None, "22222222-0000-0000-0000-000000000000"])
def test_it_sends_request_id_and_client_request_id_on_successes_too(
    emulator, http, ready, token, sent_id
):
    roles = ["Mail.Read", "Mail.Send", "User.Read.All"]
    emulator.set_consent(ready.app, ready.directory, app_roles=roles)
    access = token()
    headers = {"Authorization": f"Bearer {access}"}
    if sent_id:
        headers["client-request-id"] = sent_id
    base = f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}"
    answers = [
        http.get(f"{base}/mailFolders/inbox/messages", headers=headers),
        http.post(f"{base}/sendMail", headers=headers, json=mail_to(ready.admin.upn)),
        http.get(base, headers=headers),
        http.get(f"{base}/mailFolders/inbox/messages", params={"$top": "x"}, headers=headers),
    ]
    assert [a.status_code for a in answers] == [200, 202, 200, 400]
    for answer in answers:
        uuid.UUID(answer.headers["request-id"])
        if sent_id:
            assert answer.headers["client-request-id"] == sent_id
        else:
            uuid.UUID(answer.headers["client-request-id"])
    assert len({a.headers["request-id"] for a in answers}) == len(answers)


def test_it_replays_a_mail_recording_verbatim_without_adding_headers(emulator, http, ready, token):
    emulator.replay("graph.messages", status=404, body='{"error":{}}', headers={"X-A": "b"})
    emulator.replay("graph.sendMail", status=404, body="recorded")
    access = token()
    read = inbox(http, emulator, access, ready.mailbox.upn)
    sent = send(http, emulator, access, ready.mailbox.upn, ready.admin.upn)
    assert (read.status_code, read.text, read.headers["X-A"]) == (404, '{"error":{}}', "b")
    assert (sent.status_code, sent.text) == (404, "recorded")
    assert "request-id" not in read.headers
    assert "request-id" not in sent.headers
    assert inbox(http, emulator, access, ready.mailbox.upn).status_code == 200
    assert emulator.counters()["injected"] == {
        "graph.messages:replay": 1,
        "graph.sendMail:replay": 1,
    }


def test_the_state_page_shows_a_users_other_addresses(emulator, http, aliased, ready):
    emulator.update_user(ready.admin, mailbox=False, no_mailbox_code="ResourceNotFound")
    page = http.get(f"{emulator.base_url}/_emulator/").text
    assert f"mail also to {PRIMARY}, {ALIAS}" in page
    assert "none (ResourceNotFound)" in page
