import uuid

import pytest
from django.urls import resolve, reverse

from onboarding import renewal_urls
from tests.conftest import PASSWORD


def renew_url(tenant_id) -> str:
    return reverse("onboarding:renew-secret", args=[tenant_id])


def test_it_answers_at_renew_with_the_tenant_id(acme):
    assert renew_url(acme.pk) == f"/renew/{acme.pk}/"
    assert resolve(f"/renew/{acme.pk}/").view_name == "onboarding:renew-secret"


def test_it_asks_a_stranger_to_sign_in_first(client, acme):
    response = client.get(renew_url(acme.pk))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/renew/{acme.pk}/"


def test_it_sends_the_admin_home_while_the_wizard_has_no_secret_step(
    client, acme, alice, monkeypatch
):
    monkeypatch.setattr(renewal_urls, "SECRET_STEP_URLS", [("onboarding:no-such-step", {})])
    client.force_login(alice)
    response = client.get(renew_url(acme.pk))
    assert (response.status_code, response["Location"]) == (302, "/")


@pytest.mark.urls("tests.onboarding.renewal_test_urls")
def test_it_sends_the_admin_to_the_wizards_secret_step(client, acme, alice):
    client.force_login(alice)
    response = client.get(f"/wizard/{acme.pk}/")
    assert (response.status_code, response["Location"]) == (302, f"/wizard/{acme.pk}/step/4/")


def test_it_hides_another_tenant_behind_a_404(client, acme, alice, globex):
    client.force_login(alice)
    assert client.get(renew_url(globex.pk)).status_code == 404


def test_it_hides_every_tenant_from_support_staff(client, acme, charlie):
    client.force_login(charlie)
    assert client.get(renew_url(acme.pk)).status_code == 404


@pytest.mark.parametrize("path", [f"/renew/{uuid.uuid4()}/", "/renew/not-a-uuid/", "/renew/1/"])
def test_it_answers_404_to_an_unknown_or_malformed_tenant(client, alice, path):
    client.force_login(alice)
    assert client.get(path).status_code == 404


def test_it_lets_the_admin_sign_in_and_carries_on(client, acme, alice, monkeypatch):
    monkeypatch.setattr(renewal_urls, "SECRET_STEP_URLS", [])
    response = client.post(
        f"/accounts/login/?next={renew_url(acme.pk)}",
        {"username": alice.email, "password": PASSWORD, "next": renew_url(acme.pk)},
        follow=True,
    )
    assert [url for url, _ in response.redirect_chain] == [renew_url(acme.pk), "/"]
