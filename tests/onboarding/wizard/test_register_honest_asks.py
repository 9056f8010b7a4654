"""Steps 1-3 ask only for what the operations app's sign-in methods need
(settings.OPERATIONS_SIGN_IN), each with its reason and its risk."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding.microsoft import admin_center

COMBINATIONS = [
    pytest.param(frozenset({"interactive", "password"}), id="both (default)"),
    pytest.param(frozenset({"interactive"}), id="interactive"),
    pytest.param(frozenset({"password"}), id="password"),
    pytest.param(frozenset(), id="none"),
]


def url(name, tenant):
    return reverse(f"onboarding:{name}", args=[tenant.pk])


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def test_the_default_keeps_every_setting_of_the_guide(settings):
    assert frozenset({"interactive", "password"}) == settings.OPERATIONS_SIGN_IN
    asks = admin_center.asks()
    assert (asks.interactive, asks.password) == (True, True)
    assert asks.account_type == admin_center.ACCOUNT_TYPE


@pytest.mark.parametrize("methods", COMBINATIONS)
def test_it_asks_only_for_what_the_sign_in_methods_need(settings, methods):
    settings.OPERATIONS_SIGN_IN = methods
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    asks = admin_center.asks()
    callback = "https://portal.example.com/onboarding/consent/callback/"
    uris = admin_center.web_redirect_uris(callback)
    interactive = "interactive" in methods
    assert ("https://localhost" in uris, "http://localhost" in uris) == (interactive, interactive)
    assert uris[-1] == callback  # the portal's own consent callback, always
    assert asks.account_type == (
        admin_center.ACCOUNT_TYPE_ANY if interactive else admin_center.ACCOUNT_TYPE_SINGLE
    )
    password = "password" in methods
    assert asks.delegated_permissions == (("Mail.Read",) if password else ())
    assert ("(delegated)" in asks.permissions_text()) is password


@pytest.mark.parametrize("methods", COMBINATIONS)
def test_step_1_asks_for_the_account_type_and_redirect_uri_it_needs(
    settings, as_alice, acme, methods
):
    settings.OPERATIONS_SIGN_IN = methods
    page = as_alice.get(url("register", acme)).content.decode()
    if "interactive" in methods:
        assert "personal Microsoft accounts" in page
        assert 'data-copy="https://localhost"' in page
        assert "people outside your organisation can sign in" in page  # its risk
    else:
        assert admin_center.ACCOUNT_TYPE_SINGLE in page
        assert "personal Microsoft accounts" not in page
        assert "localhost" not in page
        assert "/onboarding/consent/callback/" in page
    assert "the guide asks" not in page  # no circular reasons


@pytest.mark.parametrize("methods", COMBINATIONS)
def test_step_2_asks_for_the_flows_only_when_used(settings, as_alice, acme, acme_app, methods):
    settings.OPERATIONS_SIGN_IN = methods
    page = as_alice.get(url("authentication", acme)).content.decode()
    interactive, password = "interactive" in methods, "password" in methods
    assert ("Access tokens (used for implicit flows)" in page) is interactive
    assert ("Microsoft recommends you do not use the implicit grant flow" in page) is interactive
    assert ('data-copy="http://localhost"' in page) is interactive
    assert ("Enable the following mobile and desktop flows" in page) is password
    assert ("Microsoft recommends you do not use the ROPC flow" in page) is password
    assert "/onboarding/consent/callback/" in page
    if not interactive:
        assert "Implicit grant and hybrid flows</strong> unticked" in page
    if not password:
        assert "<strong>Allow public client flows</strong> at <strong>No</strong>" in page


@pytest.mark.parametrize("methods", COMBINATIONS)
def test_step_3_asks_for_delegated_mail_read_only_for_the_password_sign_in(
    settings, as_alice, acme, acme_configured, methods
):
    settings.OPERATIONS_SIGN_IN = methods
    page = as_alice.get(url("permissions", acme)).content.decode()
    assert ("Delegated permissions" in page) is ("password" in methods)
    assert page.count('data-copy="Mail.Read"') == (2 if "password" in methods else 1)
    assert 'data-copy="Mail.Send"' in page


@pytest.mark.parametrize("methods", COMBINATIONS)
def test_the_forwarded_page_lists_the_permissions_asked(settings, client, acme_configured, methods):
    from onboarding.consent import flow as consent

    settings.OPERATIONS_SIGN_IN = methods
    link = reverse("onboarding:consent-forwarded", args=[consent.forward_token(acme_configured)])
    page = client.get(link)
    content = page.content.decode()
    assert "Mail.Read, Mail.Send (application)" in content
    assert ("Mail.Read (delegated)" in content) is ("password" in methods)
