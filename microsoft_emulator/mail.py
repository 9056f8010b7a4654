"""Graph's resource shapes (message, user, application) and the sendMail body parser."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import json
from collections.abc import Callable, Mapping
from typing import Any

from microsoft_emulator.errors import GraphError
from microsoft_emulator.state import AppRegistration, Message, User, iso

MAX_TOP = 1000


def _address(address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": address, "address": address}}


def message_resource(message: Message, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Graph's message; `headers`: the custom internet message headers it was sent with
    (Graph returns internetMessageHeaders on $select only: message_list)."""
    received = iso(message.received)
    return {
        "id": message.id,
        "createdDateTime": received,
        "receivedDateTime": received,
        "sentDateTime": received,
        "subject": message.subject,
        "bodyPreview": message.body[:255],
        "importance": "normal",
        "isRead": False,
        "hasAttachments": False,
        "body": {"contentType": "text", "content": message.body},
        "sender": _address(message.sender),
        "from": _address(message.sender),
        "toRecipients": [_address(a) for a in message.to],
        "internetMessageHeaders": [
            {"name": name, "value": value} for name, value in (headers or {}).items()
        ],
    }


def message_list(
    user: User,
    key: str,
    args: Mapping[str, str],
    graph_base: str,
    headers_of: Callable[[Message], Mapping[str, str]] = lambda _message: {},
) -> dict[str, Any]:
    """The newest messages first, honouring $top and $select; ValueError on a bad $top.
    internetMessageHeaders only when $select names it, as Graph does."""
    top_text = args.get("$top", "10")
    if not top_text.isdigit() or not 1 <= int(top_text) <= MAX_TOP:
        raise ValueError(f"Invalid value '{top_text}' for query option $top.")
    fields = [f.strip() for f in args.get("$select", "").split(",") if f.strip()]
    newest = sorted(user.messages, key=lambda m: m.received, reverse=True)[: int(top_text)]
    values = []
    for message in newest:
        resource = message_resource(message, headers_of(message))
        if fields:
            resource = {k: v for k, v in resource.items() if k in fields or k == "id"}
        else:
            resource.pop("internetMessageHeaders")
        values.append({"@odata.etag": f'W/"{message.id[:8]}"', **resource})
    select = f"({','.join(fields)})" if fields else ""
    return {
        "@odata.context": f"{graph_base}/v1.0/$metadata#users('{key}')/messages{select}",
        "value": values,
    }


# Graph's rules for a message's custom internetMessageHeaders: each name starts with x-
# (tests/recordings/graph_sendmail_header_without_x_prefix.json), and one to five of them
# (graph_sendmail_header_count.json).
MAX_CUSTOM_HEADERS = 5


def parse_headers(message: Mapping[str, Any]) -> dict[str, str]:
    """The message's internetMessageHeaders as {name: value}, checked as Graph does."""
    if "internetMessageHeaders" not in message:
        return {}
    given = message.get("internetMessageHeaders")
    if not isinstance(given, list) or not 1 <= len(given) <= MAX_CUSTOM_HEADERS:
        raise GraphError(
            400,
            "InvalidInternetMessageHeaderCollection",
            "The number of internet message headers is invalid; it should be between 1 and 5.",
        )
    headers: dict[str, str] = {}
    for header in given:
        name = str(header.get("name", "")) if isinstance(header, dict) else ""
        if not name.lower().startswith("x-"):
            raise GraphError(
                400,
                "InvalidInternetMessageHeader",
                f"The internet message header name '{name}' should start with 'x-' or 'X-'.",
            )
        headers[name] = str(header.get("value", ""))
    return headers


def parse_send(mimetype: str, data: bytes) -> tuple[Message, bool, dict[str, str]]:
    """A sendMail body, JSON or base64 MIME, as (message, saveToSentItems, custom
    internet message headers)."""
    if mimetype == "text/plain":
        return _parse_mime(data), True, {}
    try:
        payload = json.loads(data or b"null")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    message = payload.get("message")
    if not isinstance(message, dict):
        raise GraphError(400, "BadRequest", "Property 'message' is required.")
    recipients = [
        str(r.get("emailAddress", {}).get("address", ""))
        for r in message.get("toRecipients") or []
        if isinstance(r, dict)
    ]
    if not recipients or not all(recipients):
        raise GraphError(
            400,
            "ErrorInvalidRecipients",
            "At least one recipient isn't valid., Recipient is missing.",
        )
    body = message.get("body") or {}
    parsed = Message(
        subject=str(message.get("subject", "")),
        body=str(body.get("content", "")) if isinstance(body, dict) else "",
        to=recipients,
    )
    headers = parse_headers(message)
    return parsed, bool(payload.get("saveToSentItems", True)), headers


def _parse_mime(data: bytes) -> Message:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise GraphError(
            400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."
        ) from None
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    recipients = [a.strip() for a in str(parsed.get("To", "")).split(",") if a.strip()]
    if not recipients:
        raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
    part = parsed.get_body(("plain",)) if parsed.is_multipart() else parsed
    content = part.get_content() if part is not None else ""
    return Message(subject=str(parsed.get("Subject", "")), body=str(content), to=recipients)


def user_resource(user: User, graph_base: str) -> dict[str, Any]:
    return {
        "@odata.context": f"{graph_base}/v1.0/$metadata#users/$entity",
        "id": user.id,
        "displayName": user.display_name or user.upn,
        "userPrincipalName": user.upn,
        "mail": user.primary_address if user.mailbox else None,
        "businessPhones": [],
        "givenName": None,
        "surname": None,
        "jobTitle": None,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
    }


def application_resource(app: AppRegistration, select: str, graph_base: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": app.object_id,
        "appId": app.client_id,
        "displayName": app.name,
        "signInAudience": app.sign_in_audience,
        "passwordCredentials": [
            {
                "customKeyIdentifier": None,
                "displayName": s.display_name or None,
                "endDateTime": iso(s.end),
                "hint": s.hint,
                "keyId": s.key_id,
                "secretText": None,
                "startDateTime": iso(s.start),
            }
            for s in app.secrets
        ],
        "keyCredentials": [c.resource() for c in app.key_credentials],
    }
    fields = [f.strip() for f in select.split(",") if f.strip()]
    if fields:
        resource = {k: v for k, v in resource.items() if k in fields}
    context = f"{graph_base}/v1.0/$metadata#applications/$entity"
    return {"@odata.context": context, **resource}
