"""Microsoft Graph: registering the customer's own app in their directory for them, with
the signed-in admin's delegated token (authorization code with PKCE; used for these
calls, never stored).

The order a caller runs them in: `signed_in_roles` (tell an admin who may not grant
Graph's app roles so before anything is made), `app_management_policies` (may the app
have a client secret, and for how long), `find_applications` (did an earlier attempt
make it already), `create_application`, `create_service_principal`,
`graph_service_principal`, `assign_app_role` for Mail.Read and Mail.Send, then
`add_password` if the app gets a secret; `delete_application` cleans up after a failure
part-way. Each answer is held to Microsoft's in tests/recordings/graph_create_application,
graph_create_service_principal(_exists), graph_app_role_assigned_to(_denied),
graph_add_password(_blocked_by_policy), graph_default_app_management_policy,
graph_list_applications, graph_delete_application and graph_member_of_*.

Errors are Graph's code (Authorization_RequestDenied, CredentialTypeNotAllowedAsPerAppPolicy,
Request_MultipleObjectsWithSameKeyValue, ...) in a MicrosoftError, transient for 429
and 5xx with Retry-After (graph._graph). Nothing here logs; a secret's text is in
NewPassword only, out of its repr.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from onboarding.microsoft import http
from onboarding.microsoft.errors import MicrosoftError
from onboarding.microsoft.graph import _graph, _parse_time

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph's app role IDs, the same in every directory (tests/recordings/
# graph_app_role_assigned_to notes them).
GRAPH_APP_ROLES = {
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
}
MAIL_ROLES = ("Mail.Read", "Mail.Send")
# entra-docs permissions-reference.md's Template ID column: the same in every directory
# (a directoryRole's own `id` differs per directory). Graph's app roles can be granted by
# a Global Administrator or a Privileged Role Administrator only
# (rbac-approleassignments-apis-write.md, tests/recordings/graph_app_role_assigned_to).
ROLE_TEMPLATES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "cf1c38e5-3621-4004-a7cb-879624dced7c": "Application Developer",
}
ROLES_THAT_GRANT_APP_ROLES = frozenset({"Global Administrator", "Privileged Role Administrator"})
# The wording Graph answers right after POST /applications, before the new app has
# reached every replica (microsoftgraph/msgraph-sdk-dotnet#3108): worth a retry.
_NOT_REPLICATED = "does not reference a valid application object"


@dataclass(frozen=True)
class CredentialPolicy:
    """What the directory's app management policies say about a new app's secrets.

    password_blocked: addPassword will be refused (CredentialTypeNotAllowedAsPerAppPolicy);
    the app needs a certificate. max_password_lifetime: the longest a secret may live
    (None: no limit beyond Entra's own two years).
    """

    password_blocked: bool
    max_password_lifetime: timedelta | None


@dataclass(frozen=True)
class CreatedApplication:
    object_id: str
    app_id: str
    # The certificate's key ID (Entra's Certificate ID) when one was given.
    key_id: str | None


@dataclass(frozen=True)
class FoundApplication:
    object_id: str
    app_id: str
    display_name: str
    created_at: datetime | None


@dataclass(frozen=True)
class NewPassword:
    """A client secret as addPassword answers it: its text is shown this once."""

    key_id: str
    secret_text: str = field(repr=False)
    end: datetime | None = None
    hint: str = ""


# --- who is signed in ---------------------------------------------------------------
def signed_in_roles(access_token: str) -> frozenset[str]:
    """The signed-in admin's directory roles (direct, or through a role-assignable group),
    by Entra's names: `ROLES_THAT_GRANT_APP_ROLES & signed_in_roles(t)` says whether they
    may grant Mail.Read and Mail.Send.

    GET /me/transitiveMemberOf needs only User.Read (user-list-transitivememberof.md,
    tests/recordings/graph_member_of_permissions). With no permission to read directory
    roles (RoleManagement.Read.Directory) Graph leaves their displayName null but gives
    their roleTemplateId (tests/recordings/graph_member_of_directory_role_limited), so
    roles are named by template ID; an unknown one by its displayName, else its
    template ID. No OData cast: a cast would need ConsistencyLevel and $count. Roles an
    admin is only eligible for (Privileged Identity Management, not activated) are not
    memberships and are not listed.
    """
    roles: set[str] = set()
    for entry in _pages("/me/transitiveMemberOf", access_token):
        if str(entry.get("@odata.type", "")).lower() != "#microsoft.graph.directoryrole":
            continue
        template = str(entry.get("roleTemplateId") or "").lower()
        name = ROLE_TEMPLATES.get(template) or str(entry.get("displayName") or "") or template
        if name:
            roles.add(name)
    return frozenset(roles)


# --- the directory's app management policies -------------------------------------------
def app_management_policies(
    access_token: str, *, application_object_id: str | None = None
) -> CredentialPolicy:
    """The tenant default app management policy (GET /policies/defaultAppManagementPolicy,
    Policy.Read.ApplicationConfiguration), or with `application_object_id` the enabled
    custom policies applied to that app instead when it has any (GET
    /applications/{id}/appManagementPolicies), read for an app created now: a
    passwordAddition restriction of an enabled policy blocks secrets when its
    restrictForAppsCreatedAfterDateTime is null or not after now
    (tests/recordings/graph_password_addition_restriction); the shortest
    passwordLifetime maxLifetime (ISO 8601 duration) bounds them.
    """
    default = http.json_body(_graph("GET", "/policies/defaultAppManagementPolicy", access_token))
    policies = [(default, default.get("applicationRestrictions"))]
    if application_object_id:
        path = f"/applications/{_segment(application_object_id)}/appManagementPolicies"
        custom = [
            (policy, policy.get("restrictions"))
            for policy in _pages(path, access_token)
            if policy.get("isEnabled") is True
        ]
        # "If this resource is not configured for an application or service principal,
        # the restrictions default to the settings in the tenantAppManagementPolicy"
        # (appmanagementpolicy.md): an app's own policy stands in for the default.
        policies = custom or policies
    now = datetime.now(UTC)
    blocked = False
    lifetimes: list[timedelta] = []
    for policy, restrictions in policies:
        if policy.get("isEnabled") is not True or not isinstance(restrictions, dict):
            continue
        for restriction in restrictions.get("passwordCredentials") or []:
            if not isinstance(restriction, dict) or restriction.get("state") == "disabled":
                continue
            kind = restriction.get("restrictionType")
            after = _parse_time(restriction.get("restrictForAppsCreatedAfterDateTime"))
            if after is not None and after.tzinfo is None:
                after = after.replace(tzinfo=UTC)  # Graph writes UTC
            if after is not None and after > now:
                continue  # enforced only for apps created on or after that date
            if kind == "passwordAddition":
                blocked = True
            elif kind == "passwordLifetime" and restriction.get("maxLifetime"):
                lifetimes.append(parse_duration(str(restriction["maxLifetime"])))
    return CredentialPolicy(blocked, min(lifetimes) if lifetimes else None)


_DURATION = re.compile(
    r"P(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<weeks>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(value: str) -> timedelta:
    """An ISO 8601 duration as Graph's Duration type writes it ("P4DT12H30M5S",
    passwordcredentialconfiguration.md; "P90D"). Years and months, which have no fixed
    length, count 365 and 28 days, never more than the calendar's: a secret made to fit
    stays within the policy. MicrosoftError invalid_response for anything else."""
    match = _DURATION.fullmatch(value.strip().upper())
    if match is None or not any(match.groupdict().values()) or value.strip().endswith("T"):
        raise MicrosoftError("invalid_response", f"Not an ISO 8601 duration: {value[:40]!r}.")
    part = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return timedelta(
        days=part["years"] * 365 + part["months"] * 28 + part["weeks"] * 7 + part["days"],
        hours=part["hours"],
        minutes=part["minutes"],
        seconds=part["seconds"],
    )


# --- the app registration ------------------------------------------------------------
def create_application(
    access_token: str,
    *,
    display_name: str,
    redirect_uris: Iterable[str],
    certificate_der_b64: str | None,
    required_roles: Iterable[str] = MAIL_ROLES,
    personal_accounts: bool = False,
    public_client: bool = False,
    delegated_scope_ids: Iterable[str] = (),
) -> CreatedApplication:
    """POST /applications (Application.ReadWrite.All): a single-tenant app
    (AzureADMyOrg) with Web redirect URIs, asking for Microsoft Graph's application
    permissions `required_roles` (by name: Mail.Read, Mail.Send), and the certificate
    (its DER in base64) as its first key credential when given. No secret: Graph takes
    those from addPassword only (tests/recordings/graph_create_application). Entra does
    not make display names unique: see `find_applications`.

    personal_accounts: work and personal accounts (AzureADandPersonalMicrosoftAccount)
    with implicit-grant tokens, public_client: "Allow public client flows", and
    delegated_scope_ids (type Scope): step 2's and 3's settings where the portal asks
    for them (onboarding.microsoft.admin_center.Asks)."""
    resource_access = []
    for name in required_roles:
        if name not in GRAPH_APP_ROLES:
            raise ValueError(f"{name!r} is none of {', '.join(GRAPH_APP_ROLES)}")
        resource_access.append({"id": GRAPH_APP_ROLES[name], "type": "Role"})
    resource_access += [{"id": scope, "type": "Scope"} for scope in delegated_scope_ids]
    web: dict[str, Any] = {"redirectUris": list(redirect_uris)}
    if personal_accounts:
        web["implicitGrantSettings"] = {
            "enableAccessTokenIssuance": True,
            "enableIdTokenIssuance": True,
        }
    body: dict[str, Any] = {
        "displayName": display_name,
        "signInAudience": "AzureADandPersonalMicrosoftAccount"
        if personal_accounts
        else "AzureADMyOrg",
        "web": web,
        "requiredResourceAccess": [
            {"resourceAppId": GRAPH_APP_ID, "resourceAccess": resource_access}
        ],
    }
    if public_client:
        body["isFallbackPublicClient"] = True
    if certificate_der_b64:
        body["keyCredentials"] = [
            {
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
                "key": certificate_der_b64,
                "displayName": display_name,
            }
        ]
    created = http.json_body(_graph("POST", "/applications", access_token, json=body))
    object_id, app_id = str(created.get("id") or ""), str(created.get("appId") or "")
    if not object_id or not app_id:
        raise MicrosoftError("invalid_response", "POST /applications answered without ids.")
    key_id = None
    if certificate_der_b64:
        keys = [k for k in created.get("keyCredentials") or [] if isinstance(k, dict)]
        key_id = (str(keys[0].get("keyId") or "") or None) if keys else None
    return CreatedApplication(object_id, app_id, key_id)


def find_applications(access_token: str, *, display_name: str) -> list[FoundApplication]:
    """The directory's apps named `display_name` (GET /applications?$filter=displayName
    eq '...', Application.Read.All), oldest first.

    Entra takes the same display name twice (POST /applications makes a second app:
    tests/recordings/graph_create_application's notes), so a name already taken is not
    an error here or there: the caller decides. What the portal should do with a
    non-empty answer is tell the admin that an app of that name exists (an earlier
    attempt's, or someone else's) and let them reuse it or make another, rather than
    silently add a duplicate."""
    literal = display_name.replace("'", "''")  # OData: a quote inside a string is doubled
    params = {
        "$filter": f"displayName eq '{literal}'",
        "$select": "id,appId,displayName,createdDateTime",
    }
    found = [
        FoundApplication(
            object_id=str(app.get("id") or ""),
            app_id=str(app.get("appId") or ""),
            display_name=str(app.get("displayName") or ""),
            created_at=_parse_time(app.get("createdDateTime")),
        )
        for app in _pages("/applications", access_token, params=params)
    ]
    return sorted(found, key=lambda a: a.created_at or datetime.min.replace(tzinfo=UTC))


def delete_application(access_token: str, object_id: str) -> None:
    """DELETE /applications/{id} (204; Entra keeps it 30 days among deleted items:
    tests/recordings/graph_delete_application). Already gone (404) counts as done."""
    try:
        _graph("DELETE", f"/applications/{_segment(object_id)}", access_token)
    except MicrosoftError as error:
        if error.status != 404:
            raise


# --- service principals and app role assignments --------------------------------------
def create_service_principal(access_token: str, app_id: str) -> str:
    """POST /servicePrincipals for the app; its object ID. One that exists already (409
    Request_MultipleObjectsWithSameKeyValue: tests/recordings/
    graph_create_service_principal_exists) is looked up and returned. Right after POST
    /applications Graph may not know the appId yet ("... does not reference a valid
    application object"): that error comes back transient."""
    try:
        response = _graph("POST", "/servicePrincipals", access_token, json={"appId": app_id})
    except MicrosoftError as error:
        if error.status == 409:
            return _service_principal_id(access_token, app_id)
        if _NOT_REPLICATED in error.message:
            error.transient = True
        raise
    return _object_id(http.json_body(response), "POST /servicePrincipals")


def graph_service_principal(access_token: str) -> str:
    """Microsoft Graph's service principal in the signed-in admin's directory: the
    resourceId of its app role assignments (a different object ID in each directory)."""
    return _service_principal_id(access_token, GRAPH_APP_ID)


def assign_app_role(
    access_token: str, *, resource_id: str, principal_id: str, app_role_id: str
) -> str:
    """Grant the app role `app_role_id` of the resource service principal (`resource_id`,
    Microsoft Graph's) to the app's service principal (`principal_id`): POST
    /servicePrincipals/{resource}/appRoleAssignedTo; the assignment's ID. The admin's
    consent for an application permission, given directly.

    Needs AppRoleAssignment.ReadWrite.All with Application.Read.All, and a signed-in
    Global Administrator or Privileged Role Administrator; otherwise 403
    Authorization_RequestDenied (tests/recordings/graph_app_role_assigned_to_denied).
    A role granted already is a 400 Request_BadRequest "Permission being assigned
    already exists on the object" [emulator's wording, NOT VERIFIED]."""
    body = {"principalId": principal_id, "resourceId": resource_id, "appRoleId": app_role_id}
    path = f"/servicePrincipals/{_segment(resource_id)}/appRoleAssignedTo"
    response = _graph("POST", path, access_token, json=body)
    return _object_id(http.json_body(response), "appRoleAssignedTo")


# --- a client secret -----------------------------------------------------------------
def add_password(
    access_token: str, *, application_object_id: str, display_name: str, end: datetime
) -> NewPassword:
    """A new client secret ending at `end` (POST /applications/{id}/addPassword, 200).
    Refused by an app management policy as 400 CredentialTypeNotAllowedAsPerAppPolicy
    (tests/recordings/graph_add_password_blocked_by_policy)."""
    credential = {"displayName": display_name, "endDateTime": _iso(end)}
    path = f"/applications/{_segment(application_object_id)}/addPassword"
    response = _graph("POST", path, access_token, json={"passwordCredential": credential})
    body = http.json_body(response)
    key_id, secret_text = str(body.get("keyId") or ""), str(body.get("secretText") or "")
    if not key_id or not secret_text:
        raise MicrosoftError("invalid_response", "addPassword answered without a secret.")
    return NewPassword(
        key_id=key_id,
        secret_text=secret_text,
        end=_parse_time(body.get("endDateTime")),
        hint=str(body.get("hint") or ""),
    )


# --- helpers -------------------------------------------------------------------------
def _service_principal_id(access_token: str, app_id: str) -> str:
    path = f"/servicePrincipals(appId='{_segment(app_id)}')"
    response = _graph("GET", path, access_token, params={"$select": "id,appId"})
    return _object_id(http.json_body(response), "GET /servicePrincipals")


def _object_id(body: dict[str, Any], call: str) -> str:
    object_id = str(body.get("id") or "")
    if not object_id:
        raise MicrosoftError("invalid_response", f"{call} answered without an id.")
    return object_id


def _pages(
    path: str, access_token: str, *, params: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """A collection's entries, page after page (@odata.nextLink). A next link is followed
    only on the configured Graph host: the token never goes anywhere else."""
    base = f"{http.endpoints().graph_url}/v1.0"
    response = _graph("GET", path, access_token, params=params)
    while True:
        body = http.json_body(response)
        for entry in body.get("value") or []:
            if isinstance(entry, dict):
                yield entry
        next_link = str(body.get("@odata.nextLink") or "")
        if not next_link:
            return
        if not next_link.startswith(f"{base}/"):
            raise MicrosoftError("invalid_response", "Graph's next page is on another host.")
        response = _graph("GET", next_link[len(base) :], access_token)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _iso(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
