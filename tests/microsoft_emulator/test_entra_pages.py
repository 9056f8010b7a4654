"""The emulated Entra admin center, driven over HTTP (the browser test drives it in Chromium)."""

import datetime
import re

import pytest

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.conftest import csrf, sign_in

SECRET = re.compile(r'data-testid="secret-value">([^<]+)<')


@pytest.fixture
def contoso(emulator):
    directory = emulator.add_directory("Contoso", "contoso.onmicrosoft.com")
    admin = emulator.add_user(
        directory, "admin@contoso.onmicrosoft.com", "Admin-pass-1", admin=True
    )
    user = emulator.add_user(directory, "staff@contoso.onmicrosoft.com", "Staff-pass-1")
    return directory, admin, user


@pytest.fixture
def admin_center(emulator, http, contoso):
    """An HTTP client signed in to the admin center as Contoso's Global Administrator."""
    sign_in(http, http.get(f"{emulator.base_url}/entra/"), contoso[1].upn, "Admin-pass-1")
    return http


def post(http, url, data):
    page = http.get(url)
    return http.post(url, data={"csrf": csrf(page.text), **data}, allow_redirects=True)


def register(emulator, http, **fields):
    data = {
        "name": "Operations app",
        "audience": "AzureADandPersonalMicrosoftAccount",
        "platform": "Web",
        "redirect_uri": "https://localhost",
        **fields,
    }
    return post(http, f"{emulator.base_url}/entra/apps/new", data)


def test_it_asks_for_a_sign_in_first(emulator, http):
    page = http.get(f"{emulator.base_url}/entra/")
    assert "Sign in" in page.text
    assert 'name="next" value="/entra/?"' in page.text


def test_it_registers_an_app_and_shows_its_ids(emulator, admin_center, contoso):
    overview = register(emulator, admin_center)
    app = emulator.state.apps[0]
    assert (app.name, app.sign_in_audience, app.redirect_uris) == (
        "Operations app",
        "AzureADandPersonalMicrosoftAccount",
        ["https://localhost"],
    )
    assert app.permission_names("Delegated") == ["User.Read"]
    assert "Application (client) ID" in overview.text
    assert app.client_id in overview.text
    assert "Directory (tenant) ID" in overview.text
    assert contoso[0].id in overview.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter a name"),
        ({"redirect_uri": "http://example.com/cb"}, "absolute https://"),
        ({"redirect_uri": "localhost"}, "absolute https://"),
        ({"audience": "Everyone"}, "Choose who can use"),
    ],
)
def test_it_refuses_bad_registrations(emulator, admin_center, fields, message):
    assert message in register(emulator, admin_center, **fields).text
    assert emulator.state.apps == []


def test_it_saves_the_authentication_settings(emulator, admin_center):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    url = f"{emulator.base_url}/entra/apps/{app.client_id}/authentication"
    page = admin_center.get(url)
    saved = admin_center.post(
        url,
        data=[
            ("csrf", csrf(page.text)),
            ("redirect_uri", "https://localhost"),
            ("redirect_uri", "http://localhost"),
            ("implicit_access_tokens", "on"),
            ("implicit_id_tokens", "on"),
            ("public_client", "yes"),
        ],
    )
    assert "Successfully updated" in saved.text
    assert app.redirect_uris == ["https://localhost", "http://localhost"]
    assert (app.implicit_access_tokens, app.implicit_id_tokens, app.public_client) == (
        True,
        True,
        True,
    )


def test_it_refuses_a_bad_redirect_uri_on_the_authentication_page(emulator, admin_center):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    page = post(
        admin_center,
        f"{emulator.base_url}/entra/apps/{app.client_id}/authentication",
        {"redirect_uri": "ftp://files.example"},
    )
    assert "Not a valid redirect URI" in page.text
    assert app.redirect_uris == ["https://localhost"]


def test_it_adds_application_permissions_and_grants_admin_consent(emulator, admin_center, contoso):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    base = f"{emulator.base_url}/entra/apps/{app.client_id}/permissions"
    search = admin_center.get(f"{base}/add", params={"kind": "Application", "search": "mail"})
    assert "Mail.Read" in search.text
    assert "User.Read.All" not in search.text
    admin_center.post(
        f"{base}/add",
        data=[
            ("csrf", csrf(search.text)),
            ("kind", "Application"),
            ("permission", "Mail.Read"),
            ("permission", "Mail.Send"),
        ],
    )
    listed = admin_center.get(base)
    assert "Not granted for Contoso" in listed.text
    post(admin_center, f"{base}/consent", {"decision": "yes"})
    sp = emulator.store.service_principal(contoso[0].id, app.client_id)
    assert (sp.app_roles, sp.delegated_scopes) == (["Mail.Read", "Mail.Send"], ["User.Read"])
    assert "Granted for Contoso" in admin_center.get(base).text


def test_it_ignores_permissions_it_does_not_offer(emulator, admin_center):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    post(
        admin_center,
        f"{emulator.base_url}/entra/apps/{app.client_id}/permissions/add?kind=Application",
        {"kind": "Application", "permission": "Everything.All"},
    )
    assert app.permission_names("Application") == []


def test_it_lets_only_an_admin_grant_consent(emulator, http, contoso):
    app = emulator.register_app(contoso[0], "Ops", permissions=["Mail.Read"])
    sign_in(http, http.get(f"{emulator.base_url}/entra/"), contoso[2].upn, "Staff-pass-1")
    assert (
        "Only an administrator"
        in http.get(f"{emulator.base_url}/entra/apps/{app.client_id}/permissions").text
    )
    assert (
        http.get(f"{emulator.base_url}/entra/apps/{app.client_id}/permissions/consent").status_code
        == 403
    )


def test_it_shows_a_new_secret_value_once_beside_its_id(emulator, admin_center):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    shown = post(
        admin_center,
        f"{emulator.base_url}/entra/apps/{app.client_id}/credentials/new-secret",
        {"description": "Oauth", "expires": "180"},
    )
    (secret,) = app.secrets
    assert SECRET.findall(shown.text) == [secret.value]
    assert re.fullmatch(r"[A-Za-z0-9_~.]{3}8Q~[A-Za-z0-9_~.-]{34}", secret.value)
    assert secret.key_id in shown.text
    assert secret.end.date() == emulator.store.now().date() + datetime.timedelta(days=180)
    again = admin_center.get(f"{emulator.base_url}/entra/apps/{app.client_id}/credentials")
    assert secret.value not in again.text
    assert f"{secret.hint}{'*' * 37}" in again.text


@pytest.mark.parametrize("expires", ["90", "365", "545", "730"])
def test_it_offers_entras_expiry_choices(emulator, admin_center, expires):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    post(
        admin_center,
        f"{emulator.base_url}/entra/apps/{app.client_id}/credentials/new-secret",
        {"expires": expires},
    )
    assert (app.secrets[0].end.date() - emulator.store.now().date()).days == int(expires)


@pytest.mark.parametrize(
    ("end_in_days", "message"),
    [(731, "at most 24 months"), (0, "after the start date"), (None, "YYYY-MM-DD")],
)
def test_it_limits_a_custom_expiry_to_24_months(emulator, admin_center, end_in_days, message):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    today = emulator.store.now().date()
    end = "" if end_in_days is None else (today + datetime.timedelta(days=end_in_days)).isoformat()
    page = post(
        admin_center,
        f"{emulator.base_url}/entra/apps/{app.client_id}/credentials/new-secret",
        {"expires": "custom", "end": end},
    )
    assert message in page.text
    assert app.secrets == []


def test_it_deletes_a_secret(emulator, admin_center):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    secret = emulator.add_secret(app)
    page = admin_center.get(f"{emulator.base_url}/entra/apps/{app.client_id}/credentials")
    admin_center.post(
        f"{emulator.base_url}/entra/apps/{app.client_id}/credentials/{secret.key_id}/delete",
        data={"csrf": csrf(page.text)},
    )
    assert app.secrets == []


def test_it_hides_another_directorys_apps(emulator, admin_center):
    other = ready_directory(emulator, "Globex")
    assert (
        admin_center.get(f"{emulator.base_url}/entra/apps/{other.app.client_id}").status_code == 404
    )
    assert other.app.client_id not in admin_center.get(f"{emulator.base_url}/entra/").text


def test_it_refuses_a_form_without_its_token(emulator, admin_center):
    response = admin_center.post(
        f"{emulator.base_url}/entra/apps/new", data={"name": "x", "audience": "AzureADMyOrg"}
    )
    assert response.status_code == 400
    assert emulator.state.apps == []


def test_it_never_redirects_a_sign_in_off_the_emulator(emulator, http, contoso):
    page = http.get(f"{emulator.base_url}/entra/")
    form = {
        "csrf": csrf(page.text),
        "next": "https://evil.example/",
        "username": contoso[1].upn,
        "password": "Admin-pass-1",
    }
    assert (
        http.post(f"{emulator.base_url}/login", data=form, allow_redirects=False).headers[
            "Location"
        ]
        == "/entra/"
    )
