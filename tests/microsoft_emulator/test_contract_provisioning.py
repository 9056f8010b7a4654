"""The portal registering the customer's app itself, with a signed-in admin's delegated
token: POST /applications, POST /servicePrincipals, appRoleAssignedTo, addPassword and
the tenant default app management policy, held to Microsoft's documented answers
(tests/recordings/graph_create_application, graph_create_service_principal(_exists),
graph_app_role_assigned_to(_denied), graph_add_password(_blocked_by_policy),
graph_password_addition_restriction, graph_default_app_management_policy)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest

from microsoft_emulator.provisioning import GRAPH_APP_ROLES
from microsoft_emulator.scenarios import ready_directory
from microsoft_emulator.state import (
    GRAPH_APP_ID,
    AppManagementPolicy,
    CredentialRestriction,
    parse_time,
    state_from_plain,
    to_plain,
)
from tests.microsoft_emulator.conftest import PortSession, claims, graph_scope
from tests.microsoft_emulator.test_auth_code import callback_after_sign_in, start_flow
from tests.microsoft_emulator.test_contract_certificates import SelfSigned
from tests.recordings import load

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PORTAL_SCOPES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Policy.Read.All")
MAIL_READ = GRAPH_APP_ROLES["Mail.Read"]
MAIL_SEND = GRAPH_APP_ROLES["Mail.Send"]


@pytest.fixture
def portal(emulator):
    """The customer's directory, where the portal's own app holds admin-consented
    delegated permissions to register apps."""
    return ready_directory(emulator, delegated=PORTAL_SCOPES)


def delegated_token(emulator, cca, ready, upn, password, scopes=PORTAL_SCOPES) -> str:
    """An access token for `upn` through the authorization code flow, as the portal
    gets one when the admin signs in."""
    http = PortSession(emulator)
    app, flow = start_flow(emulator, cca, ready, *scopes)
    result = app.acquire_token_by_auth_code_flow(
        flow, callback_after_sign_in(http, flow, upn, password)
    )
    return result["access_token"]


@pytest.fixture
def admin_token(emulator, cca, portal):
    return delegated_token(emulator, cca, portal, portal.admin.upn, "Admin-pass-1")


def graph(http, emulator, method, path, token, **kwargs):
    headers = {"Authorization": f"Bearer {token}"}
    return http.request(method, f"{emulator.graph_url}/v1.0{path}", headers=headers, **kwargs)


def new_app(http, emulator, token, name="Contoso mail connector", **fields):
    body = {
        "displayName": name,
        "signInAudience": "AzureADMyOrg",
        "web": {"redirectUris": ["https://portal.example/callback"]},
        "requiredResourceAccess": [
            {
                "resourceAppId": GRAPH_APP_ID,
                "resourceAccess": [
                    {"id": MAIL_READ, "type": "Role"},
                    {"id": MAIL_SEND, "type": "Role"},
                ],
            }
        ],
        **fields,
    }
    return graph(http, emulator, "POST", "/applications", token, json=body)


def graph_sp(http, emulator, token) -> dict:
    found = graph(http, emulator, "GET", f"/servicePrincipals(appId='{GRAPH_APP_ID}')", token)
    assert found.status_code == 200, found.text
    return found.json()


def assign(http, emulator, token, principal_id, resource_id, role_id):
    return graph(
        http,
        emulator,
        "POST",
        f"/servicePrincipals/{resource_id}/appRoleAssignedTo",
        token,
        json={"principalId": principal_id, "resourceId": resource_id, "appRoleId": role_id},
    )


def context_tail(context: str) -> str:
    """An @odata.context without its host: the emulator's base URL is its own."""
    return context.split("/v1.0/", 1)[1]


# --- POST /applications ----------------------------------------------------------------
def test_creating_an_application_answers_201_with_the_documented_resource(
    emulator, http, portal, admin_token
):
    recorded = load("graph_create_application")
    response = new_app(http, emulator, admin_token)
    assert response.status_code == recorded.status == 201, response.text
    body, documented = response.json(), recorded.json()
    assert set(documented) <= set(body)
    assert set(documented["web"]) <= set(body["web"])
    assert context_tail(body["@odata.context"]) == context_tail(documented["@odata.context"])
    assert GUID.match(body["id"])
    assert GUID.match(body["appId"])
    assert body["id"] != body["appId"]
    assert body["displayName"] == "Contoso mail connector"
    assert body["signInAudience"] == "AzureADMyOrg"
    assert body["web"]["redirectUris"] == ["https://portal.example/callback"]
    assert body["passwordCredentials"] == []  # secrets come from addPassword only
    roles = {a["id"] for a in body["requiredResourceAccess"][0]["resourceAccess"]}
    assert roles == {MAIL_READ, MAIL_SEND}
    assert body["publisherDomain"] == portal.directory.initial_domain
    app = emulator.store.app(body["appId"])
    assert app.directory_id == portal.directory.id
    assert app.object_id == body["id"]
    assert app.permission_names("Application") == ["Mail.Read", "Mail.Send"]
    # A registration alone: its service principal is POST /servicePrincipals' work.
    assert emulator.store.service_principal(portal.directory.id, body["appId"]) is None


def test_a_display_name_alone_gets_graphs_default_audience(emulator, http, admin_token):
    documented = load("graph_create_application").json()
    response = graph(
        http, emulator, "POST", "/applications", admin_token, json={"displayName": "X"}
    )
    assert response.status_code == 201
    assert response.json()["signInAudience"] == documented["signInAudience"]


def test_the_same_display_name_twice_makes_two_apps(emulator, http, admin_token):
    assert "does not make it unique" in load("graph_create_application").notes
    first = new_app(http, emulator, admin_token, name="Twice")
    second = new_app(http, emulator, admin_token, name="Twice")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["appId"] != second.json()["appId"]
    assert first.json()["id"] != second.json()["id"]


def test_it_keeps_an_uploaded_key_credential(emulator, http, admin_token):

    cert = SelfSigned()
    key = {
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "key": base64.b64encode(cert.der).decode(),
        "displayName": "CN=operations-app",
    }
    response = new_app(http, emulator, admin_token, keyCredentials=[key])
    assert response.status_code == 201, response.text
    [credential] = response.json()["keyCredentials"]
    assert credential["customKeyIdentifier"] == cert.sha1
    assert credential["type"] == "AsymmetricX509Cert"


def test_it_refuses_a_body_without_display_name(emulator, http, admin_token):
    response = graph(http, emulator, "POST", "/applications", admin_token, json={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_BadRequest"


def test_creating_an_application_needs_application_readwrite_all(emulator, http, cca):
    recorded = load("graph_app_role_assigned_to_denied").json()["error"]
    reader = ready_directory(emulator, "Fabrikam", delegated=("User.Read",))
    token = delegated_token(
        emulator, cca, reader, reader.admin.upn, "Admin-pass-1", scopes=("User.Read",)
    )
    response = new_app(http, emulator, token)
    assert response.status_code == 403
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (recorded["code"], recorded["message"])


def test_an_app_only_token_without_the_permission_is_refused(emulator, http, cca, portal):
    app = cca(portal.app.client_id, portal.secret.value, portal.directory.id)
    token = app.acquire_token_for_client(graph_scope(emulator))["access_token"]
    assert new_app(http, emulator, token).status_code == 403


# --- POST /servicePrincipals -----------------------------------------------------------
def test_creating_a_service_principal_answers_201_with_the_documented_resource(
    emulator, http, portal, admin_token
):
    recorded = load("graph_create_service_principal")
    app = new_app(http, emulator, admin_token).json()
    response = graph(
        http, emulator, "POST", "/servicePrincipals", admin_token, json={"appId": app["appId"]}
    )
    assert response.status_code == recorded.status == 201, response.text
    body, documented = response.json(), recorded.json()
    assert set(documented) <= set(body)
    assert context_tail(body["@odata.context"]) == context_tail(documented["@odata.context"])
    assert body["appId"] == app["appId"]
    assert body["appDisplayName"] == app["displayName"]
    assert body["appOwnerOrganizationId"] == portal.directory.id
    sp = emulator.store.service_principal(portal.directory.id, app["appId"])
    assert sp.object_id == body["id"]
    assert sp.app_roles == []  # nothing granted yet


def test_a_second_service_principal_gets_409_request_multiple_objects(emulator, http, admin_token):
    recorded = load("graph_create_service_principal_exists")
    app = new_app(http, emulator, admin_token).json()
    body = {"appId": app["appId"]}
    assert graph(http, emulator, "POST", "/servicePrincipals", admin_token, json=body).ok
    again = graph(http, emulator, "POST", "/servicePrincipals", admin_token, json=body)
    assert again.status_code == 409
    error = again.json()["error"]
    assert f"status 409 with OData error: {error['code']}:" in recorded.statement
    message = recorded.statement.split(f"{error['code']}: ", 1)[1].replace("\n│ ", " ")
    assert error["message"] == message.replace("8e85ac55-d0bd-4e2f-96e9-0723b0ab703a", app["appId"])


def test_an_unknown_app_id_gets_no_service_principal(emulator, http, admin_token):
    body = {"appId": "11111111-2222-4333-8444-555555555555"}
    response = graph(http, emulator, "POST", "/servicePrincipals", admin_token, json=body)
    assert response.status_code == 404


def test_graphs_service_principal_lists_the_mail_app_roles(emulator, http, portal, admin_token):
    resource = graph_sp(http, emulator, admin_token)
    assert resource["appId"] == GRAPH_APP_ID
    assert resource["displayName"] == "Microsoft Graph"
    roles = {r["value"]: r["id"] for r in resource["appRoles"]}
    assert roles["Mail.Read"] == MAIL_READ
    assert roles["Mail.Send"] == MAIL_SEND
    listed = graph(
        http,
        emulator,
        "GET",
        "/servicePrincipals",
        admin_token,
        params={"$filter": f"appId eq '{GRAPH_APP_ID}'"},
    ).json()["value"]
    assert [sp["id"] for sp in listed] == [resource["id"]]
    other = ready_directory(emulator, "Fabrikam", delegated=PORTAL_SCOPES)
    assert other.directory.id != portal.directory.id


# --- appRoleAssignedTo, then an app-only token with the roles --------------------------
def provision(http, emulator, token):
    """What the portal does: register, create the service principal, grant Mail.Read and
    Mail.Send, add a secret. Returns (app, service principal, the two assignments,
    the password credential)."""
    app = new_app(http, emulator, token).json()
    sp = graph(
        http, emulator, "POST", "/servicePrincipals", token, json={"appId": app["appId"]}
    ).json()
    graph_id = graph_sp(http, emulator, token)["id"]
    grants = [assign(http, emulator, token, sp["id"], graph_id, r) for r in (MAIL_READ, MAIL_SEND)]
    password = graph(
        http,
        emulator,
        "POST",
        f"/applications/{app['id']}/addPassword",
        token,
        json={"passwordCredential": {"displayName": "portal"}},
    )
    return app, sp, grants, password


def test_assigning_graph_app_roles_answers_201_and_the_token_carries_them(
    emulator, http, cca, portal, admin_token
):
    recorded = load("graph_app_role_assigned_to")
    app, sp, grants, password = provision(http, emulator, admin_token)
    for grant, role_id in zip(grants, (MAIL_READ, MAIL_SEND), strict=True):
        assert grant.status_code == recorded.status == 201, grant.text
        body, documented = grant.json(), recorded.json()
        assert set(documented) <= set(body)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["id"])
        assert body["appRoleId"] == role_id
        assert body["principalId"] == sp["id"]
        assert body["principalType"] == "ServicePrincipal"
        assert body["principalDisplayName"] == app["displayName"]
        assert body["resourceDisplayName"] == "Microsoft Graph"
        assert context_tail(body["@odata.context"]) == (
            f"$metadata#servicePrincipals('{body['resourceId']}')/appRoleAssignedTo/$entity"
        )
    secret = password.json()["secretText"]
    client = cca(app["appId"], secret, portal.directory.id)
    result = client.acquire_token_for_client(graph_scope(emulator))
    assert claims(result["access_token"])["roles"] == ["Mail.Read", "Mail.Send"], result
    inbox = graph(
        http, emulator, "GET", f"/users/{portal.mailbox.upn}/messages", result["access_token"]
    )
    assert inbox.status_code == 200
    assert inbox.json()["value"][0]["subject"] == "Welcome"


def test_the_grant_is_recorded_as_admin_consent_records_it(emulator, http, portal, admin_token):
    app, _sp, _grants, _ = provision(http, emulator, admin_token)
    principal = emulator.store.service_principal(portal.directory.id, app["appId"])
    assert principal.app_roles == ["Mail.Read", "Mail.Send"]
    assert principal.consented_at  # tokens lag behind it as after a consent


def test_tokens_lag_behind_the_grant_as_behind_admin_consent(
    emulator, http, cca, portal, admin_token
):
    emulator.set_consent_propagation(60)
    app, _, _, password = provision(http, emulator, admin_token)
    client = cca(app["appId"], password.json()["secretText"], portal.directory.id)
    first = client.acquire_token_for_client(graph_scope(emulator))
    assert "roles" not in claims(first["access_token"])
    emulator.advance_clock(61)
    later = cca(app["appId"], password.json()["secretText"], portal.directory.id)
    token = later.acquire_token_for_client(graph_scope(emulator))["access_token"]
    assert claims(token)["roles"] == ["Mail.Read", "Mail.Send"]


def test_a_user_who_is_not_an_admin_gets_authorization_request_denied(
    emulator, http, cca, portal, admin_token
):
    recorded = load("graph_app_role_assigned_to_denied")
    app = new_app(http, emulator, admin_token).json()
    sp = graph(
        http, emulator, "POST", "/servicePrincipals", admin_token, json={"appId": app["appId"]}
    ).json()
    graph_id = graph_sp(http, emulator, admin_token)["id"]
    user_token = delegated_token(emulator, cca, portal, portal.mailbox.upn, "Mailbox-pass-1")
    response = assign(http, emulator, user_token, sp["id"], graph_id, MAIL_READ)
    assert response.status_code == recorded.status == 403
    error, documented = response.json()["error"], recorded.json()["error"]
    assert (error["code"], error["message"]) == (documented["code"], documented["message"])
    assert emulator.store.service_principal(portal.directory.id, app["appId"]).app_roles == []


def test_a_privileged_role_administrator_may_grant_graph_roles(emulator, http, cca, portal):
    emulator.update_user(portal.mailbox, admin_role="Privileged Role Administrator")
    token = delegated_token(emulator, cca, portal, portal.mailbox.upn, "Mailbox-pass-1")
    _, _, grants, _ = provision(http, emulator, token)
    assert [g.status_code for g in grants] == [201, 201]


def test_an_application_administrator_may_not(emulator, http, cca, portal, admin_token):
    emulator.update_user(portal.mailbox, admin_role="Application Administrator")
    app = new_app(http, emulator, admin_token).json()
    sp = graph(
        http, emulator, "POST", "/servicePrincipals", admin_token, json={"appId": app["appId"]}
    ).json()
    graph_id = graph_sp(http, emulator, admin_token)["id"]
    token = delegated_token(emulator, cca, portal, portal.mailbox.upn, "Mailbox-pass-1")
    assert assign(http, emulator, token, sp["id"], graph_id, MAIL_READ).status_code == 403


def test_assigning_needs_app_role_assignment_readwrite_all(emulator, http, cca):
    scopes = ("Application.ReadWrite.All",)
    limited = ready_directory(emulator, "Fabrikam", delegated=scopes)
    token = delegated_token(emulator, cca, limited, limited.admin.upn, "Admin-pass-1", scopes)
    app = new_app(http, emulator, token).json()
    sp = graph(
        http, emulator, "POST", "/servicePrincipals", token, json={"appId": app["appId"]}
    ).json()
    graph_id = graph_sp(http, emulator, token)["id"]
    response = assign(http, emulator, token, sp["id"], graph_id, MAIL_READ)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_an_unknown_app_role_or_one_granted_twice_is_a_bad_request(emulator, http, admin_token):
    _app, sp, _, _ = provision(http, emulator, admin_token)
    graph_id = graph_sp(http, emulator, admin_token)["id"]
    unknown = assign(
        http, emulator, admin_token, sp["id"], graph_id, "11111111-2222-4333-8444-555555555555"
    )
    twice = assign(http, emulator, admin_token, sp["id"], graph_id, MAIL_READ)
    assert (unknown.status_code, twice.status_code) == (400, 400)
    assert "was not found on application" in unknown.json()["error"]["message"]
    assert "already exists on the object" in twice.json()["error"]["message"]


# --- addPassword -----------------------------------------------------------------------
def test_add_password_answers_200_with_the_secret_text_once(emulator, http, admin_token):
    recorded = load("graph_add_password")
    app, _, _, response = provision(http, emulator, admin_token)
    assert response.status_code == recorded.status == 200, response.text
    body = response.json()
    assert set(body) == set(recorded.json())
    assert 16 <= len(body["secretText"]) <= 64
    assert body["hint"] == body["secretText"][:3]
    assert body["displayName"] == "portal"
    start, end = parse_time(body["startDateTime"]), parse_time(body["endDateTime"])
    assert '"startDateTime + 2 years"' in recorded.notes
    assert end.year == start.year + 2
    assert (end.month, end.day) == (start.month, start.day)
    stored = emulator.store.app(app["appId"]).secrets
    assert [s.key_id for s in stored] == [body["keyId"]]


def test_add_password_by_app_id_takes_the_given_dates(emulator, http, admin_token):
    app = new_app(http, emulator, admin_token).json()
    credential = {"endDateTime": "2030-01-01T00:00:00Z"}
    response = graph(
        http,
        emulator,
        "POST",
        f"/applications(appId='{app['appId']}')/addPassword",
        admin_token,
        json={"passwordCredential": credential},
    )
    assert response.status_code == 200
    assert response.json()["endDateTime"] == "2030-01-01T00:00:00Z"


def test_add_password_needs_application_readwrite_all(emulator, http, cca, portal, admin_token):
    app = new_app(http, emulator, admin_token).json()
    scopes = ("Policy.Read.All",)
    token = delegated_token(emulator, cca, portal, portal.admin.upn, "Admin-pass-1", scopes)
    response = graph(http, emulator, "POST", f"/applications/{app['id']}/addPassword", token)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_a_personal_account_audience_stops_at_two_passwords(emulator, http, admin_token):
    recorded = load("add_password_too_many_app_passwords").json()["error"]
    app = graph(
        http, emulator, "POST", "/applications", admin_token, json={"displayName": "Default"}
    ).json()
    url = f"/applications/{app['id']}/addPassword"
    answers = [graph(http, emulator, "POST", url, admin_token, json={}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 400]
    error = answers[2].json()["error"]
    assert (error["code"], error["message"]) == (recorded["code"], recorded["message"])
    assert error["details"] == recorded["details"]


# --- the tenant default app management policy --------------------------------------------
def test_the_default_policy_is_the_documented_resource(emulator, http, portal, admin_token):
    recorded = load("graph_default_app_management_policy")
    response = graph(http, emulator, "GET", "/policies/defaultAppManagementPolicy", admin_token)
    assert response.status_code == recorded.status == 200
    body, documented = response.json(), recorded.json()
    assert set(body) == set(documented)
    for key in ("id", "displayName", "description", "isEnabled"):
        assert body[key] == documented[key]
    assert body["applicationRestrictions"] == documented["applicationRestrictions"]
    assert body["servicePrincipalRestrictions"] == documented["servicePrincipalRestrictions"]
    assert context_tail(body["@odata.context"]) == context_tail(documented["@odata.context"])
    assert body["@odata.id"].endswith(
        f"/v2/{portal.directory.id}/defaultAppManagementPolicy/{documented['id']}"
    )


def test_the_policy_shows_a_password_restriction(emulator, http, portal, admin_token):
    when = parse_time("2026-01-01T00:00:00Z")
    emulator.block_password_credentials(portal.directory, created_after=when)
    body = graph(http, emulator, "GET", "/policies/defaultAppManagementPolicy", admin_token).json()
    assert body["isEnabled"] is True
    assert body["applicationRestrictions"]["passwordCredentials"] == [
        {
            "restrictionType": "passwordAddition",
            "maxLifetime": None,
            "restrictForAppsCreatedAfterDateTime": "2026-01-01T00:00:00Z",
        }
    ]


def test_reading_the_policy_needs_a_policy_permission(emulator, http, cca, portal):
    scopes = ("Application.ReadWrite.All",)
    token = delegated_token(emulator, cca, portal, portal.admin.upn, "Admin-pass-1", scopes)
    response = graph(http, emulator, "GET", "/policies/defaultAppManagementPolicy", token)
    assert response.status_code == 403


def test_an_enabled_password_addition_restriction_refuses_add_password(
    emulator, http, portal, admin_token
):
    recorded = load("graph_add_password_blocked_by_policy")
    emulator.block_password_credentials(portal.directory)
    app = new_app(http, emulator, admin_token).json()
    response = graph(http, emulator, "POST", f"/applications/{app['id']}/addPassword", admin_token)
    assert response.status_code == 400
    assert ".reply(400, expectedError)" in recorded.statement
    error = response.json()["error"]
    assert f'code: "{error["code"]}"' in recorded.statement
    assert error["message"].startswith("Credential type not allowed as per assigned policy")
    assert emulator.store.app(app["appId"]).secrets == []


def test_the_restriction_spares_apps_created_before_its_date(emulator, http, portal, admin_token):
    assert "created on or after the enforcement date" in (
        load("graph_password_addition_restriction").statement
    )
    older = new_app(http, emulator, admin_token, name="Older").json()
    emulator.block_password_credentials(
        portal.directory, created_after=emulator.store.now() + timedelta(seconds=30)
    )
    emulator.advance_clock(60)
    newer = new_app(http, emulator, admin_token, name="Newer").json()
    answers = [
        graph(http, emulator, "POST", f"/applications/{a['id']}/addPassword", admin_token)
        for a in (older, newer)
    ]
    assert [a.status_code for a in answers] == [200, 400]


def test_a_disabled_policy_restricts_nothing(emulator, http, portal, admin_token):
    restriction = CredentialRestriction("passwordAddition")
    emulator.set_app_management_policy(
        portal.directory, AppManagementPolicy(is_enabled=False, password_credentials=[restriction])
    )
    app = new_app(http, emulator, admin_token).json()
    url = f"/applications/{app['id']}/addPassword"
    assert graph(http, emulator, "POST", url, admin_token).status_code == 200


def test_an_apps_app_management_policies_are_its_custom_ones(emulator, http, admin_token):
    assert "never the tenant default" in load("graph_default_app_management_policy").notes
    app = new_app(http, emulator, admin_token).json()
    url = f"/applications/{app['id']}/appManagementPolicies"
    response = graph(http, emulator, "GET", url, admin_token)
    assert response.status_code == 200
    assert response.json()["value"] == []
    assert (
        graph(
            http, emulator, "GET", "/applications/nope/appManagementPolicies", admin_token
        ).status_code
        == 404
    )


def test_the_control_api_sets_the_policy(emulator, http, portal):
    url = f"{emulator.base_url}/_emulator/directories/{portal.directory.id}/app-management-policy"
    policy = {
        "is_enabled": True,
        "password_credentials": [
            {"restriction_type": "passwordAddition", "restrict_for_apps_created_after": ""}
        ],
    }
    answer = http.put(url, json=policy)
    assert answer.status_code == 200, answer.text
    assert portal.directory.app_management_policy.is_enabled
    bad = {"password_credentials": [{"restriction_type": "noSuchThing"}]}
    assert http.put(url, json=bad).status_code == 400
    twice = {"password_credentials": [{"restriction_type": "passwordAddition"}] * 2}
    assert http.put(url, json=twice).status_code == 400


def test_the_policy_and_creation_times_are_kept_in_the_state_file(
    emulator, http, portal, admin_token
):
    emulator.block_password_credentials(portal.directory)
    app = new_app(http, emulator, admin_token).json()
    again = state_from_plain(to_plain(emulator.state))
    directory = next(d for d in again.directories if d.id == portal.directory.id)
    assert directory.app_management_policy.password_credentials[0].restriction_type == (
        "passwordAddition"
    )
    [kept] = [a for a in again.apps if a.client_id == app["appId"]]
    assert kept.created == app["createdDateTime"]


# --- the signed-in admin's directory roles (GET /me/transitiveMemberOf, /me/memberOf) ---
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"


def member_of(http, emulator, token, path="/me/transitiveMemberOf"):
    return graph(http, emulator, "GET", path, token)


def roles_directory(emulator, *scopes):
    return ready_directory(emulator, "Fabrikam", delegated=scopes)


def test_user_read_lists_my_directory_role_without_its_name(emulator, http, cca):
    recorded = load("graph_member_of_directory_role_limited")
    assert "| Delegated (work or school account) | User.Read |" in (
        load("graph_member_of_permissions").statement
    )
    fabrikam = roles_directory(emulator, "User.Read")
    token = delegated_token(
        emulator, cca, fabrikam, fabrikam.admin.upn, "Admin-pass-1", scopes=("User.Read",)
    )
    for path in ("/me/transitiveMemberOf", "/me/memberOf"):
        response = member_of(http, emulator, token, path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert context_tail(body["@odata.context"]) == "$metadata#directoryObjects"
        [role] = body["value"]
        assert f"@odata.type={role['@odata.type']}," in recorded.statement
        assert "displayName=null, description=null, id=" in recorded.statement
        assert (role["displayName"], role["description"]) == (None, None)
        assert role["roleTemplateId"] == GLOBAL_ADMINISTRATOR
        assert GUID.match(role["id"])
        assert role["id"] != GLOBAL_ADMINISTRATOR


def test_a_token_that_reads_roles_gets_their_names(emulator, http, cca):
    assert "displayName=Global Administrator" in (
        load("graph_member_of_directory_role_limited").statement
    )
    scopes = ("User.Read", "RoleManagement.Read.Directory")
    fabrikam = roles_directory(emulator, *scopes)
    token = delegated_token(emulator, cca, fabrikam, fabrikam.admin.upn, "Admin-pass-1", scopes)
    [role] = member_of(http, emulator, token).json()["value"]
    assert role["displayName"] == "Global Administrator"
    assert role["roleTemplateId"] == GLOBAL_ADMINISTRATOR


def test_a_user_without_a_role_is_member_of_no_directory_role(emulator, http, cca):
    fabrikam = roles_directory(emulator, "User.Read")
    token = delegated_token(
        emulator, cca, fabrikam, fabrikam.mailbox.upn, "Mailbox-pass-1", scopes=("User.Read",)
    )
    assert member_of(http, emulator, token).json()["value"] == []
    emulator.update_user(fabrikam.mailbox, admin_role="Privileged Role Administrator")
    [role] = member_of(http, emulator, token).json()["value"]
    assert role["roleTemplateId"] == "e8611ab8-c189-46e8-94e1-60213ab1f814"


def test_my_memberships_need_a_user_and_a_permission(emulator, http, cca, portal):
    assert "requires a signed-in user" in load("graph_member_of_permissions").statement
    app = cca(portal.app.client_id, portal.secret.value, portal.directory.id)
    app_token = app.acquire_token_for_client(graph_scope(emulator))["access_token"]
    assert member_of(http, emulator, app_token).status_code == 400
    scopes = ("Application.ReadWrite.All",)
    token = delegated_token(emulator, cca, portal, portal.admin.upn, "Admin-pass-1", scopes)
    refused = member_of(http, emulator, token)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"


# --- applications by display name, and deleting one --------------------------------------
def by_name(http, emulator, token, name, **params):
    literal = name.replace("'", "''")
    query = {"$filter": f"displayName eq '{literal}'", **params}
    return graph(http, emulator, "GET", "/applications", token, params=query)


def test_applications_are_found_by_display_name_with_a_delegated_token(emulator, http, admin_token):
    recorded = load("graph_list_applications")
    first = new_app(http, emulator, admin_token, name="O'Brien's connector").json()
    second = new_app(http, emulator, admin_token, name="O'Brien's connector").json()
    new_app(http, emulator, admin_token, name="Another")
    response = by_name(http, emulator, admin_token, "o'brien's connector")
    assert response.status_code == recorded.status == 200, response.text
    body, documented = response.json(), recorded.json()
    assert context_tail(body["@odata.context"]) == context_tail(documented["@odata.context"])
    assert {a["id"] for a in body["value"]} == {first["id"], second["id"]}
    assert all(set(documented["value"][0]) <= set(a) for a in body["value"])
    selected = by_name(
        http, emulator, admin_token, "Another", **{"$select": "id,appId,displayName"}
    ).json()["value"]
    assert [set(a) for a in selected] == [{"id", "appId", "displayName"}]
    assert by_name(http, emulator, admin_token, "Nobody").json()["value"] == []


def test_deleting_an_application_answers_204_and_then_404(emulator, http, portal, admin_token):
    recorded = load("graph_delete_application")
    app = new_app(http, emulator, admin_token).json()
    body = {"appId": app["appId"]}
    assert graph(http, emulator, "POST", "/servicePrincipals", admin_token, json=body).ok
    response = graph(http, emulator, "DELETE", f"/applications/{app['id']}", admin_token)
    assert response.status_code == recorded.status == 204
    assert response.text == recorded.body == ""
    assert emulator.store.app(app["appId"]) is None
    assert emulator.store.service_principal(portal.directory.id, app["appId"]) is None
    again = graph(http, emulator, "DELETE", f"/applications/{app['id']}", admin_token)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "Request_ResourceNotFound"


def test_deleting_needs_application_readwrite_all(emulator, http, cca, portal, admin_token):
    app = new_app(http, emulator, admin_token).json()
    scopes = ("Policy.Read.All",)
    token = delegated_token(emulator, cca, portal, portal.admin.upn, "Admin-pass-1", scopes)
    response = graph(http, emulator, "DELETE", f"/applications/{app['id']}", token)
    assert response.status_code == 403
    assert emulator.store.app(app["appId"]) is not None
