import datetime

import jwt
import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from tests.microsoft_emulator.conftest import graph_scope


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_it_issues_an_app_token_with_only_the_consented_roles(emulator, cca, ready):
    emulator.store.add_permissions(
        ready.app, ["User.Read.All"], "Application"
    )  # added, not consented
    result = cca(
        ready.app.client_id, ready.secret.value, ready.directory.id
    ).acquire_token_for_client(graph_scope(emulator))
    token = claims(result["access_token"])
    assert result["token_type"] == "Bearer"
    assert 60 * 60 <= result["expires_in"] < 90 * 60  # Microsoft's random default
    assert token["exp"] - token["iat"] == result["expires_in"]
    assert token["roles"] == ["Mail.Read", "Mail.Send"]
    assert token["aud"] == "https://graph.microsoft.com"
    assert (token["tid"], token["appid"], token["idtyp"]) == (
        ready.directory.id,
        ready.app.client_id,
        "app",
    )
    assert jwt.get_unverified_header(result["access_token"])["alg"] == "RS256"


def test_it_issues_a_token_without_roles_before_consent(emulator, cca):
    from microsoft_emulator.scenarios import ready_directory

    unconsented = ready_directory(emulator, "Fabrikam", consent=False)
    result = cca(
        unconsented.app.client_id, unconsented.secret.value, "fabrikam.onmicrosoft.com"
    ).acquire_token_for_client(graph_scope(emulator))
    assert "roles" not in claims(result["access_token"])


def test_it_accepts_the_production_graph_scope_too(emulator, cca, ready):
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert claims(result["access_token"])["roles"] == ["Mail.Read", "Mail.Send"]


def test_it_serves_the_second_token_from_msal_cache(emulator, cca, ready):
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    first = app.acquire_token_for_client(graph_scope(emulator))
    second = app.acquire_token_for_client(graph_scope(emulator))
    assert second["access_token"] == first["access_token"]
    assert second["token_source"] == "cache"
    assert emulator.counters()["token_requests"] == {ready.app.client_id: 1}


def error_of(emulator, cca, client_id, secret, tenant):
    return cca(client_id, secret, tenant).acquire_token_for_client(graph_scope(emulator))


def test_it_refuses_a_wrong_secret_with_aadsts7000215(emulator, cca, ready, http):
    result = error_of(emulator, cca, ready.app.client_id, "abc8Q~" + "x" * 34, ready.directory.id)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert "not the client secret ID" in result["error_description"]


def test_it_refuses_the_secret_id_pasted_as_the_secret(emulator, cca, ready):
    result = error_of(emulator, cca, ready.app.client_id, ready.secret.key_id, ready.directory.id)
    assert result["error_codes"] == [7000215]


def test_it_answers_a_wrong_secret_with_http_401(emulator, http, ready):
    response = http.post(
        f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token",
        data={
            "client_id": ready.app.client_id,
            "client_secret": "nope",
            "grant_type": "client_credentials",
            "scope": graph_scope(emulator)[0],
        },
    )
    assert response.status_code == 401
    assert response.json()["error_uri"] == f"{emulator.login_url}/error?code=7000215"


def test_it_refuses_an_expired_secret_with_aadsts7000222(emulator, cca, ready):
    expired = emulator.add_secret(ready.app, days=-1)
    result = error_of(emulator, cca, ready.app.client_id, expired.value, ready.directory.id)
    assert result["error_codes"] == [7000222]
    assert (
        f"The provided client secret keys for app '{ready.app.client_id}' are expired"
        in result["error_description"]
    )


def test_it_expires_a_secret_when_the_clock_passes_its_end(emulator, cca, ready):
    emulator.advance_clock(181 * 86400)
    result = error_of(emulator, cca, ready.app.client_id, ready.secret.value, ready.directory.id)
    assert result["error_codes"] == [7000222]


def test_it_refuses_an_unknown_client_id_with_aadsts700016(emulator, cca, ready):
    unknown = "11111111-2222-4333-8444-555555555555"
    result = error_of(emulator, cca, unknown, ready.secret.value, ready.directory.id)
    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]
    assert (
        f"Application with identifier '{unknown}' was not found in the directory 'Contoso'"
        in result["error_description"]
    )


def test_it_refuses_an_app_from_another_directory_with_aadsts700016(emulator, cca, ready):
    other = emulator.add_directory("Globex", "globex.onmicrosoft.com")
    result = error_of(emulator, cca, ready.app.client_id, ready.secret.value, other.id)
    assert result["error_codes"] == [700016]


@pytest.mark.filterwarnings("ignore:Using /common or /organizations:DeprecationWarning")
@pytest.mark.parametrize("tenant", ["common", "consumers", "organizations"])
def test_it_refuses_app_only_tokens_on_multi_tenant_and_personal_endpoints(
    emulator, cca, ready, tenant
):
    result = error_of(emulator, cca, ready.app.client_id, ready.secret.value, tenant)
    assert result["error_codes"] == [9001023]


def test_it_requires_the_default_scope_for_client_credentials(emulator, http, ready):
    response = http.post(
        f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token",
        data={
            "client_id": ready.app.client_id,
            "client_secret": ready.secret.value,
            "grant_type": "client_credentials",
            "scope": "https://graph.microsoft.com/Mail.Read",
        },
    )
    assert response.json()["error_codes"] == [1002012]


def test_it_refuses_an_unknown_resource_with_aadsts500011(emulator, http, ready):
    response = http.post(
        f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token",
        data={
            "client_id": ready.app.client_id,
            "client_secret": ready.secret.value,
            "grant_type": "client_credentials",
            "scope": "https://nothing.example/.default",
        },
    )
    assert response.json()["error_codes"] == [500011]


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"grant_type": "client_credentials"}, 900144),
        ({"client_id": "x", "grant_type": "device_code_nonsense"}, 70003),
        ({"client_id": "x"}, 900144),
    ],
)
def test_it_refuses_malformed_token_requests(emulator, http, ready, form, code):
    response = http.post(f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token", data=form)
    assert response.status_code == 400
    assert response.json()["error_codes"] == [code]


@pytest.fixture
def certificate():
    ca = trustme.CA()
    leaf = ca.issue_cert("operations-app.example")
    key = leaf.private_key_pem.bytes().decode()
    cert = leaf.cert_chain_pems[0].bytes().decode()
    return key, cert


def rsa_certificate():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "operations-app")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def test_it_accepts_a_registered_certificate(emulator, cca, ready):
    key, cert = rsa_certificate()
    emulator.add_certificate(ready.app, cert, display_name="ops")
    credential = {"private_key": key, "public_certificate": cert}
    result = cca(ready.app.client_id, credential, ready.directory.id).acquire_token_for_client(
        graph_scope(emulator)
    )
    token = claims(result["access_token"])
    assert token["appidacr"] == "2"
    assert token["roles"] == ["Mail.Read", "Mail.Send"]


def test_it_refuses_an_unregistered_certificate_with_aadsts700027(emulator, cca, ready):
    key, cert = rsa_certificate()
    credential = {"private_key": key, "public_certificate": cert}
    result = cca(ready.app.client_id, credential, ready.directory.id).acquire_token_for_client(
        graph_scope(emulator)
    )
    assert result["error_codes"] == [700027]
