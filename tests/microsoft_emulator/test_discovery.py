import msal
import pytest

from tests.microsoft_emulator.conftest import graph_scope


def test_it_serves_discovery_by_guid_and_by_domain(emulator, http, ready):
    for tenant in (ready.directory.id, "contoso.onmicrosoft.com", "CONTOSO.onmicrosoft.com"):
        document = http.get(
            f"{emulator.login_url}/{tenant}/v2.0/.well-known/openid-configuration"
        ).json()
        assert (
            document["token_endpoint"]
            == f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token"
        )
        assert document["issuer"] == f"{emulator.login_url}/{ready.directory.id}/v2.0"
        assert document["tenant_region_scope"] == "WW"


def test_it_answers_an_unknown_tenant_with_aadsts90002(emulator, http):
    response = http.get(
        f"{emulator.login_url}/nobody.example.com/v2.0/.well-known/openid-configuration",
        headers={"client-request-id": "c0ffee00-0000-0000-0000-000000000001"},
    )
    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "invalid_tenant"
    assert body["error_codes"] == [90002]
    assert body["error_description"].startswith(
        "AADSTS90002: Tenant 'nobody.example.com' not found."
    )
    assert body["correlation_id"] == "c0ffee00-0000-0000-0000-000000000001"
    assert "Correlation ID: c0ffee00-0000-0000-0000-000000000001" in body["error_description"]


@pytest.mark.parametrize("tenant", ["contoso", "not_a_domain!", "1234-5678"])
def test_it_answers_a_malformed_tenant_with_aadsts900023(emulator, http, tenant):
    response = http.get(f"{emulator.login_url}/{tenant}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error_codes"] == [900023]
    assert "is neither a valid DNS name, nor a valid external domain" in response.text


def test_it_makes_msal_refuse_an_unknown_tenant_as_microsoft_does(emulator, cca, ready):
    with pytest.raises(ValueError, match="double check your tenant name") as raised:
        cca(ready.app.client_id, ready.secret.value, "f00df00d-0000-4000-8000-000000000000")
    assert "AADSTS90002" in str(raised.value.__context__)


def test_it_serves_common_discovery_with_the_tenant_placeholder(emulator, http):
    document = http.get(
        f"{emulator.login_url}/organizations/v2.0/.well-known/openid-configuration"
    ).json()
    assert document["issuer"] == f"{emulator.login_url}/{{tenantid}}/v2.0"
    assert document["token_endpoint"].endswith("/organizations/oauth2/v2.0/token")


def test_it_serves_jwks_that_verify_its_tokens(emulator, http, ready, cca):
    import jwt

    token = cca(
        ready.app.client_id, ready.secret.value, ready.directory.id
    ).acquire_token_for_client(graph_scope(emulator))["access_token"]
    keys = http.get(f"{emulator.login_url}/{ready.directory.id}/discovery/v2.0/keys").json()["keys"]
    key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="https://graph.microsoft.com")
    assert claims["tid"] == ready.directory.id
    assert claims["appid"] == ready.app.client_id


def test_it_serves_instance_discovery_with_aliases(emulator, http):
    response = http.get(
        f"{emulator.login_url}/common/discovery/instance",
        params={
            "api-version": "1.1",
            "authorization_endpoint": f"{emulator.login_url}/common/oauth2/authorize",
        },
    )
    body = response.json()
    assert body["metadata"][0]["aliases"] == [f"127.0.0.1:{emulator.port}"]
    assert body["tenant_discovery_endpoint"].endswith(
        "/common/v2.0/.well-known/openid-configuration"
    )


def test_it_lets_msal_validate_the_authority_through_instance_discovery(emulator, http, ready):
    app = msal.ConfidentialClientApplication(
        ready.app.client_id,
        client_credential=ready.secret.value,
        authority=f"{emulator.login_url}/{ready.directory.id}",
        http_client=http,
        instance_discovery=f"{emulator.login_url}/common/discovery/instance",
    )
    assert "access_token" in app.acquire_token_for_client(graph_scope(emulator))


def test_it_reports_user_realms(emulator, http, ready):
    emulator.add_personal_account("someone@outlook.com", "pw")

    def realm(upn):
        return http.get(f"{emulator.login_url}/common/userrealm/{upn}?api-version=1.0").json()

    assert realm(ready.mailbox.upn)["account_type"] == "Managed"
    assert realm("newhire@contoso.onmicrosoft.com")["account_type"] == "Managed"
    assert realm("someone@outlook.com")["account_type"] == "Federated"
    assert realm("who@unknown.example")["account_type"] == "Unknown"


def test_it_explains_error_codes_on_its_error_page(emulator, http):
    page = http.get(f"{emulator.login_url}/error?code=7000215")
    assert "Invalid client secret provided" in page.text
    assert "does not know" in http.get(f"{emulator.login_url}/error?code=1").text
