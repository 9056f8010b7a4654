import pytest
from django.test import Client, override_settings


def test_it_sends_support_staff_to_the_tenant_list(client, charlie):
    client.force_login(charlie)
    assert client.get("/")["Location"] == "/support/"


def test_it_shows_a_tenant_admin_their_tenant_and_progress(client, alice, acme):
    acme.onboarding_step = 3
    acme.save()
    client.force_login(alice)
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Acme Logistics" in body
    assert "step 3 of 7" in body
    assert "Globex" not in body


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_it_answers_the_health_check(client, db):
    response = client.get("/healthz/")
    assert (response.status_code, response.content) == (200, b"ok")


@pytest.mark.parametrize("path", ["/no-such-page/", "/support/tenants/zzz/", "/invitations/"])
def test_it_shows_the_styled_404_page(client, alice, path):
    client.force_login(alice)
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "404.html" in [t.name for t in response.templates]


@override_settings(DEBUG=False, ROOT_URLCONF="tests.portal.error_urls")
def test_it_never_shows_a_stack_trace_in_production_mode(db):
    client = Client(raise_request_exception=False)
    response = client.get("/crash/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "Traceback" not in body
    assert "secret-looking internal detail" not in body


def test_it_sends_security_headers(client, db):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
