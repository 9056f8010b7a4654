"""The emulator's Exchange RBAC for Applications with service principals, management
scopes and their filters, the propagation delay, Test-ServicePrincipalAuthorization and
the commands endpoint: what Graph then lets an app-only token do."""

import pytest

from microsoft_emulator.state import state_from_plain
from tests.microsoft_emulator.test_contract_mailbox import assert_answers_like
from tests.microsoft_emulator.test_exchange_roles import read, send
from tests.recordings import load

ROLES = {
    "none": (),
    "read": ("Application Mail.Read",),
    "send": ("Application Mail.Send",),
    "both": ("Application Mail.Read", "Application Mail.Send"),
}


@pytest.fixture
def token(emulator, cca):
    def acquire(ready):
        app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
        return app.acquire_token_for_client([f"{emulator.graph_url}/.default"])["access_token"]

    return acquire


def entra_object_id(emulator, ready):
    return emulator.store.service_principal(ready.directory.id, ready.app.client_id).object_id


def service_principal_line(emulator, ready, name="Fabrikam operations app"):
    quoted = name.replace("'", "''")
    return (
        f"New-ServicePrincipal -AppId '{ready.app.client_id}' "
        f"-ObjectId '{entra_object_id(emulator, ready)}' -DisplayName '{quoted}'"
    )


def scoped(emulator, ready, roles, recipient_filter=None, scope="Dispatch mailbox"):
    """The portal's commands: service principal, scope, one assignment per role."""
    recipient_filter = recipient_filter or f"PrimarySmtpAddress -eq '{ready.mailbox.upn}'"
    lines = [
        "Connect-ExchangeOnline",
        service_principal_line(emulator, ready),
        f"New-ManagementScope -Name '{scope}' -RecipientRestrictionFilter \"{recipient_filter}\"",
        *(
            f"New-ManagementRoleAssignment -App '{ready.app.client_id}' -Role '{role}' "
            f"-CustomResourceScope '{scope}'"
            for role in roles
        ),
    ]
    run = emulator.exchange_commands(ready.directory, lines)
    assert run.ok, run.results
    return run


# --- the matrix: Entra consent x RBAC assignments x mailbox in or out of scope --------


@pytest.mark.parametrize("target", ["in scope", "out of scope"])
@pytest.mark.parametrize("rbac", list(ROLES))
@pytest.mark.parametrize("consent", [False, True], ids=["no consent", "Mail.Read+Mail.Send"])
def test_graph_combines_entra_consent_and_scoped_assignments(
    emulator, http, unconsented, token, consent, rbac, target
):
    if consent:
        emulator.grant_admin_consent(unconsented.app, unconsented.directory)
    if ROLES[rbac]:
        scoped(emulator, unconsented, ROLES[rbac])
    user = unconsented.mailbox if target == "in scope" else unconsented.admin
    access = token(unconsented)
    covered = target == "in scope"
    may_read = consent or (covered and "Application Mail.Read" in ROLES[rbac])
    may_send = consent or (covered and "Application Mail.Send" in ROLES[rbac])
    got_read, got_send = (
        read(http, emulator, access, user.upn),
        send(http, emulator, access, user.upn),
    )
    assert got_read.status_code == (200 if may_read else 403)
    assert got_send.status_code == (202 if may_send else 403)
    for refused in [r for r in (got_read, got_send) if r.status_code == 403]:
        assert refused.json()["error"]["code"] == "ErrorAccessDenied"


def test_out_of_scope_answers_as_the_recording(emulator, http, unconsented, token):
    scoped(emulator, unconsented, ["Application Mail.Read"])
    own = read(http, emulator, token(unconsented), unconsented.admin.upn)
    assert_answers_like(own, load("graph_rbac_mailbox_out_of_scope"))


# --- filters ------------------------------------------------------------------------


def readable(http, emulator, token, ready, *users):
    access = token(ready)
    return [read(http, emulator, access, u.upn).status_code == 200 for u in users]


def test_a_filter_of_several_addresses(emulator, http, unconsented, token):
    third = emulator.add_user(unconsented.directory, "ops@fabrikam.onmicrosoft.com", "Ops-pass-1")
    flt = (
        f"PrimarySmtpAddress -eq '{unconsented.mailbox.upn}' "
        f"-or PrimarySmtpAddress -eq '{third.upn}'"
    )
    scoped(emulator, unconsented, ["Application Mail.Read"], flt)
    users = (unconsented.mailbox, third, unconsented.admin)
    assert readable(http, emulator, token, unconsented, *users) == [True, True, False]


def test_primary_smtp_address_is_the_primary_address_not_the_upn(
    emulator, http, unconsented, token
):
    emulator.update_user(unconsented.mailbox, mail="o'neil@fabrikam.example")
    scoped(
        emulator,
        unconsented,
        ["Application Mail.Read"],
        "PrimarySmtpAddress -eq 'O''Neil@fabrikam.example'",
    )
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [True]


@pytest.mark.parametrize("key", ["distinguished name", "address", "name"])
def test_a_group_filter_and_a_later_group_change(emulator, http, unconsented, token, key):
    group = emulator.add_mail_group(
        unconsented.directory,
        "Dispatchers",
        "dispatchers@fabrikam.onmicrosoft.com",
        [unconsented.mailbox.upn],
    )
    dn = "CN=Dispatchers,OU=fabrikam.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations"
    value = {
        "distinguished name": f"{dn},DC=NAMPR00A001,DC=prod,DC=outlook,DC=com",
        "address": group.address,
        "name": group.name,
    }[key]
    scoped(emulator, unconsented, ["Application Mail.Read"], f"MemberOfGroup -eq '{value}'")
    users = (unconsented.mailbox, unconsented.admin)
    assert readable(http, emulator, token, unconsented, *users) == [True, False]
    emulator.set_group_members(group, [unconsented.admin.upn])
    assert readable(http, emulator, token, unconsented, *users) == [False, True]


def test_a_filter_matching_nothing_and_one_matching_everyone(emulator, http, unconsented, token):
    scoped(
        emulator,
        unconsented,
        ["Application Mail.Read"],
        "PrimarySmtpAddress -eq 'nobody@fabrikam.onmicrosoft.com'",
    )
    users = (unconsented.mailbox, unconsented.admin)
    assert readable(http, emulator, token, unconsented, *users) == [False, False]
    run = emulator.exchange_commands(
        unconsented.directory,
        [
            "New-ManagementScope -Name 'Everyone' -RecipientRestrictionFilter "
            "\"PrimarySmtpAddress -like '*'\"",
            f"New-ManagementRoleAssignment -App '{unconsented.app.client_id}' "
            "-Role 'Application Mail.Read' -CustomResourceScope 'Everyone'",
        ],
    )
    assert run.ok, run.results
    assert readable(http, emulator, token, unconsented, *users) == [True, True]


@pytest.mark.parametrize(
    "recipient_filter",
    [
        "Title -like 'VP*'",
        "PrimarySmtpAddress -eq 'a@x.com' -and PrimarySmtpAddress -eq 'b@x.com'",
        "MemberOfGroup -like 'Dispatch*'",
        "PrimarySmtpAddress -eq 'a@x.com",
        "PrimarySmtpAddress -eq",
        "",
    ],
)
def test_it_refuses_filters_it_cannot_read(emulator, unconsented, recipient_filter):
    with pytest.raises(ValueError, match="filter"):
        emulator.new_management_scope(unconsented.directory, "Bad", recipient_filter)
    assert emulator.state.management_scopes == []


# --- service principals -------------------------------------------------------------


def test_an_assignment_needs_exchanges_service_principal(emulator, unconsented):
    with pytest.raises(ValueError, match="couldn't be found"):
        emulator.new_management_role_assignment(
            unconsented.directory, unconsented.app.client_id, "Application Mail.Read"
        )
    with pytest.raises(ValueError, match="Microsoft Entra ID"):
        emulator.new_exchange_service_principal(
            unconsented.directory, unconsented.app.client_id, "00000000-0000-0000-0000-000000000001"
        )


def test_removing_the_service_principal_removes_its_assignments(emulator, http, unconsented, token):
    scoped(emulator, unconsented, ["Application Mail.Read"])
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [True]
    emulator.remove_exchange_service_principal(unconsented.directory, unconsented.app.client_id)
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [False]
    with pytest.raises(ValueError, match="couldn't be found"):
        emulator.test_service_principal_authorization(
            unconsented.directory, unconsented.app.client_id
        )


# --- the propagation delay ----------------------------------------------------------


def test_graph_sees_changes_after_the_delay_and_the_test_cmdlet_at_once(
    emulator, http, unconsented, token
):
    emulator.set_exchange_propagation(1800)
    scoped(emulator, unconsented, ["Application Mail.Read"])
    rows = emulator.test_service_principal_authorization(
        unconsented.directory, unconsented.app.client_id, unconsented.mailbox.upn
    )
    assert [r["InScope"] for r in rows] == ["True"]
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [False]
    emulator.advance_clock(1798)
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [False]
    emulator.advance_clock(3)
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [True]
    [assignment] = emulator.state.exchange_role_assignments
    emulator.remove_management_role_assignment(unconsented.directory, assignment.name)
    assert (
        emulator.test_service_principal_authorization(
            unconsented.directory, unconsented.app.client_id
        )
        == []
    )
    emulator.advance_clock(1798)
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [True]
    emulator.advance_clock(3)
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [False]


def test_the_control_api_sets_the_delay_through_the_clock(emulator, http, unconsented, token):
    base = f"{emulator.base_url}/_emulator"
    assert http.put(f"{base}/exchange-propagation", json={"seconds": 60}).json() == {"seconds": 60}
    assert http.put(f"{base}/exchange-propagation", json={"seconds": -1}).status_code == 400
    assert http.put(f"{base}/exchange-propagation", json={"seconds": "1h"}).status_code == 400
    scoped(emulator, unconsented, ["Application Mail.Read"])
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [False]
    http.post(f"{base}/clock", json={"advance_seconds": 61})
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [True]


# --- the commands endpoint ----------------------------------------------------------


def test_the_commands_endpoint_end_to_end(emulator, http, unconsented, token):
    app_id, mailbox = unconsented.app.client_id, unconsented.mailbox.upn
    url = f"{emulator.base_url}/_emulator/directories/{unconsented.directory.id}/exchange/commands"
    commands = [
        "Connect-ExchangeOnline -UserPrincipalName admin@fabrikam.onmicrosoft.com",
        service_principal_line(emulator, unconsented, "O'Neil's mail app"),
        "New-ManagementScope -Name 'O''Neil scope' -RecipientRestrictionFilter "
        f"\"PrimarySmtpAddress -eq '{mailbox}' -or PrimarySmtpAddress -eq 'o''neil@x.example'\"",
        f"New-ManagementRoleAssignment -App '{app_id}' -Role 'Application Mail.Read' "
        "-CustomResourceScope 'O''Neil scope'",
        f"Test-ServicePrincipalAuthorization -Identity '{app_id}' -Resource '{mailbox}'",
        f"Test-ServicePrincipalAuthorization -Identity 'O''Neil''s mail app' "
        f"-Resource '{unconsented.admin.upn}'",
        "Test-ServicePrincipalAuthorization -Identity \"O'Neil's mail app\"",
    ]
    answer = http.post(url, json={"commands": commands})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is True
    assert body["failed_line"] is None
    results = body["results"]
    assert [r["result"] for r in results] == ["ignored"] + ["ok"] * 6
    assert [r["line"] for r in results] == list(range(1, 8))
    assert results[1]["object"]["display_name"] == "O'Neil's mail app"
    assert results[2]["object"]["recipient_restriction_filter"] == (
        f"PrimarySmtpAddress -eq '{mailbox}' -or PrimarySmtpAddress -eq 'o''neil@x.example'"
    )
    row = {
        "RoleName": "Application Mail.Read",
        "GrantedPermissions": "Mail.Read",
        "AllowedResourceScope": "O'Neil scope",
        "ScopeType": "CustomRecipientScope",
    }
    assert results[4]["rows"] == [{**row, "InScope": "True"}]
    assert results[5]["rows"] == [{**row, "InScope": "False"}]
    assert results[6]["rows"] == [{**row, "InScope": "Not Run"}]
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [True]

    name = results[3]["object"]["name"]
    removal = [
        f"Remove-ManagementRoleAssignment -Identity '{name.replace(chr(39), chr(39) * 2)}'",
        "Remove-ManagementScope -Identity 'O''Neil scope' -Confirm:$false",
        f"Remove-ServicePrincipal -Identity '{app_id}'",
    ]
    assert http.post(url, json={"commands": removal}).status_code == 200
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [False]


def test_the_commands_endpoint_stops_at_the_first_failing_line(emulator, http, unconsented):
    url = f"{emulator.base_url}/_emulator/directories/{unconsented.directory.id}/exchange/commands"
    commands = [
        "New-ManagementScope -Name 'Dispatch' -RecipientRestrictionFilter "
        f"\"PrimarySmtpAddress -eq '{unconsented.mailbox.upn}'\"",
        f"New-ManagementRoleAssignment -App '{unconsented.app.client_id}' "
        "-Role 'Application Mail.Read' -CustomResourceScope 'Dispatch'",
        service_principal_line(emulator, unconsented),
    ]
    answer = http.post(url, json={"commands": commands})
    assert answer.status_code == 400
    body = answer.json()
    assert body["ok"] is False
    assert body["failed_line"] == 2
    assert [r["result"] for r in body["results"]] == ["ok", "error"]
    assert body["error"].startswith("line 2: The operation couldn't be performed because object")
    assert unconsented.app.client_id in body["results"][1]["error"]
    assert emulator.state.exchange_service_principals == []  # line 3 never ran
    assert [s.name for s in emulator.state.management_scopes] == ["Dispatch"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("Get-Mailbox -Identity 'x'", "is not recognized as a name of a cmdlet"),
        ("New-ManagementScope -Name 'x' -Filter \"PrimarySmtpAddress -eq 'a'\"", "parameter"),
        ("New-ManagementScope -Name 'x'", "-RecipientRestrictionFilter is required"),
        ("New-ManagementScope -Name 'x", "not closed"),
        (
            "New-ManagementScope -Name x -RecipientRestrictionFilter \"MemberOfGroup -eq '$g'\"",
            "variables",
        ),
        ("Remove-ManagementScope -Identity 'nothing'", "couldn't be found"),
    ],
)
def test_the_commands_endpoint_explains_bad_lines(emulator, http, unconsented, line, problem):
    url = f"{emulator.base_url}/_emulator/directories/{unconsented.directory.id}/exchange/commands"
    answer = http.post(url, json={"commands": [line]})
    assert answer.status_code == 400
    assert problem in answer.json()["results"][0]["error"]
    assert http.post(url, json={"commands": "New-ServicePrincipal"}).status_code == 400


def test_the_control_api_adds_groups_and_changes_members(emulator, http, unconsented, token):
    base = f"{emulator.base_url}/_emulator/directories/{unconsented.directory.id}/groups"
    created = http.post(
        base, json={"name": "Dispatchers", "address": "d@fabrikam.example", "members": []}
    )
    assert created.status_code == 201
    scoped(emulator, unconsented, ["Application Mail.Read"], "MemberOfGroup -eq 'Dispatchers'")
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [False]
    changed = http.put(
        f"{base}/d@fabrikam.example/members", json={"members": [unconsented.mailbox.upn]}
    )
    assert changed.json()["members"] == [unconsented.mailbox.upn]
    assert readable(http, emulator, token, unconsented, unconsented.mailbox) == [True]
    assert http.put(f"{base}/nobody/members", json={"members": []}).status_code == 404


# --- state files --------------------------------------------------------------------


def test_the_new_state_survives_a_state_file(emulator, unconsented):
    emulator.add_mail_group(unconsented.directory, "Dispatchers", members=["a@b.example"])
    emulator.set_exchange_propagation(90)
    scoped(emulator, unconsented, ["Application Mail.Send"])
    again = state_from_plain(emulator.snapshot())
    assert again.exchange_service_principals == emulator.state.exchange_service_principals
    assert again.management_scopes == emulator.state.management_scopes
    assert again.exchange_role_assignments == emulator.state.exchange_role_assignments
    assert again.directories[-1].groups == unconsented.directory.groups
    assert again.exchange_propagation_seconds == 90


def test_an_old_state_file_without_the_new_fields_still_loads_and_grants(
    emulator, http, unconsented, token
):
    emulator.add_exchange_role_assignment(
        unconsented.app, unconsented.directory, "Application Mail.Read", [unconsented.mailbox.upn]
    )
    old = emulator.snapshot()
    for key in ("exchange_service_principals", "management_scopes", "exchange_propagation_seconds"):
        del old[key]
    for directory in old["directories"]:
        del directory["groups"]
    old["exchange_role_assignments"] = [
        {k: a[k] for k in ("directory_id", "client_id", "role", "mailboxes")}
        for a in old["exchange_role_assignments"]
    ]
    emulator.reset(state_from_plain(old))
    assert emulator.state.exchange_propagation_seconds == 0
    [assignment] = emulator.state.exchange_role_assignments
    assert (assignment.scope, assignment.created_at) == ("", "")
    mailbox = emulator.store.find_user(unconsented.mailbox.upn)[1]
    assert read(http, emulator, token(unconsented), mailbox.upn).status_code == 200


def test_the_state_page_shows_scopes_and_service_principals(emulator, http, unconsented):
    scoped(emulator, unconsented, ["Application Mail.Read"])
    page = http.get(f"{emulator.base_url}/_emulator/")
    assert page.status_code == 200
    assert "Scope Dispatch mailbox" in page.text
    assert "on scope Dispatch mailbox" in page.text


def test_the_commands_endpoint_runs_the_documented_removal_pipeline(emulator, unconsented):
    """Get-ManagementRoleAssignment -RoleAssignee ... -Role ... | Remove-ManagementRoleAssignment
    (tests/recordings/exchange_rbac_cmdlet_reference.json), and nothing else piped."""
    ready = unconsented
    scoped(emulator, ready, ROLES["both"])
    sp = entra_object_id(emulator, ready)
    removed = emulator.exchange_commands(
        ready.directory,
        [
            f"Get-ManagementRoleAssignment -RoleAssignee '{sp}' -Role 'Application Mail.Read' "
            "| Remove-ManagementRoleAssignment"
        ],
    )
    assert removed.ok, removed.results
    assert len(removed.results[0]["removed"]) == 1
    left = [a.role for a in emulator.store.state.exchange_role_assignments if not a.removed_at]
    assert left == ["Application Mail.Send"]
    other = emulator.exchange_commands(ready.directory, ["Get-Mailbox | Remove-Mailbox"])
    assert other.failed_line == 1
    assert "one pipeline only" in other.results[0]["error"]
