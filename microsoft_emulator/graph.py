"""graph.microsoft.com, the parts the portal and the operations app touch: users,
inbox messages, sendMail, applications(appId=...) and the delegated /me equivalents.

The checks run in Graph's order: token, permission, user, mailbox, Exchange access
policy, then Outlook's concurrency limit per app and mailbox.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Blueprint, Response, jsonify, request

from microsoft_emulator import errors, exchange_rbac, key_rollover, mail
from microsoft_emulator.core import (
    GRAPH_PREFIX,
    Emulator,
    client_request_id,
    fault_response,
    graph_response,
    injected,
    login_base,
)
from microsoft_emulator.errors import GraphError
from microsoft_emulator.faults import Outcome
from microsoft_emulator.state import AppRegistration, Directory, User
from microsoft_emulator.tokens import GRAPH_AUDIENCES

READ = frozenset({"Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic", "Mail.ReadBasic.All"})
SEND = frozenset({"Mail.Send"})
USER_READ = frozenset(
    {"User.Read.All", "User.ReadWrite.All", "User.ReadBasic.All", "Directory.Read.All"}
)
APP_READ = frozenset(
    {
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Application.ReadWrite.OwnedBy",
        "Directory.Read.All",
    }
)
THROTTLED = errors.MAILBOX_THROTTLED


@dataclass(frozen=True)
class Caller:
    """Who a valid access token speaks for."""

    directory: Directory
    app_id: str
    user: User | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)


def caller(emulator: Emulator) -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise errors.token_rejected("Access token is empty.")
    try:
        claims = emulator.issuer.decode(token)
    except jwt.PyJWTError:
        raise errors.token_rejected("Access token validation failure.") from None
    if claims.get("aud") not in GRAPH_AUDIENCES:
        raise errors.token_rejected("Access token validation failure. Invalid audience.")
    if int(claims.get("exp", 0)) <= emulator.store.now().timestamp():
        raise errors.token_rejected("Lifetime validation failed, the token is expired.")
    # A personal account's token names the consumer directory (tid 9188040d-...).
    directory = emulator.store.token_directory(str(claims.get("tid", "")))
    if directory is None:
        raise errors.token_rejected("Access token validation failure.")
    if claims.get("idtyp") == "user":
        user = emulator.store.user_in(directory, str(claims.get("oid", "")))
        if user is None:
            raise errors.token_rejected("Access token validation failure.")
        scopes = frozenset(str(claims.get("scp", "")).split())
        return Caller(directory, str(claims["appid"]), user, scopes)
    return Caller(directory, str(claims["appid"]), None, frozenset(claims.get("roles", [])))


def target_user(emulator: Emulator, who: Caller, key: str, needed: frozenset[str]) -> User:
    """The mailbox owner, after the permission, user, mailbox and policy checks. An app
    holds a permission through Entra (the token's roles) or through Exchange's RBAC for
    Applications (never in the token): either will do (tests/recordings/
    exchange_rbac_for_applications.json)."""
    in_token = bool(who.permissions & needed)
    if not in_token and not _exchange_may_grant(emulator, who, needed):
        raise errors.ACCESS_DENIED
    if who.user is not None and key.lower() not in ("me", who.user.upn.lower(), who.user.id):
        raise errors.ACCESS_DENIED
    user = who.user if key == "me" else emulator.store.user_in(who.directory, key)
    if user is None:  # an alias or other address than the UPN included (MICROSOFT.md §0)
        raise errors.invalid_user(key)
    if not user.mailbox:
        if user.no_mailbox_code == errors.MAILBOX_NOT_DISCOVERED.code:
            raise errors.MAILBOX_NOT_DISCOVERED
        raise errors.NO_MAILBOX
    if who.user is None and not _app_allowed(emulator, who, user, needed):
        # Refused by an access policy (on Entra's roles), or no grant covers the mailbox.
        raise errors.RAOP_DENIED if in_token else errors.ACCESS_DENIED
    return user


def _exchange_may_grant(emulator: Emulator, who: Caller, needed: frozenset[str]) -> bool:
    store = emulator.store
    return who.user is None and exchange_rbac.may_grant(
        store.state, who.directory.id, who.app_id, needed, store.now()
    )


def _app_allowed(emulator: Emulator, who: Caller, user: User, needed: frozenset[str]) -> bool:
    """Entra's roles as the access policies constrain them, or an Exchange role
    assignment covering this mailbox: the two add up, and a policy constrains only
    Entra's roles."""
    if who.permissions & needed and _policy_allows(emulator, who, user):
        return True
    store = emulator.store
    granted = exchange_rbac.permissions_on(
        store.state, who.directory, who.app_id, user, store.now()
    )
    return bool(granted & needed)


def _policy_allows(emulator: Emulator, who: Caller, user: User) -> bool:
    # Exchange names a mailbox in a policy by any of its SMTP addresses.
    addresses = {*user.addresses, user.id}
    for policy in emulator.store.policies(who.directory.id, who.app_id):
        listed = bool(addresses & {m.lower() for m in policy.mailboxes})
        if listed == (policy.mode == "DenyAccess"):
            return False
    return True


def graph_blueprint(emulator: Emulator) -> Blueprint:
    bp = Blueprint("graph", __name__, url_prefix=f"{GRAPH_PREFIX}/v1.0")
    store = emulator.store

    def mailbox_call(
        endpoint: str, key: str, needed: frozenset[str], work: Callable[[User], Response]
    ) -> Response:
        outcome = emulator.faults.decide(endpoint)
        if outcome.replay is not None:  # Microsoft's recorded answer, before any own check
            recorded = outcome.replay
            return Response(recorded.body, status=recorded.status, headers=recorded.headers)
        if outcome.status:
            return _after_latency(outcome, emulator)
        try:
            with store.lock:
                who = caller(emulator)
                user = target_user(emulator, who, key, needed)
            with emulator.faults.mailbox_slot(who.app_id, user.upn) as allowed:
                if not allowed:
                    raise THROTTLED
                if outcome.latency:
                    time.sleep(outcome.latency)
                return with_request_ids(work(user))
        except GraphError as error:
            return graph_response(error, emulator)

    @bp.get("/users/<key>/mailFolders/inbox/messages")
    @bp.get("/users/<key>/messages")
    @bp.get("/me/mailFolders/inbox/messages", defaults={"key": "me"})
    @bp.get("/me/messages", defaults={"key": "me"})
    def messages(key: str) -> Response:
        def work(user: User) -> Response:
            try:
                return jsonify(
                    mail.message_list(
                        user, key, request.args, _graph_base(), headers_of=store.headers_of
                    )
                )
            except ValueError as problem:
                return graph_response(GraphError(400, "BadRequest", str(problem)), emulator)

        return mailbox_call("graph.messages", key, READ, work)

    @bp.post("/users/<key>/sendMail")
    @bp.post("/me/sendMail", defaults={"key": "me"})
    def send_mail(key: str) -> Response:
        def work(user: User) -> Response:
            try:
                message, save, headers = mail.parse_send(request.mimetype, request.get_data())
            except GraphError as error:
                return graph_response(error, emulator)
            store.deliver(user, message, save_sent=save, headers=headers)
            return Response(status=202)

        return mailbox_call("graph.sendMail", key, SEND, work)

    @bp.get("/users/<key>")
    @bp.get("/me", defaults={"key": "me"})
    def user(key: str) -> Response:
        def lookup(who: Caller) -> dict[str, Any]:
            if key == "me" and who.user is None:
                raise GraphError(
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            is_self = who.user is not None and key.lower() in (
                "me",
                who.user.upn.lower(),
                who.user.id,
            )
            if not (who.permissions & USER_READ or (is_self and "User.Read" in who.permissions)):
                raise errors.INSUFFICIENT_PRIVILEGES
            found = who.user if key == "me" else store.user_in(who.directory, key)
            if found is None:
                raise errors.not_found(key)
            return mail.user_resource(found, _graph_base())

        return _directory_call(emulator, "graph.user", lookup)

    @bp.get("/applications(appId='<app_id>')")
    def application(app_id: str) -> Response:
        def lookup(who: Caller) -> dict[str, Any]:
            if not who.permissions & APP_READ or who.user is not None:
                raise errors.INSUFFICIENT_PRIVILEGES
            app = store.app(app_id)
            if app is None or app.directory_id != who.directory.id:
                raise errors.not_found(app_id)
            return mail.application_resource(app, request.args.get("$select", ""), _graph_base())

        return _directory_call(emulator, "graph.application", lookup)

    @bp.get("/applications")
    def applications() -> Response:
        """The list, filtered by `$filter=appId eq '...'` (the one filter the emulator
        reads): how an app with Application.Read.All finds its object ID for addKey."""

        def lookup(who: Caller) -> dict[str, Any]:
            if not who.permissions & APP_READ or who.user is not None:
                raise errors.INSUFFICIENT_PRIVILEGES
            wanted = _app_id_filter(request.args.get("$filter", ""))
            found = [
                mail.application_resource(a, request.args.get("$select", ""), _graph_base())
                for a in store.state.apps
                if a.directory_id == who.directory.id
                and (wanted is None or a.client_id.lower() == wanted)
            ]
            for resource in found:
                resource.pop("@odata.context", None)
            context = f"{_graph_base()}/v1.0/$metadata#applications"
            return {"@odata.context": context, "value": found}

        return _directory_call(emulator, "graph.application", lookup)

    @bp.post("/applications/<object_id>/addKey")
    @bp.post("/applications(appId='<app_id>')/addKey")
    def add_key(object_id: str = "", app_id: str = "") -> Response:
        def work(who: Caller, app: AppRegistration, body: dict[str, Any]) -> Response:
            key_rollover.check_proof(app, str(body.get("proof") or ""), store.now())
            entry = key_rollover.new_key(app, body)
            app.key_credentials.append(entry)
            store.changed()
            return jsonify(key_rollover.key_resource(entry, _graph_base()))

        return _key_call(emulator, object_id, app_id, work)

    @bp.post("/applications/<object_id>/removeKey")
    @bp.post("/applications(appId='<app_id>')/removeKey")
    def remove_key(object_id: str = "", app_id: str = "") -> Response:
        def work(who: Caller, app: AppRegistration, body: dict[str, Any]) -> Response:
            key_rollover.check_proof(app, str(body.get("proof") or ""), store.now())
            key_id = str(body.get("keyId") or "").lower()
            kept = [c for c in app.key_credentials if c.key_id.lower() != key_id]
            if len(kept) == len(app.key_credentials):
                raise errors.not_found(key_id)  # not recorded: Graph's usual 404
            app.key_credentials = kept
            store.changed()
            return Response(status=204)

        return _key_call(emulator, object_id, app_id, work)

    return bp


def _app_id_filter(expression: str) -> str | None:
    match = re.fullmatch(r"\s*appId\s+eq\s+'([^']*)'\s*", expression, re.IGNORECASE)
    if expression and match is None:
        raise GraphError(400, "BadRequest", f"Invalid filter clause: {expression}")
    return match[1].lower() if match else None


def _key_call(
    emulator: Emulator,
    object_id: str,
    app_id: str,
    work: Callable[[Caller, AppRegistration, dict[str, Any]], Response],
) -> Response:
    """addKey/removeKey on an app of the caller's directory, by object ID or appId. An
    app rolls its own keys without any permission ("An application does not need any
    specific permission to roll its own keys", application-addkey.md); rolling another
    app's needs Application.ReadWrite.All or Directory.ReadWrite.All."""
    if fault := injected("graph.application", emulator, graph=True):
        return fault
    store = emulator.store
    try:
        with store.lock:
            who = caller(emulator)
            app = store.app(app_id) if app_id else store.app_by_object_id(object_id)
            if app is None or app.directory_id != who.directory.id:
                raise errors.not_found(app_id or object_id)
            own = who.user is None and who.app_id.lower() == app.client_id.lower()
            if not own and not who.permissions & key_rollover.WRITE:
                raise errors.INSUFFICIENT_PRIVILEGES
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
            return with_request_ids(work(who, app, body))
    except GraphError as error:
        return graph_response(error, emulator)


def _directory_call(
    emulator: Emulator, endpoint: str, lookup: Callable[[Caller], dict[str, Any]]
) -> Response:
    if fault := injected(endpoint, emulator, graph=True):
        return fault
    try:
        with emulator.store.lock:
            return with_request_ids(jsonify(lookup(caller(emulator))))
    except GraphError as error:
        return graph_response(error, emulator)


def with_request_ids(response: Response) -> Response:
    """Graph's correlation headers, on its successes as on its errors: request-id names
    the request at Microsoft, client-request-id echoes the caller's (graph docs
    best-practices-concept.md: "Always log the request-id, timestamp and
    x-ms-ags-diagnostic from the HTTP response headers"). A replayed recording keeps
    exactly the headers it was recorded with."""
    response.headers.setdefault("request-id", str(uuid.uuid4()))
    response.headers.setdefault("client-request-id", client_request_id())
    return response


def _after_latency(outcome: Outcome, emulator: Emulator) -> Response:
    if outcome.latency:
        time.sleep(outcome.latency)
    return fault_response(outcome.status or 503, outcome.retry_after, emulator, graph=True)


def _graph_base() -> str:
    return f"{login_base()}{GRAPH_PREFIX}"
