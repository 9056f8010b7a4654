"""Graph's calls by which a signed-in admin's delegated token registers an app in their
own directory: POST /applications, POST /servicePrincipals, an application permission
granted with POST /servicePrincipals/{id}/appRoleAssignedTo, a client secret with
addPassword, and the tenant's app management policy that may refuse one.

Each answer is held to Microsoft's documented or quoted one in tests/recordings/
graph_create_application, graph_create_service_principal(_exists),
graph_app_role_assigned_to(_denied), graph_add_password(_blocked_by_policy) and
graph_default_app_management_policy. Where no source was found the emulator's wording
is marked NOT VERIFIED beside it.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from microsoft_emulator import app_limits, catalogue, certificates, errors
from microsoft_emulator.core import (
    GRAPH_PREFIX,
    Emulator,
    client_request_id,
    graph_response,
    injected,
    login_base,
)
from microsoft_emulator.errors import GraphError
from microsoft_emulator.graph import APP_READ, Caller, caller, with_request_ids
from microsoft_emulator.state import (
    AUDIENCES,
    CONSUMERS_TENANT_ID,
    GRAPH_APP_ID,
    AppManagementPolicy,
    AppRegistration,
    CredentialRestriction,
    Directory,
    Permission,
    ServicePrincipal,
    iso,
    parse_time,
)
from microsoft_emulator.store import Store

# Microsoft Graph's app role IDs (the same in every directory) for the application
# permissions the emulator serves, as tests/recordings/graph_app_role_assigned_to notes them.
GRAPH_APP_ROLES = {
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
}
GRAPH_DISPLAY_NAME = "Microsoft Graph"
# application-post-applications.md and application-addpassword.md: Application.ReadWrite.All
# (delegated); an app token may hold Application.ReadWrite.OwnedBy too for POST
# /applications, but the emulator keeps no owners, so addPassword takes .All only.
APP_CREATE = frozenset({"Application.ReadWrite.All", "Application.ReadWrite.OwnedBy"})
APP_WRITE = frozenset({"Application.ReadWrite.All"})
# serviceprincipal-post-serviceprincipals.md.
SP_CREATE = frozenset(
    {"Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.AccessAsUser.All"}
)
# serviceprincipal-post-approleassignedto.md: AppRoleAssignment.ReadWrite.All together with
# Application.Read.All or Directory.Read.All (microsoftgraph/microsoft-graph-docs#12833:
# "the additional "Application.Read.All" permission is also needed"). A write permission
# includes the read one.
ASSIGN = "AppRoleAssignment.ReadWrite.All"
ASSIGN_READ = frozenset(
    {
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
# tenantappmanagementpolicy-get.md (least privileged first).
POLICY_READ = frozenset(
    {
        "Policy.Read.ApplicationConfiguration",
        "Policy.Read.All",
        "Policy.ReadWrite.ApplicationConfiguration",
    }
)
DEFAULT_POLICY_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_POLICY_NAME = "Default app management tenant policy"
DEFAULT_POLICY_DESCRIPTION = (
    "Default tenant policy that enforces app management restrictions on applications and "
    "service principals. To apply policy to targeted resources, create a new policy under "
    "appManagementPolicies collection."
)
PASSWORD_RESTRICTIONS = (
    "passwordAddition",
    "passwordLifetime",
    "symmetricKeyAddition",
    "symmetricKeyLifetime",
    "customPasswordAddition",
)
KEY_RESTRICTIONS = ("asymmetricKeyLifetime", "trustedCertificateAuthority")
# Graph takes a null createdDateTime as 2019-01-01 (appmanagementpolicy-post.md).
UNKNOWN_CREATED = "2019-01-01T00:00:00Z"
# application-post-applications.md's example: an app created with a displayName only has
# signInAudience AzureADandPersonalMicrosoftAccount.
DEFAULT_AUDIENCE = "AzureADandPersonalMicrosoftAccount"


def graph_service_principal_id(directory: Directory) -> str:
    """Microsoft Graph's service principal in `directory` (the resourceId of its app role
    assignments): a different object ID in each directory, stable for the emulator."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"graph-service-principal:{directory.id}"))


def sp_exists(app_id: str) -> GraphError:
    """Quoted in Azure/reliable-web-app-pattern-java#185 (tests/recordings/
    graph_create_service_principal_exists)."""
    return GraphError(
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        "The service principal cannot be created, updated, or restored because the service "
        f"principal name {app_id} is already in use.",
    )


def credential_not_allowed() -> GraphError:
    """tests/recordings/graph_add_password_blocked_by_policy: 400 and the code are
    recorded, and the message's opening words; the policy ID after them is NOT VERIFIED."""
    return GraphError(
        400,
        "CredentialTypeNotAllowedAsPerAppPolicy",
        f"Credential type not allowed as per assigned policy '{DEFAULT_POLICY_ID}'.",
    )


def bad_request(message: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", message)


def invalid(name: str) -> GraphError:
    """NOT VERIFIED: Graph's words for a property value it refuses, as Microsoft's Teams
    Toolkit tests mock them for signInAudience (fx-core aadAppClient.test.ts)."""
    return bad_request(f"Invalid value specified for property '{name}' of resource 'Application'")


# NOT VERIFIED against a recording: the words third-party scripts match on.
ROLE_NOT_FOUND = "Permission being assigned was not found on application '{app_id}'."
ROLE_EXISTS = "Permission being assigned already exists on the object"


# --- policy ---------------------------------------------------------------------------
def check_policy(policy: AppManagementPolicy) -> AppManagementPolicy:
    """ValueError for a restriction Graph does not know, or one given twice ("Each value
    of restrictionType can be used only once per policy", passwordcredentialconfiguration.md)."""
    for kinds, restrictions in (
        (PASSWORD_RESTRICTIONS, policy.password_credentials),
        (KEY_RESTRICTIONS, policy.key_credentials),
    ):
        seen: set[str] = set()
        for restriction in restrictions:
            if restriction.restriction_type not in kinds:
                raise ValueError(
                    f"restriction_type {restriction.restriction_type!r} is one of "
                    f"{', '.join(kinds)}"
                )
            if restriction.restriction_type in seen:
                raise ValueError(f"{restriction.restriction_type} is given twice")
            seen.add(restriction.restriction_type)
            if restriction.restrict_for_apps_created_after:
                parse_time(restriction.restrict_for_apps_created_after)
    return policy


def password_addition_blocked(directory: Directory, app: AppRegistration) -> bool:
    """The tenant default policy, when enabled, refuses new passwords to apps created on or
    after its passwordAddition restriction's date (all apps when it has none)."""
    policy = directory.app_management_policy
    if not policy.is_enabled:
        return False
    created = parse_time(app.created or UNKNOWN_CREATED)
    for restriction in policy.password_credentials:
        if restriction.restriction_type != "passwordAddition":
            continue
        after = restriction.restrict_for_apps_created_after
        if not after or created >= parse_time(after):
            return True
    return False


def _restriction(restriction: CredentialRestriction) -> dict[str, Any]:
    return {
        "restrictionType": restriction.restriction_type,
        "maxLifetime": restriction.max_lifetime or None,
        "restrictForAppsCreatedAfterDateTime": (
            iso(parse_time(restriction.restrict_for_apps_created_after))
            if restriction.restrict_for_apps_created_after
            else None
        ),
    }


def default_policy_resource(directory: Directory, graph_base: str) -> dict[str, Any]:
    policy = directory.app_management_policy
    path = "defaultAppManagementPolicy"
    return {
        "@odata.context": f"{graph_base}/v1.0/$metadata#policies/{path}/$entity",
        "@odata.id": f"{graph_base}/v2/{directory.id}/{path}/{DEFAULT_POLICY_ID}",
        "id": DEFAULT_POLICY_ID,
        "displayName": DEFAULT_POLICY_NAME,
        "description": DEFAULT_POLICY_DESCRIPTION,
        "isEnabled": policy.is_enabled,
        "applicationRestrictions": {
            "passwordCredentials": [_restriction(r) for r in policy.password_credentials],
            "keyCredentials": [_restriction(r) for r in policy.key_credentials],
        },
        "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []},
    }


# --- resources ------------------------------------------------------------------------
def _role_id(name: str) -> str | None:
    return GRAPH_APP_ROLES.get(name)


def _role_name(role_id: str) -> str | None:
    wanted = role_id.lower()
    return next((n for n, i in GRAPH_APP_ROLES.items() if i == wanted), None)


def application_resource(
    app: AppRegistration, directory: Directory, graph_base: str
) -> dict[str, Any]:
    """The application as POST /applications answers it (application-post-applications.md)."""
    roles = [
        {"id": role_id, "type": "Role"}
        for role_id in (_role_id(n) for n in app.permission_names("Application"))
        if role_id
    ]
    return {
        "@odata.context": f"{graph_base}/v1.0/$metadata#applications/$entity",
        "id": app.object_id,
        "deletedDateTime": None,
        "isFallbackPublicClient": app.public_client or None,
        "appId": app.client_id,
        "applicationTemplateId": None,
        "identifierUris": [],
        "createdDateTime": app.created or None,
        "displayName": app.name,
        "isDeviceOnlyAuthSupported": None,
        "groupMembershipClaims": None,
        "optionalClaims": None,
        "addIns": [],
        "publisherDomain": directory.initial_domain,
        "samlMetadataUrl": None,
        "signInAudience": app.sign_in_audience,
        "tags": [],
        "tokenEncryptionKeyId": None,
        "api": {
            "requestedAccessTokenVersion": None,
            "acceptMappedClaims": None,
            "knownClientApplications": [],
            "oauth2PermissionScopes": [],
            "preAuthorizedApplications": [],
        },
        "appRoles": [],
        "publicClient": {"redirectUris": []},
        "info": {
            "termsOfServiceUrl": None,
            "supportUrl": None,
            "privacyStatementUrl": None,
            "marketingUrl": None,
            "logoUrl": None,
        },
        "keyCredentials": [c.resource() for c in app.key_credentials],
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [],
        "requiredResourceAccess": (
            [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": roles}] if roles else []
        ),
        "web": {
            "redirectUris": list(app.redirect_uris),
            "homePageUrl": None,
            "logoutUrl": None,
            "implicitGrantSettings": {
                "enableIdTokenIssuance": app.implicit_id_tokens,
                "enableAccessTokenIssuance": app.implicit_access_tokens,
            },
        },
    }


def _graph_app_roles() -> list[dict[str, Any]]:
    roles = []
    for name, role_id in GRAPH_APP_ROLES.items():
        permission = catalogue.graph_permission(name, "Application")
        description = permission.description if permission else name
        roles.append(
            {
                "allowedMemberTypes": ["Application"],
                "description": description,
                "displayName": description,
                "id": role_id,
                "isEnabled": True,
                "origin": "Application",
                "value": name,
            }
        )
    return roles


def service_principal_resource(
    *,
    object_id: str,
    app_id: str,
    name: str,
    owner_directory: str,
    reply_urls: list[str],
    app_roles: list[dict[str, Any]],
    graph_base: str,
) -> dict[str, Any]:
    """A servicePrincipal as POST /servicePrincipals answers it
    (serviceprincipal-post-serviceprincipals.md)."""
    return {
        "@odata.context": f"{graph_base}/v1.0/$metadata#servicePrincipals/$entity",
        "id": object_id,
        "deletedDateTime": None,
        "accountEnabled": True,
        "appDisplayName": name,
        "appId": app_id,
        "appOwnerOrganizationId": owner_directory,
        "appRoleAssignmentRequired": False,
        "displayName": name,
        "homepage": None,
        "logoutUrl": None,
        "publisherName": None,
        "replyUrls": list(reply_urls),
        "servicePrincipalNames": [app_id],
        "servicePrincipalType": "Application",
        "tags": [],
        "addIns": [],
        "appRoles": app_roles,
        "info": {
            "termsOfServiceUrl": None,
            "supportUrl": None,
            "privacyStatementUrl": None,
            "marketingUrl": None,
            "logoUrl": None,
        },
        "keyCredentials": [],
        "oauth2PermissionScopes": [],
        "passwordCredentials": [],
    }


def app_sp_resource(sp: ServicePrincipal, app: AppRegistration, graph_base: str) -> dict[str, Any]:
    return service_principal_resource(
        object_id=sp.object_id,
        app_id=app.client_id,
        name=app.name,
        owner_directory=app.directory_id,
        reply_urls=app.redirect_uris,
        app_roles=[],
        graph_base=graph_base,
    )


def graph_sp_resource(directory: Directory, graph_base: str) -> dict[str, Any]:
    """Microsoft Graph's own service principal in `directory`, with the app roles the
    emulator serves: where an admin tool finds the resourceId and appRoleId to assign."""
    return service_principal_resource(
        object_id=graph_service_principal_id(directory),
        app_id=GRAPH_APP_ID,
        name=GRAPH_DISPLAY_NAME,
        # Microsoft's own directory owns Graph.
        owner_directory="f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        reply_urls=[],
        app_roles=_graph_app_roles(),
        graph_base=graph_base,
    )


def assignment_id(principal_id: str) -> str:
    """An appRoleAssignment ID shaped as Graph's: 43 base64url characters whose first 16
    bytes are the principal's object ID ("-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc" in
    serviceprincipal-post-approleassignedto.md)."""
    raw = uuid.UUID(principal_id).bytes_le + uuid.uuid4().bytes
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def password_resource(secret_text: str, secret: Any) -> dict[str, Any]:
    """The passwordCredential addPassword answers with, secretText included (the only
    time it is shown: application-addpassword.md)."""
    return {
        "customKeyIdentifier": None,
        "endDateTime": iso(secret.end),
        "keyId": secret.key_id,
        "startDateTime": iso(secret.start),
        "secretText": secret_text,
        "hint": secret.hint,
        "displayName": secret.display_name or None,
    }


def two_years_after(start: datetime) -> datetime:
    """addPassword's default endDateTime: "startDateTime + 2 years"."""
    try:
        return start.replace(year=start.year + 2)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 2, day=28) + timedelta(days=1)


# --- requests -------------------------------------------------------------------------
def _graph_base() -> str:
    return f"{login_base()}{GRAPH_PREFIX}"


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    return body


def _needs(who: Caller, permissions: frozenset[str]) -> None:
    if not who.permissions & permissions:
        raise errors.INSUFFICIENT_PRIVILEGES
    if who.directory.id == CONSUMERS_TENANT_ID:
        # The consumer directory is Microsoft's: no one registers apps in it here.
        raise errors.INSUFFICIENT_PRIVILEGES


def _app_in(store: Store, who: Caller, object_id: str, app_id: str) -> AppRegistration:
    app = store.app(app_id) if app_id else store.app_by_object_id(object_id)
    if app is None or app.directory_id != who.directory.id:
        raise errors.not_found(app_id or object_id)
    return app


def _parse_application(body: dict[str, Any]) -> AppRegistration:
    name = body.get("displayName")
    if not isinstance(name, str) or not name.strip():
        # NOT VERIFIED: the emulator's wording for a missing displayName.
        raise bad_request("Property 'displayName' is required.")
    audience = body.get("signInAudience") or DEFAULT_AUDIENCE
    if audience not in AUDIENCES:
        raise invalid("signInAudience")
    web = body.get("web") or {}
    if not isinstance(web, dict):
        raise invalid("web")
    redirect_uris = web.get("redirectUris") or []
    implicit = web.get("implicitGrantSettings") or {}
    if not isinstance(redirect_uris, list) or not all(isinstance(u, str) for u in redirect_uris):
        raise invalid("redirectUris")
    app = AppRegistration(
        name=name,
        directory_id="",
        sign_in_audience=str(audience),
        redirect_uris=list(redirect_uris),
        implicit_access_tokens=bool(implicit.get("enableAccessTokenIssuance")),
        implicit_id_tokens=bool(implicit.get("enableIdTokenIssuance")),
        public_client=bool(body.get("isFallbackPublicClient")),
    )
    app.permissions = _required_roles(body.get("requiredResourceAccess") or [])
    for entry in body.get("keyCredentials") or []:
        app.key_credentials.append(_key_credential(entry))
    return app


def _required_roles(required: Any) -> list[Permission]:
    """The Microsoft Graph application permissions (type Role) the app asks for, by the
    names the emulator grants; other resources' and delegated entries are not kept."""
    if not isinstance(required, list):
        raise invalid("requiredResourceAccess")
    wanted: list[Permission] = []
    for resource in required:
        if not isinstance(resource, dict) or resource.get("resourceAppId") != GRAPH_APP_ID:
            continue
        for access in resource.get("resourceAccess") or []:
            if isinstance(access, dict) and access.get("type") == "Role":
                name = _role_name(str(access.get("id", "")))
                if name and all(p.name != name for p in wanted):
                    wanted.append(Permission(name=name))
    return wanted


def _key_credential(entry: Any) -> Any:
    if not isinstance(entry, dict) or not entry.get("key"):
        raise invalid("keyCredentials")
    try:
        der = base64.b64decode(str(entry["key"]), validate=True)
        cert = certificates.load_certificate(der)
    except ValueError:
        raise invalid("keyCredentials") from None
    return certificates.key_credential(cert, str(entry.get("displayName") or ""))


# --- the signed-in user's directory roles; apps by display name; deleting an app ------
# entra-docs permissions-reference.md's Template ID column (the same in every
# directory; a directoryRole's own id is the directory's), for the roles a User's
# admin_role names.
ROLE_TEMPLATES = {
    "Global Administrator": (
        "62e90394-69f5-4237-9190-012177145e10",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use "
        "Microsoft Entra identities.",
    ),
    "Privileged Role Administrator": (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged "
        "Identity Management.",
    ),
    "Application Administrator": (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Can create and manage all aspects of app registrations and enterprise apps.",
    ),
    "Cloud Application Administrator": (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Can create and manage all aspects of app registrations and enterprise apps "
        "except App Proxy.",
    ),
    "Application Developer": (
        "cf1c38e5-3621-4004-a7cb-879624dced7c",
        "Can create application registrations independent of the 'Users can register "
        "applications' setting.",
    ),
}
# user-list-transitivememberof.md and user-list-memberof.md, the signed-in user's own
# memberships: User.Read is the least privileged (tests/recordings/
# graph_member_of_permissions).
MEMBER_OF_READ = frozenset(
    {
        "User.Read",
        "User.Read.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Group.Read.All",
        "GroupMember.Read.All",
    }
)
# What reads a directoryRole in full; without one, Graph leaves its displayName and
# description null in a membership list and keeps roleTemplateId (tests/recordings/
# graph_member_of_directory_role_limited).
ROLE_READ = frozenset(
    {
        "RoleManagement.Read.Directory",
        "RoleManagement.ReadWrite.Directory",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
# application-delete.md.
APP_DELETE = frozenset(
    {"Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.AccessAsUser.All"}
)
# An OData string literal in `displayName eq '...'`: a quote inside it is doubled.
DISPLAY_NAME_FILTER = re.compile(r"\s*displayName\s+eq\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)


def directory_role_resource(directory: Directory, role: str, *, named: bool) -> dict[str, Any]:
    """A directoryRole as a membership list shows it. A role without a known template
    gets a stable made-up one (NOT VERIFIED: the emulator's only)."""
    template, description = ROLE_TEMPLATES.get(
        role, (str(uuid.uuid5(uuid.NAMESPACE_URL, f"role-template:{role}")), "")
    )
    return {
        "@odata.type": "#microsoft.graph.directoryRole",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"directory-role:{directory.id}:{template}")),
        "deletedDateTime": None,
        "description": (description or None) if named else None,
        "displayName": role if named else None,
        "roleTemplateId": template,
    }


def provisioning_blueprint(emulator: Emulator) -> Blueprint:
    bp = Blueprint("graph_provisioning", __name__, url_prefix=f"{GRAPH_PREFIX}/v1.0")
    store = emulator.store

    def answer(endpoint: str, work: Callable[[Caller], Response]) -> Response:
        if fault := injected(endpoint, emulator, graph=True):
            return fault
        try:
            with store.lock:
                return with_request_ids(work(caller(emulator)))
        except GraphError as error:
            return graph_response(error, emulator)
        except app_limits.TooManyAppPasswords as error:  # its own shape, with details
            request_id, client_id = str(uuid.uuid4()), client_request_id()
            body = error.body(request_id=request_id, client_request_id=client_id, now=store.now())
            response = jsonify(body)
            response.status_code = error.status
            response.headers["request-id"] = request_id
            response.headers["client-request-id"] = client_id
            return response

    def created(resource: dict[str, Any]) -> Response:
        response = jsonify(resource)
        response.status_code = 201
        return response

    @bp.post("/applications")
    def create_application() -> Response:
        def work(who: Caller) -> Response:
            _needs(who, APP_CREATE)
            app = _parse_application(_json_body())
            try:
                store.create_application(who.directory, app)
            except ValueError as problem:  # a display name the account type does not allow
                raise bad_request(str(problem)) from None
            return created(application_resource(app, who.directory, _graph_base()))

        return answer("graph.application", work)

    @bp.post("/servicePrincipals")
    def create_service_principal() -> Response:
        def work(who: Caller) -> Response:
            _needs(who, SP_CREATE)
            app_id = str(_json_body().get("appId") or "")
            app = store.app(app_id) if app_id else None
            visible = app is not None and (
                app.directory_id == who.directory.id or app.sign_in_audience != "AzureADMyOrg"
            )
            if app is None or not visible:
                # NOT VERIFIED: Graph's answer for an appId it does not know.
                raise errors.not_found(app_id)
            if store.service_principal(who.directory.id, app.client_id) is not None:
                raise sp_exists(app.client_id)
            sp = store.add_service_principal(who.directory, app)
            return created(app_sp_resource(sp, app, _graph_base()))

        return answer("graph.servicePrincipal", work)

    @bp.get("/servicePrincipals(appId='<app_id>')")
    def service_principal(app_id: str) -> Response:
        def work(who: Caller) -> Response:
            _needs(who, APP_READ)
            return jsonify(_sp_by_app_id(who, app_id))

        return answer("graph.servicePrincipal", work)

    @bp.get("/servicePrincipals")
    def service_principals() -> Response:
        """Filtered by `$filter=appId eq '...'`, the one filter the emulator reads."""

        def work(who: Caller) -> Response:
            _needs(who, APP_READ)
            expression = request.args.get("$filter", "")
            match = re.fullmatch(r"\s*appId\s+eq\s+'([^']*)'\s*", expression, re.IGNORECASE)
            if match is None:
                raise GraphError(400, "BadRequest", f"Invalid filter clause: {expression}")
            try:
                found = [_sp_by_app_id(who, match[1])]
            except GraphError:
                found = []
            for resource in found:
                resource.pop("@odata.context", None)
            context = f"{_graph_base()}/v1.0/$metadata#servicePrincipals"
            return jsonify({"@odata.context": context, "value": found})

        return answer("graph.servicePrincipal", work)

    def _sp_by_app_id(who: Caller, app_id: str) -> dict[str, Any]:
        if app_id.lower() == GRAPH_APP_ID:
            return graph_sp_resource(who.directory, _graph_base())
        sp = store.service_principal(who.directory.id, app_id)
        app = store.app(app_id)
        if sp is None or app is None:
            raise errors.not_found(app_id)
        return app_sp_resource(sp, app, _graph_base())

    @bp.post("/servicePrincipals/<resource_id>/appRoleAssignedTo")
    @bp.post("/servicePrincipals(appId='<resource_app_id>')/appRoleAssignedTo")
    def assign_app_role(resource_id: str = "", resource_app_id: str = "") -> Response:
        def work(who: Caller) -> Response:
            if ASSIGN not in who.permissions or not who.permissions & ASSIGN_READ:
                raise errors.INSUFFICIENT_PRIVILEGES
            if who.user is not None and not who.user.is_admin:
                # Graph's app roles need a Privileged Role Administrator or a Global
                # Administrator (rbac-approleassignments-apis-write.md).
                raise errors.INSUFFICIENT_PRIVILEGES
            graph_id = graph_service_principal_id(who.directory)
            is_graph = resource_id.lower() == graph_id or resource_app_id.lower() == GRAPH_APP_ID
            body = _json_body()
            if not is_graph:
                other = resource_app_id or _app_id_of_sp(who, resource_id)
                raise bad_request(ROLE_NOT_FOUND.format(app_id=other))
            if str(body.get("resourceId", "")).lower() != graph_id:
                # NOT VERIFIED: the emulator's words when the body names another resource.
                raise bad_request("resourceId must be the service principal addressed.")
            principal_id = str(body.get("principalId") or "")
            principal = next(
                (
                    sp
                    for sp in store.state.service_principals
                    if sp.directory_id == who.directory.id
                    and sp.object_id.lower() == principal_id.lower()
                ),
                None,
            )
            if principal is None:
                raise errors.not_found(principal_id)
            role = _role_name(str(body.get("appRoleId") or ""))
            if role is None:
                raise bad_request(ROLE_NOT_FOUND.format(app_id=GRAPH_APP_ID))
            if role in principal.app_roles:
                raise bad_request(ROLE_EXISTS)
            store.assign_app_role(principal, role)
            app = store.app(principal.client_id)
            return created(
                {
                    "@odata.context": f"{_graph_base()}/v1.0/$metadata#servicePrincipals"
                    f"('{graph_id}')/appRoleAssignedTo/$entity",
                    "id": assignment_id(principal.object_id),
                    "deletedDateTime": None,
                    "appRoleId": GRAPH_APP_ROLES[role],
                    "createdDateTime": iso(store.now()),
                    "principalDisplayName": app.name if app else None,
                    "principalId": principal.object_id,
                    "principalType": "ServicePrincipal",
                    "resourceDisplayName": GRAPH_DISPLAY_NAME,
                    "resourceId": graph_id,
                }
            )

        return answer("graph.servicePrincipal", work)

    def _app_id_of_sp(who: Caller, object_id: str) -> str:
        for sp in store.state.service_principals:
            if sp.directory_id == who.directory.id and sp.object_id.lower() == object_id.lower():
                return sp.client_id
        raise errors.not_found(object_id)

    @bp.post("/applications/<object_id>/addPassword")
    @bp.post("/applications(appId='<app_id>')/addPassword")
    def add_password(object_id: str = "", app_id: str = "") -> Response:
        def work(who: Caller) -> Response:
            _needs(who, APP_WRITE)
            app = _app_in(store, who, object_id, app_id)
            body = request.get_json(silent=True) or {}
            given = body.get("passwordCredential") if isinstance(body, dict) else None
            given = given if isinstance(given, dict) else {}
            if password_addition_blocked(who.directory, app):
                raise credential_not_allowed()
            try:
                start = parse_time(given["startDateTime"]) if given.get("startDateTime") else None
                end = parse_time(given["endDateTime"]) if given.get("endDateTime") else None
            except ValueError:
                raise invalid("endDateTime") from None
            start = start or store.now()
            secret = store.add_secret(
                app,
                display_name=str(given.get("displayName") or ""),
                start=start,
                end=end or two_years_after(start),
            )
            return jsonify(password_resource(secret.value, secret))

        return answer("graph.application", work)

    @bp.get("/policies/defaultAppManagementPolicy")
    def default_app_management_policy() -> Response:
        def work(who: Caller) -> Response:
            _needs(who, POLICY_READ)
            return jsonify(default_policy_resource(who.directory, _graph_base()))

        return answer("graph.policy", work)

    @bp.get("/applications/<object_id>/appManagementPolicies")
    @bp.get("/applications(appId='<app_id>')/appManagementPolicies")
    def app_management_policies(object_id: str = "", app_id: str = "") -> Response:
        """The custom appManagementPolicy objects applied to the app (application.md's
        appManagementPolicies relationship): the emulator has none, so an empty
        collection; the tenant default is at /policies/defaultAppManagementPolicy."""

        def work(who: Caller) -> Response:
            _needs(who, POLICY_READ | APP_READ)
            _app_in(store, who, object_id, app_id)
            context = f"{_graph_base()}/v1.0/$metadata#policies/appManagementPolicies"
            return jsonify({"@odata.context": context, "value": []})

        return answer("graph.policy", work)

    @bp.get("/me/transitiveMemberOf")
    @bp.get("/me/memberOf")
    def member_of() -> Response:
        """The signed-in user's groups, directory roles and administrative units: the
        emulator has no groups or units, so their admin_role, if any, as one
        directoryRole, named only for a token that may read roles."""

        def work(who: Caller) -> Response:
            if who.user is None:
                raise GraphError(
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            if not who.permissions & MEMBER_OF_READ or who.directory.id == CONSUMERS_TENANT_ID:
                raise errors.INSUFFICIENT_PRIVILEGES  # personal accounts: "Not supported."
            named = bool(who.permissions & ROLE_READ)
            roles = []
            if who.user.admin_role:
                roles.append(
                    directory_role_resource(who.directory, who.user.admin_role, named=named)
                )
            context = f"{_graph_base()}/v1.0/$metadata#directoryObjects"
            return jsonify({"@odata.context": context, "value": roles})

        return answer("graph.user", work)

    @bp.before_app_request
    def applications_by_display_name() -> Response | None:
        """GET /applications?$filter=displayName eq '...', which graph.py's list (app
        tokens, appId filters) leaves to this one, for delegated and app tokens alike
        (application-list.md: Application.Read.All; tests/recordings/
        graph_list_applications). Any other request goes on to its own endpoint."""
        if request.method != "GET" or request.path != f"{GRAPH_PREFIX}/v1.0/applications":
            return None
        match = DISPLAY_NAME_FILTER.fullmatch(request.args.get("$filter", ""))
        if match is None:
            return None
        wanted = match[1].replace("''", "'").lower()
        fields = [f.strip() for f in request.args.get("$select", "").split(",") if f.strip()]

        def work(who: Caller) -> Response:
            _needs(who, APP_READ)
            found = []
            for app in store.state.apps:
                if app.directory_id != who.directory.id or app.name.lower() != wanted:
                    continue
                resource = application_resource(app, who.directory, _graph_base())
                resource.pop("@odata.context", None)
                if fields:
                    resource = {k: v for k, v in resource.items() if k in fields}
                found.append(resource)
            context = f"{_graph_base()}/v1.0/$metadata#applications"
            return jsonify({"@odata.context": context, "value": found})

        return answer("graph.application", work)

    @bp.delete("/applications/<object_id>")
    @bp.delete("/applications(appId='<app_id>')")
    def delete_application(object_id: str = "", app_id: str = "") -> Response:
        """204 (application-delete.md; tests/recordings/graph_delete_application). The
        app's service principal in its own directory goes with it (NOT VERIFIED); Entra
        keeps deleted apps restorable for 30 days, the emulator does not."""

        def work(who: Caller) -> Response:
            _needs(who, APP_DELETE)
            app = _app_in(store, who, object_id, app_id)
            store.state.apps.remove(app)
            store.state.service_principals = [
                sp
                for sp in store.state.service_principals
                if not (sp.client_id == app.client_id and sp.directory_id == app.directory_id)
            ]
            store.changed()
            return Response(status=204)

        return answer("graph.application", work)

    return bp
