from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from onboarding.consent import flow as consent
from onboarding.models import AuditEvent, Membership
from tests.onboarding.conftest import ACME_DIRECTORY_ID, LOGIN

CALLBACK = reverse("onboarding:consent-callback")


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def begin(client, tenant):
    response = client.post(reverse("onboarding:consent-start", args=[tenant.pk]))
    assert response["Location"].startswith(f"{LOGIN}/{ACME_DIRECTORY_ID}/v2.0/adminconsent?")
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def come_back(client, **params):
    return client.get(f"{CALLBACK}?{urlencode(params)}")


def test_it_only_starts_consent_by_post(as_alice, acme_configured, acme, fake_microsoft):
    response = as_alice.get(reverse("onboarding:consent-start", args=[acme.pk]))
    assert response.status_code == 405


def test_it_records_a_granted_consent(as_alice, acme_configured, acme, alice, fake_microsoft):
    state = begin(as_alice, acme)
    response = come_back(as_alice, admin_consent="True", tenant=ACME_DIRECTORY_ID, state=state)
    assert response["Location"] == reverse("onboarding:secret", args=[acme.pk])
    acme_configured.refresh_from_db()
    assert acme_configured.consent_granted_by == alice
    assert acme_configured.consent_granted_at is not None
    event = AuditEvent.objects.get(action="consent.granted")
    assert (event.actor, event.tenant) == (alice, acme)


def test_it_ignores_consent_from_an_admin_removed_meanwhile(
    as_alice, acme_configured, acme, alice, fake_microsoft
):
    state = begin(as_alice, acme)
    Membership.objects.filter(user=alice).delete()
    response = come_back(as_alice, admin_consent="True", tenant=ACME_DIRECTORY_ID, state=state)
    assert response.status_code == 404
    acme_configured.refresh_from_db()
    assert acme_configured.consent_granted_at is None


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("AADSTS65004: User declined to consent to access the app.", "Consent was declined"),
        ("AADSTS90094: Admin consent required.", "Global Administrator"),
        ("AADSTS50011: The redirect URI does not match.", "/onboarding/consent/callback/"),
        (
            "AADSTS50020: User account from identity provider does not exist in tenant.\r\n"
            "Correlation ID: 2c3d4e5f-0000-4000-8000-000000000002",
            "Use another account",
        ),
        (
            "AADSTS500011: Something else.\r\nCorrelation ID: 2c3d4e5f-0000-4000-8000-000000000002",
            "2c3d4e5f-0000-4000-8000-000000000002",
        ),
    ],
)
def test_it_explains_each_failure(
    as_alice, acme_configured, acme, fake_microsoft, description, expected
):
    state = begin(as_alice, acme)
    response = come_back(
        as_alice, error="access_denied", error_description=description, state=state
    )
    assert response.status_code == 200
    assert expected in response.content.decode()
    acme_configured.refresh_from_db()
    assert acme_configured.consent_granted_at is None
    assert AuditEvent.objects.get(action="consent.failed").details["via"] == "wizard"


def test_it_offers_a_copyable_redirect_uri_when_it_is_missing(
    as_alice, acme_configured, acme, fake_microsoft
):
    state = begin(as_alice, acme)
    response = come_back(
        as_alice, error="invalid_request", error_description="AADSTS50011: x", state=state
    )
    assert (
        'data-copy="http://127.0.0.1:8000/onboarding/consent/callback/"'
        in response.content.decode()
    )


def test_it_repeats_microsofts_words_for_an_unknown_error_escaped(
    as_alice, acme_configured, acme, fake_microsoft
):
    state = begin(as_alice, acme)
    response = come_back(
        as_alice, error="server_error", error_description="AADSTS1: <b>broken</b>", state=state
    )
    content = response.content.decode()
    assert "AADSTS1" in content
    assert "&lt;b&gt;broken&lt;/b&gt;" in content


def test_it_lets_a_colleague_grant_consent_through_a_forwarded_link(
    acme_configured, fake_microsoft
):
    colleague = Client(enforce_csrf_checks=True)
    link = reverse("onboarding:consent-forwarded", args=[consent.forward_token(acme_configured)])
    page = colleague.get(link)
    assert "Acme Logistics" in page.content.decode()
    token = page.cookies["csrftoken"].value
    response = colleague.post(link, {"csrfmiddlewaretoken": token})
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    granted = come_back(colleague, admin_consent="True", tenant=ACME_DIRECTORY_ID, state=state)
    assert "admin consent is granted" in granted.content.decode()
    acme_configured.refresh_from_db()
    assert acme_configured.consent_granted_at is not None
    assert acme_configured.consent_granted_by is None


def test_it_refuses_an_altered_forwarded_link(client, acme_configured):
    link = reverse("onboarding:consent-forwarded", args=["not-a-signed-token"])
    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400


def test_it_lets_the_consent_form_lead_to_microsoft_only(as_alice, acme_configured, acme, settings):
    settings.MICROSOFT_LOGIN_URL = "https://login.example.test:8443/"
    policy = as_alice.get(reverse("onboarding:permissions", args=[acme.pk]))[
        "Content-Security-Policy"
    ]
    assert "form-action 'self' https://login.example.test:8443" in policy
    other = as_alice.get(reverse("onboarding:secret", args=[acme.pk]))["Content-Security-Policy"]
    assert "login.example.test" not in other
