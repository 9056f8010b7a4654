"""Microsoft Graph: the mail calls a check makes (read the inbox, send a test message),
and an app rolling its own certificate (addKey, removeKey)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from onboarding.microsoft import http
from onboarding.microsoft.errors import InboxMessage, MicrosoftError


def read_inbox(*, access_token: str, mailbox: str) -> InboxMessage | None:
    """The newest inbox message (top 1), or None for an empty inbox.

    `mailbox` is a UPN or user ID, or "me" with a delegated token. Needs Mail.Read.
    """
    response = _graph(
        "GET",
        f"{_user_path(mailbox)}/mailFolders/inbox/messages",
        access_token,
        params={"$top": "1", "$select": "id,subject,receivedDateTime"},
    )
    messages = http.json_body(response).get("value") or []
    if not messages:
        return None
    first = messages[0]
    return InboxMessage(
        id=str(first.get("id", "")),
        subject=str(first.get("subject", "")),
        received_at=_parse_time(first.get("receivedDateTime")),
    )


# Graph takes at most five custom headers, each named x-... (InvalidInternetMessageHeader
# otherwise: tests/recordings/graph_sendmail_header_without_x_prefix.json, _header_count).
MAX_CUSTOM_HEADERS = 5


def send_test_message(
    *,
    access_token: str,
    mailbox: str,
    to: str,
    subject: str,
    body: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send a plain-text message from `mailbox` (not kept in Sent Items), with custom
    internet message `headers`. Needs Mail.Send.

    Graph answers 202: accepted for delivery, not delivered yet
    (tests/recordings/graph_sendmail_custom_headers.json).
    """
    custom = dict(headers or {})
    if len(custom) > MAX_CUSTOM_HEADERS or any(
        not name.lower().startswith("x-") for name in custom
    ):
        raise ValueError("Graph accepts up to five custom headers, each named x-...")
    message: dict[str, Any] = {
        "subject": subject,
        "body": {"contentType": "Text", "content": body},
        "toRecipients": [{"emailAddress": {"address": to}}],
    }
    if custom:  # an empty list is refused (msgraph-sdk-dotnet#2208): leave it out
        message["internetMessageHeaders"] = [
            {"name": name, "value": value} for name, value in custom.items()
        ]
    payload = {"message": message, "saveToSentItems": False}
    _graph("POST", f"{_user_path(mailbox)}/sendMail", access_token, json=payload)


def _user_path(mailbox: str) -> str:
    return "/me" if mailbox == "me" else f"/users/{quote(mailbox, safe='@')}"


def _graph(method: str, path: str, access_token: str, **kwargs: Any) -> requests.Response:
    endpoints = http.endpoints()
    url = f"{endpoints.graph_url}/v1.0{path}"
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json",
        "client-request-id": str(uuid.uuid4()),
    }
    try:
        response = http.session(endpoints).request(method, url, headers=headers, **kwargs)
    except (requests.RequestException, OSError) as exc:
        raise http.unreachable(url, exc) from None
    if response.status_code >= 400:
        raise _graph_error(response)
    return response


def _graph_error(response: requests.Response) -> MicrosoftError:
    error = http.json_body(response).get("error")
    error = error if isinstance(error, dict) else {}
    status = response.status_code
    inner = error.get("innerError") or {}
    return MicrosoftError(
        str(error.get("code") or f"http_{status}"),
        str(error.get("message") or f"Microsoft Graph answered HTTP {status}."),
        status=status,
        correlation_id=str(inner.get("request-id") or response.headers.get("request-id", "")),
        transient=status == 429 or status >= 500,
        retry_after=http.retry_after(response),
    )


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def me(*, access_token: str) -> dict[str, str]:
    """The signed-in account's id and addresses (Graph /me, delegated: User.Read is not
    needed for one's own mail, id, userPrincipalName and mail, which Mail.Read's token
    reads here through the basic profile `openid profile` grants)."""
    response = _graph("GET", "/me", access_token, params={"$select": "id,userPrincipalName,mail"})
    body = http.json_body(response)
    return {name: str(body.get(name) or "") for name in ("id", "userPrincipalName", "mail")}


# --- an app rolling its own certificate (application-addkey.md, -removekey.md) -------


def _application_path(client_id: str) -> str:
    # Addressed by appId, which the portal knows for sure; the object ID it was given
    # goes only into the proof, whose refusal then names it (Authentication_Missing...).
    return f"/applications(appId='{quote(client_id, safe='')}')"


def add_key(
    *, access_token: str, client_id: str, certificate: str, proof: str, display_name: str
) -> str:
    """Add a certificate (`certificate`: its DER in base64) to the app, proved by `proof`
    (signed with a certificate the app has); the new key's ID (Entra's Certificate ID).
    The app's own token needs no permission for this (tests/recordings/
    graph_addkey_documented.json)."""
    payload = {
        "keyCredential": {
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "key": certificate,
            "displayName": display_name,
        },
        "passwordCredential": None,
        "proof": proof,
    }
    path = f"{_application_path(client_id)}/addKey"
    response = _graph("POST", path, access_token, json=payload)
    key_id = str(http.json_body(response).get("keyId") or "")
    try:
        return str(uuid.UUID(key_id))
    except ValueError:
        raise MicrosoftError("invalid_response", "addKey answered without a keyId.") from None


def remove_key(*, access_token: str, client_id: str, key_id: str, proof: str) -> None:
    """Remove one of the app's certificates by its key ID; 204 (tests/recordings/
    graph_removekey_documented.json)."""
    path = f"{_application_path(client_id)}/removeKey"
    _graph("POST", path, access_token, json={"keyId": key_id, "proof": proof})
