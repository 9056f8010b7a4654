"""Admin consent (v2 and v1 URLs): approve, decline, non-admin, bad redirect URI."""

from urllib.parse import urlencode

import jwt
import pytest

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.conftest import csrf, graph_scope, query, sign_in

CALLBACK = "https://localhost"


@pytest.fixture
def unconsented(emulator):
    return ready_directory(emulator, consent=False)


def consent_url(emulator, ready, *, v1=False, tenant=None, redirect_uri=CALLBACK, **extra):
    params = {
        "client_id": ready.app.client_id,
        "redirect_uri": redirect_uri,
        "state": "st4te",
        **extra,
    }
    if not v1:
        params.setdefault("scope", f"{emulator.graph_url}/.default")
    path = "adminconsent" if v1 else "v2.0/adminconsent"
    return f"{emulator.login_url}/{tenant or ready.directory.id}/{path}?{urlencode(params)}"


def consent_page(http, emulator, ready, user, password, **options):
    page = http.get(consent_url(emulator, ready, **options), allow_redirects=False)
    return sign_in(http, page, user.upn, password)


def decide(http, page, decision):
    return http.post(
        page.url, data={"csrf": csrf(page.text), "decision": decision}, allow_redirects=False
    )


def test_it_redirects_an_approved_v2_consent_exactly_as_microsoft(emulator, http, unconsented):
    page = consent_page(http, emulator, unconsented, unconsented.admin, "Admin-pass-1")
    assert "Permissions requested" in page.text
    assert "Mail.Read" in page.text
    assert "Mail.Send" in page.text
    location = decide(http, page, "accept").headers["Location"]
    assert location.startswith(
        f"{CALLBACK}?admin_consent=True&tenant={unconsented.directory.id}&scope="
    )
    assert query(location) == {
        "admin_consent": "True",
        "tenant": unconsented.directory.id,
        "scope": "https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/Mail.Send",
        "state": "st4te",
    }


def test_it_gives_the_app_its_roles_after_consent(emulator, http, cca, unconsented):
    decide(
        http, consent_page(http, emulator, unconsented, unconsented.admin, "Admin-pass-1"), "accept"
    )
    token = cca(
        unconsented.app.client_id, unconsented.secret.value, unconsented.directory.id
    ).acquire_token_for_client(graph_scope(emulator))["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["roles"] == [
        "Mail.Read",
        "Mail.Send",
    ]


def test_it_redirects_an_approved_v1_consent_without_scope(emulator, http, unconsented):
    page = consent_page(
        http, emulator, unconsented, unconsented.admin, "Admin-pass-1", v1=True, tenant="common"
    )
    location = decide(http, page, "accept").headers["Location"]
    assert query(location) == {
        "admin_consent": "True",
        "tenant": unconsented.directory.id,
        "state": "st4te",
    }


def test_it_redirects_a_declined_consent_with_aadsts65004_and_no_tenant(
    emulator, http, unconsented
):
    page = consent_page(http, emulator, unconsented, unconsented.admin, "Admin-pass-1")
    answer = query(decide(http, page, "cancel").headers["Location"])
    assert answer["error"] == "access_denied"
    assert answer["error_description"].startswith(
        "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: "
    )
    assert "Correlation ID: " in answer["error_description"]
    assert answer["error_uri"] == f"{emulator.login_url}/error?code=65004"
    assert (answer["admin_consent"], answer["state"]) == ("True", "st4te")
    assert "tenant" not in answer
    assert (
        emulator.store.service_principal(
            unconsented.directory.id, unconsented.app.client_id
        ).app_roles
        == []
    )


def return_link(page) -> str:
    """The href of "Return to the application without granting consent"."""
    back = page.text.split("Return to the application")[0].rsplit('href="', 1)[1].split('"')[0]
    return back.replace("&amp;", "&")


@pytest.mark.parametrize("v1", [False, True])
def test_it_stops_a_non_admin_on_need_admin_approval_and_sends_back_a_bare_cancel(
    emulator, http, unconsented, v1
):
    page = consent_page(http, emulator, unconsented, unconsented.mailbox, "Mailbox-pass-1", v1=v1)
    assert "Need admin approval" in page.text
    assert "AADSTS90094" in page.text  # on Microsoft's page, never in the callback
    back = return_link(page)
    assert back == f"{CALLBACK}?error=access_denied&error_subcode=cancel&state=st4te"
    posted = http.post(page.url, data={"decision": "accept"}, allow_redirects=False)
    assert "Need admin approval" in posted.text  # a POST changes nothing either
    assert (
        emulator.store.service_principal(
            unconsented.directory.id, unconsented.app.client_id
        ).app_roles
        == []
    )
    posted = http.post(page.url, data={"decision": "accept"}, allow_redirects=False)
    assert "Need admin approval" in posted.text  # a POST changes nothing either
    assert (
        emulator.store.service_principal(
            unconsented.directory.id, unconsented.app.client_id
        ).app_roles
        == []
    )


def test_it_shows_an_unregistered_redirect_uri_on_its_page(emulator, http, unconsented):
    response = http.get(
        consent_url(emulator, unconsented, redirect_uri="https://portal.example/consent/callback"),
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "AADSTS50011" in response.text
    assert "https://portal.example/consent/callback" in response.text


@pytest.mark.parametrize(
    ("tenant", "code"), [("nobody.example.com", "AADSTS90002"), ("nonsense", "AADSTS900023")]
)
def test_it_shows_a_bad_tenant_on_its_page(emulator, http, unconsented, tenant, code):
    response = http.get(consent_url(emulator, unconsented, tenant=tenant), allow_redirects=False)
    assert response.status_code == 400
    assert code in response.text


def test_it_shows_an_unknown_app_on_its_page(emulator, http, unconsented):
    url = consent_url(emulator, unconsented).replace(
        unconsented.app.client_id, "00000000-1111-4222-8333-444444444444"
    )
    assert "AADSTS700016" in http.get(url).text


def test_it_sends_an_admin_of_another_directory_back_with_aadsts50020(emulator, http, unconsented):
    other = ready_directory(emulator, "Globex")
    answer = consent_page(http, emulator, unconsented, other.admin, "Admin-pass-1")
    assert answer.status_code == 302
    sent = query(answer.headers["Location"])
    assert list(sent) == ["error", "error_description", "error_uri", "state"]
    assert sent["error"] == "access_denied"
    assert sent["error_description"].startswith(
        "AADSTS50020: User account '{EmailHidden}' from identity provider "
        f"'https://sts.windows.net/{other.directory.id}/' does not exist in tenant 'Contoso' "
        f"and cannot access the application '{unconsented.app.client_id}'"
    )
    assert sent["error_uri"] == f"{emulator.login_url}/error?code=50020"
    assert sent["state"] == "st4te"
    assert emulator.store.service_principal(other.directory.id, unconsented.app.client_id) is None


def test_it_stops_a_personal_account_on_its_own_error_page(emulator, http, unconsented):
    person = emulator.add_personal_account("someone@outlook.com", "Personal-pass-1")
    page = consent_page(http, emulator, unconsented, person, "Personal-pass-1")
    assert page.status_code == 400
    assert "AADSTS50020" in page.text
    assert "someone@outlook.com" in page.text
    assert "live.com" in page.text


def test_it_sends_a_missing_v2_scope_back_as_invalid_request(emulator, http, unconsented):
    url = consent_url(emulator, unconsented, scope="")
    answer = query(http.get(url, allow_redirects=False).headers["Location"])
    assert answer["error"] == "invalid_request"
    assert answer["error_description"].startswith("AADSTS900144")


def test_it_consents_a_multi_tenant_app_into_the_admins_directory(emulator, http, cca):
    vendor = ready_directory(emulator, "Vendor", consent=False)
    emulator.update_app(vendor.app, sign_in_audience="AzureADMultipleOrgs")
    customer = emulator.add_directory("Customer", "customer.onmicrosoft.com")
    admin = emulator.add_user(customer, "it@customer.onmicrosoft.com", "It-pass-1", admin=True)
    page = consent_page(http, emulator, vendor, admin, "It-pass-1", tenant="organizations")
    assert query(decide(http, page, "accept").headers["Location"])["tenant"] == customer.id
    result = cca(vendor.app.client_id, vendor.secret.value, customer.id).acquire_token_for_client(
        graph_scope(emulator)
    )
    assert (
        jwt.decode(result["access_token"], options={"verify_signature": False})["tid"]
        == customer.id
    )


def test_it_refuses_to_consent_a_single_tenant_app_into_another_directory(
    emulator, http, unconsented
):
    other = ready_directory(emulator, "Globex")
    page = consent_page(
        http, emulator, unconsented, other.admin, "Admin-pass-1", tenant="organizations"
    )
    assert "AADSTS700016" in page.text
    assert emulator.store.service_principal(other.directory.id, unconsented.app.client_id) is None


def test_it_refuses_a_consent_post_without_its_form_token(emulator, http, unconsented):
    page = consent_page(http, emulator, unconsented, unconsented.admin, "Admin-pass-1")
    response = http.post(page.url, data={"decision": "accept"}, allow_redirects=False)
    assert response.status_code == 400
