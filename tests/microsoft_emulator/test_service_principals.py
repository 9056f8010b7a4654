"""A deleted enterprise application (service principal): AADSTS7000229 for an app
registered in the directory, AADSTS700016 for a client ID the directory does not know;
admin consent creates the service principal again. Held against the recorded answer
(tests/recordings/token_missing_service_principal.json)."""

from __future__ import annotations

import pytest

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.conftest import graph_scope
from tests.microsoft_emulator.test_admin_consent import consent_page, decide
from tests.recordings import load


@pytest.fixture
def unconsented(emulator):
    return ready_directory(emulator, consent=False)


def token_request(http, emulator, ready, tenant=None):
    return http.post(
        f"{emulator.login_url}/{tenant or ready.directory.id}/oauth2/v2.0/token",
        data={
            "client_id": ready.app.client_id,
            "client_secret": ready.secret.value,
            "grant_type": "client_credentials",
            "scope": graph_scope(emulator)[0],
        },
    )


def test_it_answers_an_app_without_its_service_principal_with_aadsts7000229(emulator, cca, ready):
    assert emulator.delete_service_principal(ready.app, ready.directory)
    result = cca(
        ready.app.client_id, ready.secret.value, ready.directory.id
    ).acquire_token_for_client(graph_scope(emulator))
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000229]
    assert result["error_description"].startswith(
        f"AADSTS7000229: The client application {ready.app.client_id} is missing service "
        f"principal in the tenant {ready.directory.id}."
    )


def test_it_still_answers_aadsts700016_for_a_client_id_the_directory_does_not_know(
    emulator, cca, ready
):
    result = cca(
        "11111111-2222-4333-8444-555555555555", ready.secret.value, ready.directory.id
    ).acquire_token_for_client(graph_scope(emulator))
    assert result["error_codes"] == [700016]


def test_it_answers_aadsts700016_where_a_multi_tenant_app_lost_its_service_principal(
    emulator, cca, ready
):
    # Outside its home directory an app without a service principal is simply unknown.
    emulator.update_app(ready.app, sign_in_audience="AzureADMultipleOrgs")
    customer = emulator.add_directory("Customer", "customer.onmicrosoft.com")
    emulator.grant_admin_consent(ready.app, customer)
    emulator.delete_service_principal(ready.app, customer)
    result = cca(ready.app.client_id, ready.secret.value, customer.id).acquire_token_for_client(
        graph_scope(emulator)
    )
    assert result["error_codes"] == [700016]


def test_it_recreates_the_service_principal_with_admin_consent(emulator, http, cca, unconsented):
    emulator.delete_service_principal(unconsented.app, unconsented.directory)
    page = consent_page(http, emulator, unconsented, unconsented.admin, "Admin-pass-1")
    decide(http, page, "accept")
    result = cca(
        unconsented.app.client_id, unconsented.secret.value, unconsented.directory.id
    ).acquire_token_for_client(graph_scope(emulator))
    assert "access_token" in result


def test_it_deletes_a_service_principal_through_the_control_api(emulator, http, ready):
    url = (
        f"{emulator.base_url}/_emulator/apps/{ready.app.client_id}"
        f"/service-principals/{ready.directory.id}"
    )
    assert http.delete(url).json() == {"deleted": True}
    assert emulator.store.service_principal(ready.directory.id, ready.app.client_id) is None
    assert http.delete(url).status_code == 404
    assert token_request(http, emulator, ready).json()["error_codes"] == [7000229]


def test_its_own_aadsts7000229_matches_the_recorded_one(emulator, http, ready):
    recorded = load("token_missing_service_principal")
    expected = recorded.json()
    emulator.delete_service_principal(ready.app, ready.directory)
    response = token_request(http, emulator, ready)
    body = response.json()
    assert response.status_code == recorded.status == 401
    assert list(body) == list(expected)
    assert (body["error"], body["error_codes"]) == (expected["error"], expected["error_codes"])
    assert body["error_uri"].endswith("/error?code=7000229")
    assert body["trace_id"] in body["error_description"]
    # The message up to "Trace ID", with the recording's IDs put in place of ours. Both
    # separate "Trace ID: ..." with a space, as Microsoft's JSON errors do since about
    # 2024 (the docs still show CR LF).
    recorded_message = expected["error_description"].split(" Trace ID:")[0]
    ours = body["error_description"].split(" Trace ID:")[0]
    app_id, tenant_id = (
        "78b9b9b6-6a3d-4c8f-9a53-95701700b726",
        "50612dbb-0237-4969-b378-8d42590f9c00",
    )
    assert ours == recorded_message.replace(app_id, ready.app.client_id).replace(
        tenant_id, ready.directory.id
    )
