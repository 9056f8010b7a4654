"""The emulator's own answers about mailboxes against what Microsoft answered
(tests/recordings): the same request, the same status, error code and message, and the
innerError fields and headers the recording shows."""

from __future__ import annotations

import pytest

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.conftest import graph_scope
from tests.microsoft_emulator.test_graph import mail_to
from tests.recordings import Recording, load


def assert_answers_like(own, recorded: Recording) -> None:
    assert own.status_code == recorded.status
    mine, theirs = own.json()["error"], recorded.json()["error"]
    assert (mine["code"], mine["message"]) == (theirs["code"], theirs["message"])
    assert set(theirs.get("innerError", {})) <= set(mine["innerError"])
    assert {name.lower() for name in recorded.headers} <= {name.lower() for name in own.headers}
    # Graph's correlation headers, on every answer (graph docs best-practices-concept.md).
    assert own.headers["request-id"] == mine["innerError"]["request-id"]
    assert own.headers["client-request-id"]


@pytest.fixture
def app_token(emulator, cca, ready):
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    return app.acquire_token_for_client(graph_scope(emulator))["access_token"]


@pytest.fixture
def delegated(emulator, pca):
    """A delegated token (password sign-in) of a mailbox user, as /me/... needs."""
    found = ready_directory(emulator, "Fabrikam", delegated=("Mail.Read", "Mail.Send"))
    app = pca(found.app.client_id, found.directory.id)
    scopes = [f"{emulator.graph_url}/{name}" for name in ("Mail.Read", "Mail.Send")]
    result = app.acquire_token_by_username_password(found.mailbox.upn, "Mailbox-pass-1", scopes)
    return found, result["access_token"]


def call(http, emulator, method, path, token, **kwargs):
    headers = {"Authorization": f"Bearer {token}"}
    return http.request(method, f"{emulator.graph_url}/v1.0{path}", headers=headers, **kwargs)


def test_sending_from_an_address_that_is_not_the_upn(emulator, http, ready, app_token):
    recorded = load("graph_sendmail_invalid_user_alias")
    # The recording's mailbox: 'example@domain.tld' is the user's e-mail address, its
    # UPN another name.
    emulator.update_user(ready.mailbox, mail="example@domain.tld")
    path = "/users/example@domain.tld/sendMail"
    own = call(http, emulator, "POST", path, app_token, json=mail_to(ready.admin.upn))
    assert_answers_like(own, recorded)


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_reading_me_messages_of_a_user_without_a_mailbox(emulator, http, delegated):
    found, token = delegated
    emulator.update_user(found.mailbox, mailbox=False)
    own = call(http, emulator, "GET", "/me/messages", token)
    assert_answers_like(own, load("graph_messages_mailbox_not_enabled"))


def test_reading_the_messages_of_a_user_graph_cannot_discover(emulator, http, ready, app_token):
    emulator.update_user(ready.mailbox, mailbox=False, no_mailbox_code="ResourceNotFound")
    own = call(http, emulator, "GET", f"/users/{ready.mailbox.id}/messages", app_token)
    assert_answers_like(own, load("graph_messages_resource_not_found"))


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_sending_as_me_for_a_user_graph_cannot_discover(emulator, http, delegated):
    found, token = delegated
    emulator.update_user(found.mailbox, mailbox=False, no_mailbox_code="ResourceNotFound")
    # Recorded as /me/sendmail: Graph's paths ignore case, the emulator's do not.
    own = call(http, emulator, "POST", "/me/sendMail", token, json=mail_to(found.admin.upn))
    assert_answers_like(own, load("graph_sendmail_resource_not_found"))


@pytest.mark.parametrize(
    "name",
    [
        "graph_sendmail_invalid_user_alias",
        "graph_messages_mailbox_not_enabled",
        "graph_messages_resource_not_found",
        "graph_sendmail_resource_not_found",
    ],
)
def test_the_emulator_serves_each_recording_verbatim(emulator, http, ready, app_token, name):
    recorded = load(name)
    recorded.replay_into(emulator)
    base = f"/users/{ready.mailbox.upn}"
    if recorded.endpoint == "graph.sendMail":
        answer = call(http, emulator, "POST", f"{base}/sendMail", app_token, json=mail_to("x@y.z"))
    else:
        answer = call(http, emulator, "GET", f"{base}/mailFolders/inbox/messages", app_token)
    assert (answer.status_code, answer.text) == (recorded.status, recorded.body)
