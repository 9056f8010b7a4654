"""login.microsoftonline.com's machine endpoints: OIDC discovery, token, JWKS, instance
discovery, user realm (and the MEX document behind a personal account's realm)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, render_template, request

from microsoft_emulator import clients, grants
from microsoft_emulator.core import (
    GRAPH_PREFIX,
    Emulator,
    aad_response,
    injected,
    login_base,
    own_graph_urls,
)
from microsoft_emulator.errors import AADSTS, AadError, aad
from microsoft_emulator.state import Directory

CONSUMER_DOMAINS = ("outlook.com", "hotmail.com", "live.com", "msn.com")
_EMPTY_MEX = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"/>'
)


def discovery_document(base: str, tenant_id: str, tenant_path: str) -> dict[str, object]:
    """Shaped like Microsoft's; token_endpoint carries the GUID, which msal uses as realm."""
    return {
        "token_endpoint": f"{base}/{tenant_path}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/{tenant_path}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{tenant_id}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}{GRAPH_PREFIX}/oidc/userinfo",
        "authorization_endpoint": f"{base}/{tenant_path}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/{tenant_path}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/{tenant_path}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": f"{urlsplit(base).netloc}{GRAPH_PREFIX}",
        "rbac_url": "https://pas.windows.net",
    }


def identity_blueprint(emulator: Emulator) -> Blueprint:
    bp = Blueprint("identity", __name__)
    store = emulator.store

    @bp.get("/<tenant>/v2.0/.well-known/openid-configuration")
    def discovery(tenant: str) -> Response:
        if fault := injected("discovery", emulator):
            return fault
        try:
            target = clients.resolve_tenant(store, tenant)
        except AadError as error:
            return aad_response(aad(error.code, "invalid_tenant", **dict(error.params)), emulator)
        if isinstance(target, Directory):
            return jsonify(discovery_document(login_base(), target.id, target.id))
        return jsonify(discovery_document(login_base(), "{tenantid}", target))

    @bp.post("/<tenant>/oauth2/v2.0/token")
    def token(tenant: str) -> Response:
        if fault := injected("token", emulator):
            return fault
        form = request.form.to_dict()
        emulator.faults.count_token(form.get("client_id", ""), form.get("grant_type", ""))
        with store.lock:
            context = grants.Context(
                store, emulator.issuer, login_base(), own_graph_urls(), store.now()
            )
            try:
                body = grants.token(context, tenant, form)
            except AadError as error:
                # Not cached, as Microsoft's token errors say (tests/recordings/
                # token_password_user_not_found); discovery's errors are cached a day.
                refused = aad_response(error, emulator)
                refused.headers["Cache-Control"] = "no-store, no-cache"
                refused.headers["Pragma"] = "no-cache"
                return refused
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store, no-cache"
        return response

    @bp.get("/<tenant>/discovery/v2.0/keys")
    @bp.get("/<tenant>/discovery/keys")
    def keys(tenant: str) -> Response:
        return injected("keys", emulator) or jsonify(emulator.issuer.jwks())

    @bp.get("/common/discovery/instance")
    def instance_discovery() -> Response:
        if fault := injected("instance", emulator):
            return fault
        endpoint = urlsplit(request.args.get("authorization_endpoint", ""))
        tenant = (endpoint.path.strip("/").split("/") or ["common"])[0] or "common"
        host = urlsplit(login_base()).netloc
        return jsonify(
            {
                "tenant_discovery_endpoint": (
                    f"{login_base()}/{tenant}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": request.args.get("api-version", "1.1"),
                "metadata": [
                    {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                ],
            }
        )

    @bp.get("/common/userrealm/<path:username>")
    def user_realm(username: str) -> Response:
        if fault := injected("userrealm", emulator):
            return fault
        return jsonify(_realm(emulator, username))

    @bp.get("/common/mex/personal")
    def personal_mex() -> Response:
        # Outlook.com offers no WS-Trust username endpoint: msal gives up (its issue #507).
        return Response(_EMPTY_MEX, mimetype="application/soap+xml")

    @bp.get("/error")
    def error_page() -> str:
        code = request.args.get("code", "")
        spec = AADSTS.get(int(code)) if code.isdigit() else None
        return render_template("error_code.html", code=code, spec=spec)

    return bp


def _realm(emulator: Emulator, username: str) -> dict[str, object]:
    """The user realm (api-version 1.0), with the fields of Microsoft's answers in
    tests/recordings/userrealm_*.json."""
    domain = username.rpartition("@")[2].lower()
    found = emulator.store.find_user(username)
    directory = found[0] if found else emulator.store.directory(domain)
    realm: dict[str, object] = {
        "ver": "1.0",
        "domain_name": domain,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }
    if (found and found[1].personal) or domain in CONSUMER_DOMAINS:
        # Microsoft names live.com, whatever the consumer domain asked about; its MEX is
        # on nexus.passport.com, which the emulator serves itself instead.
        base = login_base()
        realm.update(
            account_type="Federated",
            domain_name="live.com",
            federation_protocol="WSTrust",
            federation_metadata_url=f"{base}/common/mex/personal",
            federation_active_auth_url=f"{base}/common/wstrust/personal",
        )
    elif directory is not None and domain in (d.lower() for d in directory.federated_domains):
        # The organisation's AD FS, at the paths AD FS publishes; the emulator runs none.
        realm.update(
            account_type="Federated",
            federation_protocol="WSTrust",
            federation_metadata_url=f"https://sts.{domain}/adfs/services/trust/mex",
            federation_active_auth_url=(
                f"https://sts.{domain}/adfs/services/trust/2005/usernamemixed"
            ),
        )
    elif found or directory is not None:
        realm["account_type"] = "Managed"
    else:
        realm["account_type"] = "Unknown"
    return realm
