"""The control API (JSON under /_emulator/) and the plain state page at /_emulator/.

DEVELOPMENT ONLY: neither asks who is calling; the state page shows every password
and the API rewrites the state. It listens on 127.0.0.1 by default, and the production
Docker image ships neither it nor its dependencies (.dockerignore, the `emulator` extra).

For a person running `make run`, for the benchmark, and for anything out of process;
in-process tests use EmulatorHandle directly. Every route answers 400 with
{"error": ...} on bad input.
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, NotFound

from microsoft_emulator import exchange_rbac
from microsoft_emulator.app_limits import TooManyAppPasswords
from microsoft_emulator.faults import ENDPOINTS, Fault, Replay
from microsoft_emulator.handle import EmulatorHandle
from microsoft_emulator.state import (
    AUDIENCES,
    BLOCKS,
    AppManagementPolicy,
    AppRegistration,
    Directory,
    User,
    convert_field,
    from_plain,
    parse_time,
    personal_account_id,
    state_from_plain,
    to_plain,
)

USER_FIELDS = (
    "password",
    "display_name",
    "mailbox",
    "no_mailbox_code",
    "mail",
    "proxy_addresses",
    "mfa_required",
    "mfa_registered",
    "blocked_by_conditional_access",
    "admin_role",
    "blocked",
)
APP_FIELDS = (
    "name",
    "sign_in_audience",
    "redirect_uris",
    "implicit_access_tokens",
    "implicit_id_tokens",
    "public_client",
)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValueError("send a JSON object")
    return data


def control_blueprint(handle: EmulatorHandle) -> Blueprint:
    bp = Blueprint("control", __name__, url_prefix="/_emulator")
    store = handle.store

    def directory(tenant: str) -> Directory:
        found = store.directory(tenant)
        if found is None:
            raise NotFound(f"no directory {tenant}")
        return found

    def app(client_id: str) -> AppRegistration:
        found = store.app(client_id)
        if found is None:
            raise NotFound(f"no app {client_id}")
        return found

    def user(upn: str) -> User:
        found = store.find_user(upn)
        if found is None:
            raise NotFound(f"no user {upn}")
        return found[1]

    @bp.errorhandler(ValueError)
    @bp.errorhandler(TypeError)
    def bad_input(error: Exception) -> tuple[Response, int]:
        return jsonify(error=str(error)), 400

    @bp.errorhandler(TooManyAppPasswords)
    def too_many_secrets(error: TooManyAppPasswords) -> tuple[Response, int]:
        # As Graph's addPassword answers (tests/recordings/add_password_too_many_app_passwords).
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id", request_id)
        body = error.body(
            request_id=request_id, client_request_id=client_request_id, now=store.now()
        )
        return jsonify(body), error.status

    @bp.errorhandler(KeyError)
    def missing(error: KeyError) -> tuple[Response, int]:
        return jsonify(error=f"missing field {error}"), 400

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        return jsonify(error=error.description), error.code or 500

    @bp.get("/")
    def state_page() -> str:
        with store.lock:
            return render_template(
                "state.html",
                state=store.state,
                now=store.now(),
                audiences=AUDIENCES,
                faults=handle.emulator.faults.snapshot(),
            )

    @bp.get("/state")
    def get_state() -> Response:
        return jsonify(handle.snapshot())

    @bp.put("/state")
    def put_state() -> Response:
        handle.reset(state_from_plain(_body()))
        return jsonify(handle.snapshot())

    @bp.post("/reset")
    def reset() -> Response:
        handle.reset()
        return jsonify(handle.snapshot())

    @bp.post("/directories")
    def add_directory() -> tuple[Response, int]:
        data = _body()
        created = handle.add_directory(
            str(data["name"]), *data.get("domains", []), id=data.get("id")
        )
        return jsonify(to_plain(created)), 201

    @bp.post("/directories/<tenant>/federated-domains")
    def federate_domain(tenant: str) -> tuple[Response, int]:
        """{domain}: a domain of the directory that signs in at its own AD FS."""
        domain = str(_body()["domain"]).strip()
        if not domain or "@" in domain or "/" in domain:
            raise ValueError("domain is a DNS name, such as contoso.com")
        return jsonify(to_plain(handle.federate_domain(directory(tenant), domain))), 201

    @bp.put("/directories/<tenant>/app-management-policy")
    def app_management_policy(tenant: str) -> Response:
        """{is_enabled, password_credentials: [{restriction_type,
        restrict_for_apps_created_after, max_lifetime}], key_credentials: [...]}: the
        directory's tenant default app management policy."""
        policy = from_plain(AppManagementPolicy, _body(), "app_management_policy")
        return jsonify(to_plain(handle.set_app_management_policy(directory(tenant), policy)))

    @bp.post("/directories/<tenant>/users")
    def add_user(tenant: str) -> tuple[Response, int]:
        created = store.add_user(directory(tenant), from_plain(User, _body(), "user"))
        return jsonify(to_plain(created)), 201

    @bp.post("/personal-accounts")
    def add_personal() -> tuple[Response, int]:
        data = {"id": personal_account_id(), **_body(), "personal": True}
        created = from_plain(User, data, "user")
        return jsonify(to_plain(store.add_user(None, created))), 201

    @bp.patch("/users/<upn>")
    def patch_user(upn: str) -> Response:
        changes = _only(User, _body(), USER_FIELDS)
        if changes.get("blocked", "") not in BLOCKS:
            raise ValueError(f"blocked is one of {BLOCKS}")
        return jsonify(to_plain(handle.update_user(user(upn), **changes)))

    @bp.post("/users/<upn>/revoke-refresh-tokens")
    def revoke_refresh_tokens(upn: str) -> Response:
        """Every refresh token of the user (work or personal) issued until now ends."""
        handle.revoke_refresh_tokens(user(upn))
        return jsonify(revoked=True)

    @bp.post("/users/<upn>/messages")
    def add_message(upn: str) -> tuple[Response, int]:
        data = _body()
        created = handle.add_message(
            user(upn), str(data["subject"]), str(data.get("body", "")), str(data.get("sender", ""))
        )
        return jsonify(to_plain(created)), 201

    @bp.post("/apps")
    def add_app() -> tuple[Response, int]:
        data = _body()
        home = directory(str(data.pop("directory", data.pop("directory_id", ""))))
        created = handle.register_app(
            home,
            str(data.get("name", "Operations app")),
            redirect_uris=data.get("redirect_uris"),
            permissions=data.get("permissions"),
            delegated=data.get("delegated"),
            public_client=bool(data.get("public_client")),
            sign_in_audience=str(data.get("sign_in_audience", "AzureADMyOrg")),
        )
        return jsonify(to_plain(created)), 201

    @bp.patch("/apps/<client_id>")
    def patch_app(client_id: str) -> Response:
        changes = _only(AppRegistration, _body(), APP_FIELDS)
        if changes.get("sign_in_audience", "AzureADMyOrg") not in AUDIENCES:
            raise ValueError(f"sign_in_audience is one of {', '.join(AUDIENCES)}")
        return jsonify(to_plain(handle.update_app(app(client_id), **changes)))

    @bp.post("/apps/<client_id>/secrets")
    def add_secret(client_id: str) -> tuple[Response, int]:
        data = _body()
        end = parse_time(data["end"]) if data.get("end") else None
        start = parse_time(data["start"]) if data.get("start") else None
        days = float(data.get("days", 180))
        secret = handle.add_secret(
            app(client_id),
            days=days,
            end=end,
            start=start,
            display_name=str(data.get("display_name", "")),
        )
        return jsonify({**to_plain(secret), "hint": secret.hint}), 201

    @bp.post("/apps/<client_id>/certificates")
    def add_certificate(client_id: str) -> tuple[Response, int]:
        """Upload certificate: {"certificate": PEM, or DER in base64, "display_name": ...}."""
        data = _body()
        text = str(data.get("certificate", ""))
        raw: str | bytes = text if "-----BEGIN" in text else base64.b64decode(text)
        entry = handle.add_certificate(
            app(client_id), raw, display_name=str(data.get("display_name", ""))
        )
        return jsonify(to_plain(entry)), 201

    @bp.post("/apps/<client_id>/consent")
    def consent(client_id: str) -> Response:
        data = _body()
        target, registration = directory(str(data["directory"])), app(client_id)
        if "app_roles" in data or "delegated_scopes" in data:
            sp = handle.set_consent(
                registration,
                target,
                app_roles=data.get("app_roles"),
                delegated_scopes=data.get("delegated_scopes"),
            )
        else:
            sp = handle.grant_admin_consent(registration, target)
        return jsonify(to_plain(sp))

    @bp.delete("/apps/<client_id>/service-principals/<tenant>")
    def delete_service_principal(client_id: str, tenant: str) -> Response:
        """The enterprise application deleted in that directory; 404 if there was none."""
        if not handle.delete_service_principal(app(client_id), directory(tenant)):
            raise NotFound(f"no service principal of {client_id} in {tenant}")
        return jsonify(deleted=True)

    @bp.post("/apps/<client_id>/access-policies")
    def add_policy(client_id: str) -> tuple[Response, int]:
        data = _body()
        policy = handle.add_access_policy(
            app(client_id),
            directory(str(data["directory"])),
            list(data["mailboxes"]),
            mode=str(data.get("mode", "RestrictAccess")),
        )
        return jsonify(to_plain(policy)), 201

    @bp.post("/apps/<client_id>/exchange-role-assignments")
    def add_exchange_role(client_id: str) -> tuple[Response, int]:
        """{directory, role: "Application Mail.Read"|..., mailboxes: [...] (none: all)}"""
        data = _body()
        assignment = handle.add_exchange_role_assignment(
            app(client_id),
            directory(str(data["directory"])),
            str(data["role"]),
            [str(m) for m in data.get("mailboxes") or []],
        )
        # The fields this route has always answered, and those of the newer ones set.
        plain = to_plain(assignment)
        legacy = ("directory_id", "client_id", "role", "mailboxes")
        return jsonify({k: v for k, v in plain.items() if k in legacy or v}), 201

    @bp.post("/directories/<tenant>/groups")
    def add_group(tenant: str) -> tuple[Response, int]:
        """{name, address, members: [UPN, ...], distinguished_name}: a mail-enabled group."""
        data = _body()
        group = handle.add_mail_group(
            directory(tenant),
            str(data["name"]),
            str(data.get("address", "")),
            [str(m) for m in data.get("members") or []],
            distinguished_name=str(data.get("distinguished_name", "")),
        )
        return jsonify(to_plain(group)), 201

    @bp.put("/directories/<tenant>/groups/<key>/members")
    def set_group_members(tenant: str, key: str) -> Response:
        """{members: [UPN, ...]}: the group's direct members from now on."""
        found = exchange_rbac.find_group(directory(tenant), key)
        if found is None:
            raise NotFound(f"no group {key} in {tenant}")
        members = _body()["members"]
        if not isinstance(members, list):
            raise ValueError("members is a list of UPNs")
        return jsonify(to_plain(handle.set_group_members(found, [str(m) for m in members])))

    @bp.post("/directories/<tenant>/exchange/commands")
    def exchange_commands(tenant: str) -> tuple[Response, int]:
        """{commands: ["New-ServicePrincipal -AppId '...' ...", ...]}: Exchange Online
        PowerShell lines run in order (exchange_shell.py); 200 with each line's result,
        or 400 with the results up to the first line that failed and `failed_line`."""
        commands = _body()["commands"]
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise ValueError("commands is a list of strings")
        outcome = handle.exchange_commands(directory(tenant), commands)
        body = outcome.plain()
        if not outcome.ok:
            failed = outcome.results[-1]
            body["error"] = f"line {outcome.failed_line}: {failed['error']}"
        return jsonify(body), 200 if outcome.ok else 400

    @bp.put("/exchange-propagation")
    def exchange_propagation() -> Response:
        """{seconds}: how long Graph takes to see an Exchange RBAC change."""
        seconds = _body()["seconds"]
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise ValueError("seconds is a whole number")
        handle.set_exchange_propagation(seconds)
        return jsonify(seconds=handle.state.exchange_propagation_seconds)

    @bp.put("/consent-propagation")
    def consent_propagation() -> Response:
        """{seconds}: how long new app tokens lack the roles after an admin consent."""
        seconds = _body()["seconds"]
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise ValueError("seconds is a whole number")
        handle.set_consent_propagation(seconds)
        return jsonify(seconds=handle.state.consent_propagation_seconds)

    @bp.get("/faults")
    def get_faults() -> Response:
        return jsonify(handle.emulator.faults.snapshot() | {"endpoints": list(ENDPOINTS)})

    @bp.put("/faults/<endpoint>")
    def put_fault(endpoint: str) -> Response:
        handle.emulator.faults.set(endpoint, from_plain(Fault, _body(), "fault"))
        return get_faults()

    @bp.put("/replay/<endpoint>")
    def put_replay(endpoint: str) -> Response:
        """{status, body, headers, times}: a recorded response for the next requests."""
        handle.emulator.faults.replay(endpoint, from_plain(Replay, _body(), "replay"))
        return get_faults()

    @bp.delete("/faults")
    def clear_faults() -> Response:
        handle.clear_faults()
        return get_faults()

    @bp.put("/mailbox-limit")
    def mailbox_limit() -> Response:
        handle.set_mailbox_limit(int(_body()["limit"]))
        return get_faults()

    @bp.get("/counters")
    def counters() -> Response:
        return jsonify(handle.counters())

    @bp.delete("/counters")
    def reset_counters() -> Response:
        handle.reset_counters()
        return jsonify(handle.counters())

    @bp.post("/clock")
    def clock() -> Response:
        handle.advance_clock(float(_body()["advance_seconds"]))
        offset: timedelta = store.clock_offset
        return jsonify(now=store.now().isoformat(), offset_seconds=offset.total_seconds())

    return bp


def _only(cls: type, data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """The changes in `data`, type-checked; only the `allowed` fields may change."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}; only {', '.join(allowed)}")
    return {name: convert_field(cls, name, value) for name, value in data.items()}
