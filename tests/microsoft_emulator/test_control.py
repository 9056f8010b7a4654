"""The control API (/_emulator/...) and the state page."""

import pytest


def api(http, emulator, method, path, **kwargs):
    return http.request(method, f"{emulator.base_url}/_emulator{path}", **kwargs)


def test_it_builds_a_directory_through_the_api(emulator, http):
    directory = api(
        http, emulator, "POST", "/directories", json={"name": "Contoso", "domains": ["contoso.com"]}
    ).json()
    api(
        http,
        emulator,
        "POST",
        "/directories/contoso.com/users",
        json={"upn": "a@contoso.com", "password": "pw"},
    )
    app = api(
        http,
        emulator,
        "POST",
        "/apps",
        json={"directory": directory["id"], "name": "Ops", "permissions": ["Mail.Read"]},
    ).json()
    secret = api(
        http, emulator, "POST", f"/apps/{app['client_id']}/secrets", json={"days": 30}
    ).json()
    sp = api(
        http,
        emulator,
        "POST",
        f"/apps/{app['client_id']}/consent",
        json={"directory": "contoso.com"},
    ).json()
    assert secret["value"][3:6] == "8Q~"
    assert secret["hint"] == secret["value"][:3]
    assert sp["app_roles"] == ["Mail.Read"]
    state = api(http, emulator, "GET", "/state").json()
    assert state["directories"][0]["users"][0]["upn"] == "a@contoso.com"


def test_it_replaces_the_whole_state(emulator, http, ready):
    state = api(http, emulator, "GET", "/state").json()
    state["directories"][0]["name"] = "Contoso Ltd"
    assert api(http, emulator, "PUT", "/state", json=state).status_code == 200
    assert emulator.state.directories[0].name == "Contoso Ltd"


def test_it_changes_users_and_apps(emulator, http, ready):
    api(
        http,
        emulator,
        "PATCH",
        f"/users/{ready.mailbox.upn}",
        json={"mailbox": False, "mfa_required": True},
    )
    api(http, emulator, "PATCH", f"/apps/{ready.app.client_id}", json={"public_client": False})
    api(http, emulator, "POST", f"/users/{ready.mailbox.upn}/messages", json={"subject": "Via API"})
    assert (ready.mailbox.mailbox, ready.mailbox.mfa_required, ready.app.public_client) == (
        False,
        True,
        False,
    )
    assert ready.mailbox.messages[-1].subject == "Via API"


def test_it_adds_access_policies_and_sets_consent_exactly(emulator, http, ready):
    api(
        http,
        emulator,
        "POST",
        f"/apps/{ready.app.client_id}/access-policies",
        json={"directory": ready.directory.id, "mailboxes": [ready.admin.upn]},
    )
    sp = api(
        http,
        emulator,
        "POST",
        f"/apps/{ready.app.client_id}/consent",
        json={"directory": ready.directory.id, "app_roles": ["Mail.Read"]},
    ).json()
    assert emulator.state.access_policies[0].mailboxes == [ready.admin.upn]
    assert sp["app_roles"] == ["Mail.Read"]


def test_it_sets_faults_and_reads_counters(emulator, http, ready):
    assert (
        api(http, emulator, "PUT", "/faults/token", json={"throttle_share": 1.0}).status_code == 200
    )
    http.post(f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token", data={})
    counters = api(http, emulator, "GET", "/counters").json()
    assert counters["injected"] == {"token:429": 1}
    api(http, emulator, "DELETE", "/faults")
    api(http, emulator, "PUT", "/mailbox-limit", json={"limit": 2})
    assert api(http, emulator, "GET", "/faults").json()["mailbox_limit"] == 2
    assert api(http, emulator, "DELETE", "/counters").json()["requests"] == {}


def test_it_moves_the_clock(emulator, http):
    moved = api(http, emulator, "POST", "/clock", json={"advance_seconds": 3600}).json()
    assert moved["offset_seconds"] == 3600


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/directories", {"domains": []}, 400),
        ("POST", "/directories/nowhere.example/users", {"upn": "a", "password": "b"}, 404),
        ("PATCH", "/users/ghost@x.example", {"mailbox": False}, 404),
        ("PUT", "/faults/token", {"throttle_share": 2}, 400),
        ("PUT", "/faults/nothing", {}, 400),
        ("PUT", "/state", {"directories": "nope"}, 400),
        ("POST", "/clock", {}, 400),
    ],
)
def test_it_refuses_bad_control_requests(emulator, http, ready, method, path, body, status):
    response = api(http, emulator, method, path, json=body)
    assert response.status_code == status
    assert response.json()["error"]


@pytest.mark.parametrize("changes", [{"id": "x"}, {"mailbox": "yes"}, {"blocked": "forever"}])
def test_it_refuses_bad_user_changes(emulator, http, ready, changes):
    assert (
        api(http, emulator, "PATCH", f"/users/{ready.mailbox.upn}", json=changes).status_code == 400
    )


def test_it_refuses_a_non_json_body(emulator, http):
    assert api(http, emulator, "POST", "/directories", data="name=x").status_code == 400


def test_it_shows_the_state_page(emulator, http, ready):
    emulator.add_access_policy(ready.app, ready.directory, [ready.mailbox.upn])
    page = http.get(f"{emulator.base_url}/_emulator/")
    assert page.status_code == 200
    for text in (
        "Contoso",
        ready.admin.upn,
        "Global Administrator",
        ready.app.client_id,
        "Mail.Read",
        "RestrictAccess",
    ):
        assert text in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
