"""The emulator's own answers about the application, its secret and its directory, held
to what Microsoft answered (tests/recordings): the same situation made in the emulator
(an unknown client ID, a wrong or expired secret, ...), then the status, `error`,
`error_codes`, the AADSTS message up to its trace trailer and the keys of the body;
for Graph, the status, error.code, the message, innerError's keys and Retry-After."""

from __future__ import annotations

import json
import re
from typing import Any

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.conftest import graph_scope
from tests.recordings import Recording, load

# Microsoft has put CR LF, a line break or (since about 2024) a space before "Trace ID".
TRAILER = re.compile(r"\s+Trace ID:.*", re.DOTALL)
# The keys every token error of the emulator has besides error and error_description.
TRACE_KEYS = {"error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}
UNKNOWN_CLIENT_ID = "11111111-2222-4333-8444-555555555555"
UNKNOWN_TENANT = "f00df00d-0000-4000-8000-000000000000"


def words(description: str) -> str:
    """An AADSTS message without its Trace ID / Correlation ID / Timestamp trailer."""
    return TRAILER.sub("", description)


def token(http, emulator, tenant: str, **form: str):
    return http.post(f"{emulator.login_url}/{tenant}/oauth2/v2.0/token", data=form)


def client_credentials(emulator, ready, *, client_id: str = "", secret: str = "") -> dict:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id or ready.app.client_id,
        "client_secret": secret or ready.secret.value,
        "scope": graph_scope(emulator)[0],
    }


def assert_like_the_recording(
    response, recorded: Recording, replace: dict[str, str], expected: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Status, error, error_codes (when recorded), the words up to the trailer with the
    recording's IDs replaced by ours, and keys: every recorded one, and no others than
    the trace fields a partial or older capture may lack."""
    expected = expected if expected is not None else recorded.json()
    body = response.json()
    assert response.status_code == recorded.status
    assert body["error"] == expected["error"]
    if "error_codes" in expected:
        assert body["error_codes"] == expected["error_codes"]
    theirs = words(expected["error_description"])
    for recorded_value, own_value in replace.items():
        theirs = theirs.replace(recorded_value, own_value)
    assert words(body["error_description"]) == theirs
    assert set(expected) <= set(body)
    assert set(body) - set(expected) <= TRACE_KEYS
    assert set(body) >= TRACE_KEYS
    assert body["trace_id"] in body["error_description"]
    assert body["correlation_id"] in body["error_description"]
    assert body["error_uri"].endswith(f"/error?code={body['error_codes'][0]}")
    return body


# --- the identity platform ----------------------------------------------------------


def test_its_unknown_client_id_answer_is_the_recorded_aadsts700016(emulator, http, ready):
    recorded = load("token_unknown_client_id")
    form = client_credentials(emulator, ready, client_id=UNKNOWN_CLIENT_ID)
    response = token(http, emulator, ready.directory.id, **form)
    # The directory is named by its display name, as in the recording's sources.
    replace = {"my_client_id": UNKNOWN_CLIENT_ID, "tenant_directory": ready.directory.name}
    assert_like_the_recording(response, recorded, replace)
    assert recorded.json()["error_uri"].endswith("/error?code=700016")


def test_its_wrong_secret_answer_is_the_recorded_aadsts7000215(emulator, http, ready):
    recorded = load("token_invalid_client_secret")
    form = client_credentials(emulator, ready, secret="abc8Q~" + "x" * 34)
    response = token(http, emulator, ready.directory.id, **form)
    replace = {"4d856d1f-8648-456c-9bb2-f36273bbe4e3": ready.app.client_id}
    body = assert_like_the_recording(response, recorded, replace)
    assert list(body) == list(recorded.json())


def cut_description(recorded: Recording) -> dict[str, str]:
    """error and error_description of a body recorded only up to where its quote ends."""
    match = re.match(r'\{"error":"([^"]+)","error_description":"((?:[^"\\]|\\.)*)"', recorded.body)
    assert match, "the recording quotes error and error_description"
    return {"error": match[1], "error_description": json.loads(f'"{match[2]}"')}


def test_its_expired_secret_answer_is_the_recorded_aadsts7000222(emulator, http, ready):
    current = load("token_expired_client_secret_for_app")
    full = load("token_expired_client_secret")
    expired = emulator.add_secret(ready.app, days=-1)
    form = client_credentials(emulator, ready, secret=expired.value)
    response = token(http, emulator, ready.directory.id, **form)
    # The current words, with the app ID the recording's log masked as '***'.
    quoted = cut_description(current)
    assert_like_the_recording(response, current, {"'***'": f"'{ready.app.client_id}'"}, quoted)
    # The whole body of the older capture: its status, error, codes and keys.
    body = response.json()
    assert response.status_code == full.status
    assert (body["error"], body["error_codes"]) == (full.json()["error"], [7000222])
    assert list(body) == list(full.json())


def test_its_public_client_answer_is_the_recorded_aadsts700025(emulator, http):
    recorded = load("token_client_is_public")
    public = ready_directory(emulator, public_client=True)
    public.app.secrets.clear()  # no secret left in Entra: a secret sent is refused
    response = token(http, emulator, public.directory.id, **client_credentials(emulator, public))
    assert_like_the_recording(response, recorded, {})


def test_its_unknown_tenant_answer_is_the_recorded_aadsts90002(emulator, http):
    recorded = load("discovery_tenant_not_found")
    response = http.get(
        f"{emulator.login_url}/{UNKNOWN_TENANT}/v2.0/.well-known/openid-configuration"
    )
    body = assert_like_the_recording(response, recorded, {"'secrets'": f"'{UNKNOWN_TENANT}'"})
    assert list(body) == list(recorded.json())
    # The trailer as the recording has it: one space before each part.
    shape = re.compile(r"^.+\. Trace ID: (\S+) Correlation ID: (\S+) Timestamp: (.+)$", re.DOTALL)
    recorded_parts = shape.match(recorded.json()["error_description"])
    own_parts = shape.match(body["error_description"])
    assert recorded_parts
    assert own_parts
    assert recorded_parts.groups() == tuple(
        recorded.json()[key] for key in ("trace_id", "correlation_id", "timestamp")
    )
    assert own_parts.groups() == (body["trace_id"], body["correlation_id"], body["timestamp"])


def test_its_malformed_tenant_answer_is_the_recorded_aadsts900023(emulator, http, ready):
    recorded = load("token_malformed_tenant")
    response = token(http, emulator, "contoso", **client_credentials(emulator, ready))
    replace = {"f837e147-205f-4bdf-9cfe-d07587a9ae3c": "contoso"}
    body = assert_like_the_recording(response, recorded, replace)
    assert body["error_codes"] == [900023]  # not in the recording's quote


def test_its_public_client_flows_off_answer_is_the_recorded_aadsts7000218(emulator, http):
    recorded = load("token_public_client_flows_disabled")
    closed = ready_directory(emulator, delegated=("Mail.Read",), public_client=False)
    response = token(
        http,
        emulator,
        closed.directory.id,
        grant_type="password",
        client_id=closed.app.client_id,
        username=closed.mailbox.upn,
        password="Mailbox-pass-1",
        scope=f"{emulator.graph_url}/Mail.Read offline_access openid profile",
    )
    body = assert_like_the_recording(response, recorded, {})
    # The 2019 capture has no error_uri; later token errors all carry one.
    assert set(body) - set(recorded.json()) == {"error_uri"}


def test_its_personal_endpoint_answer_has_the_recorded_aadsts9001023_words(emulator, http):
    # No response of Microsoft's was found for this one: only its words, as MSAL.NET
    # relayed them. Neither the status nor the error field is held to a recording.
    recorded = load("token_grant_not_supported_on_common")
    delegated = ready_directory(emulator, delegated=("Mail.Read",))
    response = token(
        http,
        emulator,
        "consumers",
        grant_type="password",
        client_id=delegated.app.client_id,
        username="someone@outlook.com",
        password="x",
        scope="Mail.Read",
    )
    quoted = recorded.statement.splitlines()[0].removeprefix("InnerException : ")
    assert words(response.json()["error_description"]) == quoted
    assert response.json()["error_codes"] == [9001023]


# --- Microsoft Graph ------------------------------------------------------------------


def graph_error(response) -> dict[str, Any]:
    return response.json()["error"]


def test_its_invalid_audience_answer_is_the_recorded_graph_401(emulator, http, cca, ready):
    recorded = load("graph_invalid_authentication_token_audience")
    # A token for another resource (the app's own API) is not one Graph takes.
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    other = app.acquire_token_for_client([f"api://{ready.app.client_id}/.default"])
    response = http.get(
        f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}/mailFolders/inbox/messages",
        headers={
            "Authorization": f"Bearer {other['access_token']}",
            "client-request-id": "49fef2a7-61c7-4529-9ee8-539a352c2f59",
        },
    )
    mine, theirs = graph_error(response), recorded.json()["error"]
    assert response.status_code == recorded.status
    assert (mine["code"], mine["message"]) == (theirs["code"], theirs["message"])
    assert list(mine["innerError"]) == list(theirs["innerError"])
    assert mine["innerError"]["client-request-id"] == theirs["innerError"]["client-request-id"]
    assert response.headers["request-id"] == mine["innerError"]["request-id"]


def test_its_throttling_answer_is_graphs_documented_429(emulator, http, cca, ready):
    recorded = load("graph_throttled_documented")
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    access = app.acquire_token_for_client(graph_scope(emulator))["access_token"]
    emulator.set_fault(
        "graph.messages", throttle_share=1.0, retry_after=int(recorded.headers["Retry-After"])
    )
    response = http.get(
        f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}/mailFolders/inbox/messages",
        headers={"Authorization": f"Bearer {access}"},
    )
    mine, theirs = graph_error(response), recorded.json()["error"]
    assert response.status_code == recorded.status
    assert response.headers["Retry-After"] == recorded.headers["Retry-After"]
    assert response.headers["Content-Type"].startswith(recorded.headers["Content-Type"])
    assert (mine["code"], mine["message"]) == (theirs["code"], theirs["message"])
    # Every documented innerError field, with the same constant values; Graph's errors
    # of today add client-request-id.
    assert set(theirs["innerError"]) <= set(mine["innerError"])
    assert set(mine["innerError"]) - set(theirs["innerError"]) == {"client-request-id"}
    for name in ("code", "message", "status"):
        assert mine["innerError"][name] == theirs["innerError"][name]


def test_its_mailbox_concurrency_answer_is_the_recorded_application_throttled(
    emulator, http, cca, ready
):
    recorded = load("graph_messages_application_throttled")
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    access = app.acquire_token_for_client(graph_scope(emulator))["access_token"]
    emulator.set_mailbox_limit(1)
    with emulator.emulator.faults.mailbox_slot(ready.app.client_id, ready.mailbox.upn):
        response = http.get(
            f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}/mailFolders/inbox/messages",
            headers={"Authorization": f"Bearer {access}"},
        )
    assert response.status_code == recorded.status
    # The whole body, field for field: no innerError, as recorded.
    assert response.json() == recorded.json()
