"""onboarding.microsoft.provisioning against the emulator: the Graph calls by which the
portal registers the customer's app with the signed-in admin's delegated token, with
Microsoft's recorded answers replayed through them (tests/recordings), throttling and
outages, and the whole sequence ending in a certificate token that carries the roles."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import msal
import pytest

from microsoft_emulator.provisioning import graph_service_principal_id
from microsoft_emulator.scenarios import ready_directory
from microsoft_emulator.state import AppManagementPolicy, CredentialRestriction
from onboarding import certificates, microsoft
from onboarding.microsoft import MicrosoftError
from onboarding.microsoft.provisioning import parse_duration
from tests.microsoft_emulator.conftest import PortSession
from tests.microsoft_emulator.test_auth_code import callback_after_sign_in
from tests.recordings import load

pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")

# The delegated permissions issue 19 lists for the portal's sign-in, and User.Read.
SCOPES = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Application.Read.All",
    "Policy.Read.ApplicationConfiguration",
    "User.Read",
)
ADMIN_PASSWORD, USER_PASSWORD = "Admin-pass-1", "Mailbox-pass-1"
REDIRECT = "https://portal.example/onboarding/callback"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def contoso(emulated_microsoft):
    """The customer's directory, where the portal's own app holds the admin-consented
    delegated permissions above."""
    return ready_directory(emulated_microsoft, delegated=SCOPES)


def delegated_token(emulator, ready, upn, password, scopes=SCOPES) -> str:
    """An access token for `upn` by the authorization code flow with PKCE (msal), as the
    portal gets one when the admin signs in."""
    http = PortSession(emulator)
    app = msal.ConfidentialClientApplication(
        ready.app.client_id,
        client_credential=ready.secret.value,
        authority=f"{emulator.login_url}/{ready.directory.id}",
        http_client=http,
        instance_discovery=False,
    )
    flow = app.initiate_auth_code_flow(
        [f"{emulator.graph_url}/{name}" for name in scopes],
        redirect_uri="https://localhost",
        response_mode="form_post",
    )
    result = app.acquire_token_by_auth_code_flow(
        flow, callback_after_sign_in(http, flow, upn, password)
    )
    assert "access_token" in result, result
    return result["access_token"]


@pytest.fixture
def token(emulated_microsoft, contoso) -> str:
    return delegated_token(emulated_microsoft, contoso, contoso.admin.upn, ADMIN_PASSWORD)


def failure(call, *args, **kwargs) -> MicrosoftError:
    with pytest.raises(MicrosoftError) as raised:
        call(*args, **kwargs)
    return raised.value


def new_app(token, name="Contoso mail connector", certificate=None):
    return microsoft.create_application(
        token, display_name=name, redirect_uris=[REDIRECT], certificate_der_b64=certificate
    )


def throttled(emulator, endpoint, call, *args, **kwargs):
    emulator.set_fault(endpoint, throttle_share=1.0, retry_after=7)
    error = failure(call, *args, **kwargs)
    assert (error.status, error.transient, error.retry_after) == (429, True, 7.0)
    emulator.clear_faults()
    emulator.set_fault(endpoint, error_share=1.0, error_status=503)
    error = failure(call, *args, **kwargs)
    assert (error.code, error.status, error.transient) == ("ServiceUnavailable", 503, True)
    emulator.clear_faults()


def replay_json(emulator, endpoint, status, body):
    emulator.replay(endpoint, status=status, body=json.dumps(body))


# --- signed_in_roles ---------------------------------------------------------------
def test_a_global_administrator_may_grant_graphs_app_roles(contoso, token):
    roles = microsoft.signed_in_roles(token)
    assert roles == {"Global Administrator"}
    assert roles & microsoft.ROLES_THAT_GRANT_APP_ROLES


def test_user_read_alone_names_the_role_by_its_template(emulated_microsoft, contoso):
    # Graph leaves displayName null without a role-reading permission
    # (tests/recordings/graph_member_of_directory_role_limited): named by template ID.
    assert "displayName=null" in load("graph_member_of_directory_role_limited").statement
    token = delegated_token(
        emulated_microsoft, contoso, contoso.admin.upn, ADMIN_PASSWORD, scopes=("User.Read",)
    )
    assert microsoft.signed_in_roles(token) == {"Global Administrator"}


@pytest.mark.parametrize(
    ("role", "may_grant"),
    [
        ("", False),
        ("Privileged Role Administrator", True),
        ("Application Administrator", False),
        ("Cloud Application Administrator", False),
    ],
)
def test_other_users_roles(emulated_microsoft, contoso, role, may_grant):
    emulated_microsoft.update_user(contoso.mailbox, admin_role=role)
    token = delegated_token(emulated_microsoft, contoso, contoso.mailbox.upn, USER_PASSWORD)
    roles = microsoft.signed_in_roles(token)
    assert roles == ({role} if role else set())
    assert bool(roles & microsoft.ROLES_THAT_GRANT_APP_ROLES) is may_grant


def test_roles_are_read_from_every_page_and_unknown_ones_kept(emulated_microsoft, token):
    page = {
        "value": [
            {"@odata.type": "#microsoft.graph.group", "displayName": "All users", "id": "g"},
            {
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": "r1",
                "displayName": None,
                "roleTemplateId": "11111111-2222-4333-8444-555555555555",
            },
            {
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": "r2",
                "displayName": "Some New Role",
                "roleTemplateId": "66666666-2222-4333-8444-555555555555",
            },
        ],
        "@odata.nextLink": f"{emulated_microsoft.graph_url}/v1.0/me/transitiveMemberOf"
        "?$skiptoken=X'4453707402000100000017'",
    }
    replay_json(emulated_microsoft, "graph.user", 200, page)
    roles = microsoft.signed_in_roles(token)
    # The second page is the emulator's own answer: the admin's Global Administrator.
    assert roles == {
        "11111111-2222-4333-8444-555555555555",
        "Some New Role",
        "Global Administrator",
    }
    assert emulated_microsoft.counters()["requests"]["graph.user"] == 2


def test_a_next_page_on_another_host_is_not_followed(emulated_microsoft, token):
    page = {"value": [], "@odata.nextLink": "https://elsewhere.example/v1.0/me/memberOf?x=1"}
    replay_json(emulated_microsoft, "graph.user", 200, page)
    error = failure(microsoft.signed_in_roles, token)
    assert error.code == "invalid_response"
    assert emulated_microsoft.counters()["requests"]["graph.user"] == 1


def test_an_app_token_has_no_signed_in_roles(emulated_microsoft, contoso):
    app_token = microsoft.acquire_app_token(
        directory=contoso.directory.id,
        client_id=contoso.app.client_id,
        client_secret=contoso.secret.value,
    )
    error = failure(microsoft.signed_in_roles, app_token.access_token)
    assert (error.code, error.status, error.transient) == ("BadRequest", 400, False)


def test_an_unreachable_graph_is_transient(emulated_microsoft, token, settings):
    settings.MICROSOFT_GRAPH_URL = "https://127.0.0.1:9/graph"
    microsoft.forget_clients()
    for call in (microsoft.signed_in_roles, microsoft.graph_service_principal):
        error = failure(call, token)
        assert (error.code, error.transient) == ("unreachable", True)
        assert "127.0.0.1:9" in error.message
        assert token not in str(error)


def test_signed_in_roles_throttled_or_unavailable_is_transient(emulated_microsoft, token):
    throttled(emulated_microsoft, "graph.user", microsoft.signed_in_roles, token)


# --- app_management_policies -------------------------------------------------------
def test_no_policy_allows_secrets_of_any_lifetime(emulated_microsoft, token):
    assert microsoft.app_management_policies(token) == microsoft.CredentialPolicy(False, None)
    load("graph_default_app_management_policy").replay_into(emulated_microsoft)
    assert microsoft.app_management_policies(token) == microsoft.CredentialPolicy(False, None)


def test_a_password_addition_restriction_blocks_secrets(emulated_microsoft, contoso, token):
    emulated_microsoft.block_password_credentials(contoso.directory)
    assert microsoft.app_management_policies(token).password_blocked


def test_the_restrictions_date_is_compared_to_now(emulated_microsoft, contoso, token):
    now = datetime.now(UTC)
    emulated_microsoft.block_password_credentials(
        contoso.directory, created_after=now + timedelta(days=1)
    )
    assert not microsoft.app_management_policies(token).password_blocked
    emulated_microsoft.block_password_credentials(
        contoso.directory, created_after=now - timedelta(days=1)
    )
    assert microsoft.app_management_policies(token).password_blocked


def test_a_lifetime_restriction_bounds_secrets(emulated_microsoft, contoso, token):
    policy = AppManagementPolicy(
        is_enabled=True,
        password_credentials=[CredentialRestriction("passwordLifetime", max_lifetime="P90D")],
    )
    emulated_microsoft.set_app_management_policy(contoso.directory, policy)
    assert microsoft.app_management_policies(token) == microsoft.CredentialPolicy(
        False, timedelta(days=90)
    )
    policy.is_enabled = False
    emulated_microsoft.set_app_management_policy(contoso.directory, policy)
    assert microsoft.app_management_policies(token).max_password_lifetime is None


def test_an_apps_own_enabled_policy_stands_in_for_the_default(emulated_microsoft, token):
    app = new_app(token)
    assert microsoft.app_management_policies(
        token, application_object_id=app.object_id
    ) == microsoft.CredentialPolicy(False, None)
    assert emulated_microsoft.counters()["requests"]["graph.policy"] == 2
    # A custom policy in appmanagementpolicy.md's shape (restrictions, not
    # applicationRestrictions), after the recorded default.
    load("graph_default_app_management_policy").replay_into(emulated_microsoft)
    custom = {
        "value": [
            {
                "id": "db9d4b58-3488-4da4-9994-49773c454e33",
                "displayName": "Credential management policy",
                "isEnabled": True,
                "restrictions": {
                    "passwordCredentials": [
                        {
                            "restrictionType": "passwordLifetime",
                            "maxLifetime": "P4DT12H30M5S",
                            "restrictForAppsCreatedAfterDateTime": "2019-01-01T10:37:00Z",
                        }
                    ],
                    "keyCredentials": [],
                },
            }
        ]
    }
    replay_json(emulated_microsoft, "graph.policy", 200, custom)
    policy = microsoft.app_management_policies(token, application_object_id=app.object_id)
    assert policy.max_password_lifetime == timedelta(days=4, hours=12, minutes=30, seconds=5)


def test_reading_policies_needs_a_policy_permission(emulated_microsoft, contoso):
    scopes = ("Application.ReadWrite.All",)
    limited = delegated_token(
        emulated_microsoft, contoso, contoso.admin.upn, ADMIN_PASSWORD, scopes
    )
    error = failure(microsoft.app_management_policies, limited)
    assert (error.code, error.status) == ("Authorization_RequestDenied", 403)


def test_policies_throttled_or_unavailable_is_transient(emulated_microsoft, token):
    throttled(emulated_microsoft, "graph.policy", microsoft.app_management_policies, token)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("P90D", timedelta(days=90)),
        ("P4DT12H30M5S", timedelta(days=4, hours=12, minutes=30, seconds=5)),
        ("PT1H", timedelta(hours=1)),
        ("P1Y", timedelta(days=365)),
        ("P1M", timedelta(days=28)),
        ("P2W", timedelta(days=14)),
    ],
)
def test_iso_8601_durations(value, expected):
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["", "P", "PT", "90D", "P1DT", "forever"])
def test_what_is_not_a_duration(value):
    assert failure(parse_duration, value).code == "invalid_response"


# --- create_application ------------------------------------------------------------
def test_it_registers_a_single_tenant_app_with_the_certificate(emulated_microsoft, contoso, token):
    made = certificates.make(tenant_name="Contoso", days=365)
    app = new_app(token, certificate=certificates.key_value(made.certificate_pem))
    assert GUID.match(app.object_id)
    assert GUID.match(app.app_id)
    registered = emulated_microsoft.store.app(app.app_id)
    assert registered.directory_id == contoso.directory.id
    assert registered.object_id == app.object_id
    assert registered.sign_in_audience == "AzureADMyOrg"
    assert registered.redirect_uris == [REDIRECT]
    assert registered.permission_names("Application") == ["Mail.Read", "Mail.Send"]
    [key] = registered.key_credentials
    assert key.key_id == app.key_id
    assert key.thumbprint == made.thumbprint
    assert registered.secrets == []


def test_without_a_certificate_there_is_no_key(emulated_microsoft, token):
    app = new_app(token)
    assert app.key_id is None
    assert emulated_microsoft.store.app(app.app_id).key_credentials == []


def test_the_documented_answer_is_read(emulated_microsoft, token):
    recorded = load("graph_create_application")
    recorded.replay_into(emulated_microsoft)
    documented = recorded.json()
    assert new_app(token) == microsoft.CreatedApplication(
        documented["id"], documented["appId"], None
    )


def test_it_asks_only_for_graph_roles_it_knows(emulated_microsoft, token):
    with pytest.raises(ValueError, match=r"Mail\.ReadWrite"):
        microsoft.create_application(
            token,
            display_name="X",
            redirect_uris=[],
            certificate_der_b64=None,
            required_roles=["Mail.ReadWrite"],
        )
    assert emulated_microsoft.counters()["requests"].get("graph.application", 0) == 0


def test_creating_needs_application_readwrite_all(emulated_microsoft, contoso):
    recorded = load("graph_app_role_assigned_to_denied").json()["error"]
    limited = delegated_token(
        emulated_microsoft, contoso, contoso.admin.upn, ADMIN_PASSWORD, ("User.Read",)
    )
    error = failure(new_app, limited)
    assert (error.code, error.message) == (recorded["code"], recorded["message"])
    assert (error.status, error.transient) == (403, False)


def test_creating_throttled_or_unavailable_is_transient(emulated_microsoft, token):
    throttled(emulated_microsoft, "graph.application", new_app, token)


# --- find_applications -------------------------------------------------------------
def test_it_finds_every_app_of_a_name_oldest_first(emulated_microsoft, token):
    name = "O'Brien's mail connector"
    assert microsoft.find_applications(token, display_name=name) == []
    first = new_app(token, name=name)
    emulated_microsoft.advance_clock(60)
    second = new_app(token, name=name)
    new_app(token, name="Another")
    found = microsoft.find_applications(token, display_name=name)
    assert [(a.object_id, a.app_id) for a in found] == [
        (first.object_id, first.app_id),
        (second.object_id, second.app_id),
    ]
    assert {a.display_name for a in found} == {name}
    first_at, second_at = found[0].created_at, found[1].created_at
    assert first_at is not None
    assert second_at is not None
    assert first_at < second_at


def test_the_documented_list_is_read(emulated_microsoft, token):
    recorded = load("graph_list_applications")
    recorded.replay_into(emulated_microsoft)
    [found] = microsoft.find_applications(token, display_name="My app")
    # The documented example is shortened: it has no id.
    assert found == microsoft.FoundApplication(
        "", "00000000-0000-0000-0000-000000000000", "My app", None
    )


def test_finding_throttled_or_unavailable_is_transient(emulated_microsoft, token):
    throttled(
        emulated_microsoft,
        "graph.application",
        microsoft.find_applications,
        token,
        display_name="X",
    )


# --- delete_application ------------------------------------------------------------
def test_it_deletes_an_app_and_a_second_time_is_done_too(emulated_microsoft, token):
    app = new_app(token)
    microsoft.delete_application(token, app.object_id)
    assert emulated_microsoft.store.app(app.app_id) is None
    microsoft.delete_application(token, app.object_id)  # 404: already gone
    load("graph_delete_application").replay_into(emulated_microsoft)
    microsoft.delete_application(token, app.object_id)


def test_deleting_without_the_permission_fails(emulated_microsoft, contoso, token):
    app = new_app(token)
    limited = delegated_token(
        emulated_microsoft, contoso, contoso.admin.upn, ADMIN_PASSWORD, ("User.Read",)
    )
    error = failure(microsoft.delete_application, limited, app.object_id)
    assert (error.code, error.status) == ("Authorization_RequestDenied", 403)


def test_deleting_throttled_or_unavailable_is_transient(emulated_microsoft, token):
    throttled(emulated_microsoft, "graph.application", microsoft.delete_application, token, "x")


# --- create_service_principal, graph_service_principal ----------------------------------
def test_it_creates_the_service_principal(emulated_microsoft, contoso, token):
    app = new_app(token)
    sp_id = microsoft.create_service_principal(token, app.app_id)
    sp = emulated_microsoft.store.service_principal(contoso.directory.id, app.app_id)
    assert sp.object_id == sp_id


def test_one_that_exists_already_is_looked_up(emulated_microsoft, token):
    recorded = load("graph_create_service_principal_exists")
    assert "unexpected status 409" in recorded.statement
    app = new_app(token)
    first = microsoft.create_service_principal(token, app.app_id)
    assert microsoft.create_service_principal(token, app.app_id) == first


def test_the_documented_service_principal_is_read(emulated_microsoft, token):
    recorded = load("graph_create_service_principal")
    recorded.replay_into(emulated_microsoft)
    assert microsoft.create_service_principal(token, "x") == recorded.json()["id"]


def test_an_app_graph_does_not_know_yet_is_transient(emulated_microsoft, token):
    recorded = load("graph_create_service_principal_not_replicated")
    message = (
        "The appId 'dca53c17-f359-4bd0-a474-56b68d05bd41' of the service principal does not "
        "reference a valid application object."
    )
    assert message.replace("'", "\\u0027") in recorded.statement
    replay_json(
        emulated_microsoft,
        "graph.servicePrincipal",
        400,
        {"error": {"code": "Request_BadRequest", "message": message}},
    )
    error = failure(microsoft.create_service_principal, token, "x")
    assert (error.code, error.status, error.transient) == ("Request_BadRequest", 400, True)


def test_graphs_own_service_principal_is_found(emulated_microsoft, contoso, token):
    assert microsoft.graph_service_principal(token) == graph_service_principal_id(contoso.directory)


def test_service_principals_throttled_or_unavailable_is_transient(emulated_microsoft, token):
    app = new_app(token)
    throttled(
        emulated_microsoft,
        "graph.servicePrincipal",
        microsoft.create_service_principal,
        token,
        app.app_id,
    )
    throttled(
        emulated_microsoft, "graph.servicePrincipal", microsoft.graph_service_principal, token
    )


# --- assign_app_role ---------------------------------------------------------------
def registered(token):
    app = new_app(token)
    return app, microsoft.create_service_principal(token, app.app_id)


def test_it_grants_an_app_role(emulated_microsoft, contoso, token):
    app, sp_id = registered(token)
    resource = microsoft.graph_service_principal(token)
    assignment = microsoft.assign_app_role(
        token,
        resource_id=resource,
        principal_id=sp_id,
        app_role_id=microsoft.GRAPH_APP_ROLES["Mail.Read"],
    )
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", assignment)
    sp = emulated_microsoft.store.service_principal(contoso.directory.id, app.app_id)
    assert sp.app_roles == ["Mail.Read"]


def test_the_documented_assignment_is_read(emulated_microsoft, token):
    recorded = load("graph_app_role_assigned_to")
    recorded.replay_into(emulated_microsoft)
    assert (
        microsoft.assign_app_role(token, resource_id="r", principal_id="p", app_role_id="a")
        == recorded.json()["id"]
    )


def test_the_recorded_refusal_keeps_graphs_code(emulated_microsoft, token):
    load("graph_app_role_assigned_to_denied").replay_into(emulated_microsoft)
    error = failure(
        microsoft.assign_app_role, token, resource_id="r", principal_id="p", app_role_id="a"
    )
    assert (error.code, error.status, error.transient) == (
        "Authorization_RequestDenied",
        403,
        False,
    )
    assert error.message == "Insufficient privileges to complete the operation."


def test_a_user_who_may_not_grant_is_refused_the_same_way(emulated_microsoft, contoso, token):
    _app, sp_id = registered(token)
    resource = microsoft.graph_service_principal(token)
    emulated_microsoft.update_user(contoso.mailbox, admin_role="Application Administrator")
    user = delegated_token(emulated_microsoft, contoso, contoso.mailbox.upn, USER_PASSWORD)
    error = failure(
        microsoft.assign_app_role,
        user,
        resource_id=resource,
        principal_id=sp_id,
        app_role_id=microsoft.GRAPH_APP_ROLES["Mail.Send"],
    )
    assert (error.code, error.status) == ("Authorization_RequestDenied", 403)


def test_assigning_throttled_or_unavailable_is_transient(emulated_microsoft, token):
    throttled(
        emulated_microsoft,
        "graph.servicePrincipal",
        microsoft.assign_app_role,
        token,
        resource_id="r",
        principal_id="p",
        app_role_id="a",
    )


# --- add_password ------------------------------------------------------------------
def test_it_adds_a_secret_and_never_shows_or_logs_its_text(emulated_microsoft, token, caplog):
    caplog.set_level(logging.DEBUG)
    app = new_app(token)
    end = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
    new = microsoft.add_password(
        token, application_object_id=app.object_id, display_name="portal", end=end
    )
    [stored] = emulated_microsoft.store.app(app.app_id).secrets
    assert (new.key_id, new.secret_text, new.end) == (stored.key_id, stored.value, end)
    assert new.hint == stored.value[:3]
    assert stored.display_name == "portal"
    assert new.secret_text not in repr(new)
    assert new.secret_text not in str(new)
    assert new.secret_text not in caplog.text
    assert token not in caplog.text


def test_the_documented_password_is_read(emulated_microsoft, token, caplog):
    caplog.set_level(logging.DEBUG)
    recorded = load("graph_add_password")
    recorded.replay_into(emulated_microsoft)
    documented = recorded.json()
    new = microsoft.add_password(
        token, application_object_id="x", display_name="n", end=datetime.now(UTC)
    )
    assert (new.key_id, new.secret_text, new.hint) == (
        documented["keyId"],
        documented["secretText"],
        documented["hint"],
    )
    assert new.end == datetime(2021, 9, 9, 19, 50, 29, 308638, tzinfo=UTC)
    assert documented["secretText"] not in repr(new) + caplog.text


def test_a_policy_that_forbids_secrets_keeps_graphs_code(emulated_microsoft, contoso, token):
    recorded = load("graph_add_password_blocked_by_policy")
    emulated_microsoft.block_password_credentials(contoso.directory)
    app = new_app(token)
    call = (microsoft.add_password, token)
    kwargs = {"application_object_id": app.object_id, "display_name": "p", "end": datetime.now(UTC)}
    error = failure(*call, **kwargs)
    assert f'code: "{error.code}"' in recorded.statement
    assert (error.status, error.transient) == (400, False)
    # The body Microsoft's Teams Toolkit mocks for it, a code and no message.
    replay_json(
        emulated_microsoft,
        "graph.application",
        400,
        {"error": {"code": "CredentialTypeNotAllowedAsPerAppPolicy"}},
    )
    error = failure(*call, **kwargs)
    assert (error.code, error.status) == ("CredentialTypeNotAllowedAsPerAppPolicy", 400)


def test_adding_throttled_or_unavailable_is_transient(emulated_microsoft, token):
    app = new_app(token)
    throttled(
        emulated_microsoft,
        "graph.application",
        microsoft.add_password,
        token,
        application_object_id=app.object_id,
        display_name="p",
        end=datetime.now(UTC) + timedelta(days=30),
    )


# --- the whole sequence --------------------------------------------------------------
def test_the_registered_app_gets_a_certificate_token_with_the_mail_roles(
    emulated_microsoft, contoso, token
):
    assert microsoft.signed_in_roles(token) & microsoft.ROLES_THAT_GRANT_APP_ROLES
    policy = microsoft.app_management_policies(token)
    assert not policy.password_blocked
    made = certificates.make(tenant_name="Contoso", days=365)
    app = microsoft.create_application(
        token,
        display_name="Contoso mail connector",
        redirect_uris=[REDIRECT],
        certificate_der_b64=certificates.key_value(made.certificate_pem),
    )
    assert microsoft.find_applications(token, display_name="Contoso mail connector")[0].app_id == (
        app.app_id
    )
    sp_id = microsoft.create_service_principal(token, app.app_id)
    resource = microsoft.graph_service_principal(token)
    for name in ("Mail.Read", "Mail.Send"):
        microsoft.assign_app_role(
            token,
            resource_id=resource,
            principal_id=sp_id,
            app_role_id=microsoft.GRAPH_APP_ROLES[name],
        )
    app_token = microsoft.acquire_app_token(
        directory=contoso.directory.id,
        client_id=app.app_id,
        client_secret=made.private_key_pem,
        certificate=made.certificate_pem,
    )
    assert app_token.roles == {"Mail.Read", "Mail.Send"}
    inbox = microsoft.read_inbox(access_token=app_token.access_token, mailbox=contoso.mailbox.upn)
    assert inbox is not None
    assert inbox.subject == "Welcome"
