"""The emulator's client-secret limits held to what Microsoft really said and answered
(tests/recordings): two secrets at most for an app that takes personal accounts, Graph's
refusal of a third, a 90-character display name."""

import json
import re

import pytest

from microsoft_emulator import app_limits
from tests.microsoft_emulator.conftest import csrf, sign_in
from tests.recordings import load

PERSONAL = "AzureADandPersonalMicrosoftAccount"


@pytest.fixture
def contoso(emulator):
    directory = emulator.add_directory("Contoso", "contoso.onmicrosoft.com")
    emulator.add_user(directory, "admin@contoso.onmicrosoft.com", "Admin-pass-1", admin=True)
    return directory


def control(http, emulator, path, payload):
    return http.post(f"{emulator.base_url}/_emulator{path}", json=payload)


def test_the_documented_limits_are_the_emulators():
    secrets = load("supported_accounts_two_secrets").statement
    names = load("supported_accounts_display_name").statement
    assert secrets.splitlines()[1].rstrip(" |").endswith("Maximum of two client secrets")
    assert app_limits.MAX_PERSONAL_SECRETS == 2
    lengths = [int(n) for n in re.findall(r"Maximum length of (\d+) characters", names)]
    assert lengths == [app_limits.MAX_NAME, app_limits.MAX_NAME, app_limits.MAX_PERSONAL_NAME]
    assert {PERSONAL, "PersonalMicrosoftAccount"} == app_limits.PERSONAL_AUDIENCES


def test_a_third_secret_gets_graphs_recorded_refusal(emulator, http, contoso):
    recorded = load("add_password_too_many_app_passwords")
    app = emulator.register_app(contoso, "Ops", sign_in_audience=PERSONAL)
    emulator.add_secret(app)
    emulator.add_secret(app)
    answer = control(http, emulator, f"/apps/{app.client_id}/secrets", {"days": 180})
    expected = recorded.json()["error"]
    got = answer.json()["error"]
    assert answer.status_code == recorded.status
    assert (got["code"], got["message"], got["details"]) == (
        expected["code"],
        expected["message"],
        expected["details"],
    )
    assert got["innerError"].keys() == expected["innerError"].keys()
    assert len(app.secrets) == 2


def test_the_admin_center_shows_the_same_refusal_and_adds_nothing(emulator, http, contoso):
    message = load("add_password_too_many_app_passwords").json()["error"]["message"]
    app = emulator.register_app(contoso, "Ops", sign_in_audience=PERSONAL)
    kept = [emulator.add_secret(app).key_id, emulator.add_secret(app).key_id]
    url = f"{emulator.base_url}/entra/apps/{app.client_id}/credentials/new-secret"
    sign_in(http, http.get(url), "admin@contoso.onmicrosoft.com", "Admin-pass-1")
    form = http.get(url)
    page = http.post(url, data={"csrf": csrf(form.text), "description": "3rd", "expires": "180"})
    assert page.status_code == 200
    assert message in page.text
    assert [s.key_id for s in app.secrets] == kept


def test_deleting_one_makes_room_again(emulator, http, contoso):
    app = emulator.register_app(contoso, "Ops", sign_in_audience=PERSONAL)
    first, _ = emulator.add_secret(app), emulator.add_secret(app)
    with pytest.raises(app_limits.TooManyAppPasswords):
        emulator.add_secret(app)
    app.secrets.remove(first)
    assert emulator.add_secret(app) in app.secrets


@pytest.mark.parametrize("audience", ["AzureADMyOrg", "AzureADMultipleOrgs"])
def test_a_work_accounts_only_app_has_no_such_limit(emulator, http, contoso, audience):
    app = emulator.register_app(contoso, "Ops", sign_in_audience=audience)
    for _ in range(3):
        emulator.add_secret(app)
    answer = control(http, emulator, f"/apps/{app.client_id}/secrets", {})
    assert answer.status_code == 201
    assert len(app.secrets) == 4


def test_a_display_name_over_90_characters_is_refused_for_personal_accounts(
    emulator, http, contoso
):
    for name, audience, status in [
        ("x" * 90, PERSONAL, 201),
        ("y" * 91, PERSONAL, 400),
        ("z" * 91, "AzureADMultipleOrgs", 201),
        ("w" * 121, "AzureADMultipleOrgs", 400),
    ]:
        answer = control(
            http,
            emulator,
            "/apps",
            {"directory": contoso.id, "name": name, "sign_in_audience": audience},
        )
        assert answer.status_code == status, (name, audience)
        if status == 400:
            assert "not verified" in answer.json()["error"]
    assert sorted(len(a.name) for a in emulator.state.apps) == [90, 91]


def test_an_app_cannot_move_to_personal_accounts_with_three_secrets_or_a_long_name(
    emulator, http, contoso
):
    crowded = emulator.register_app(contoso, "Ops", sign_in_audience="AzureADMultipleOrgs")
    for _ in range(3):
        emulator.add_secret(crowded)
    long_named = emulator.register_app(contoso, "n" * 100, sign_in_audience="AzureADMyOrg")
    for app in (crowded, long_named):
        answer = http.patch(
            f"{emulator.base_url}/_emulator/apps/{app.client_id}",
            json={"sign_in_audience": PERSONAL},
        )
        assert answer.status_code == 400
        assert app.sign_in_audience != PERSONAL


def test_the_recorded_body_is_graphs_error_shape():
    # The recording is kept as sent: one JSON object, the fields Graph always gives.
    body = json.loads(load("add_password_too_many_app_passwords").body)
    assert set(body["error"]) == {"code", "message", "details", "innerError"}
