"""The forwarded consent page says who asked and what is asked, so that it does not look
like phishing; after an account that could not consent, "Back to admin consent" lets
Microsoft offer another account (prompt=select_account)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse

from onboarding.consent import flow as consent
from onboarding.models import Membership
from tests.recordings import load

CALLBACK = reverse("onboarding:consent-callback")


def forwarded(app, **kwargs) -> str:
    return reverse("onboarding:consent-forwarded", args=[consent.forward_token(app, **kwargs)])


def prompt_of(location: str) -> list[str]:
    return parse_qs(urlsplit(location).query).get("prompt", [])


def test_the_link_from_step_3_names_the_admin_who_made_it(client, alice, acme_configured):
    client.force_login(alice)
    page = client.get(reverse("onboarding:permissions", args=[acme_configured.tenant.pk]))
    link = urlsplit(page.context["forward_url"]).path
    client.logout()
    content = client.get(link).content.decode()
    assert "Alice Admin asks you to grant admin consent" in content
    assert "alice@acme.example" in content
    assert acme_configured.tenant.name in content
    assert f"{acme_configured.tenant.name} mailbox connection" in content  # the app's name
    assert str(acme_configured.client_id) in content
    assert "Mail.Read, Mail.Send (application)" in content


def test_a_link_without_a_name_still_says_which_organisation_asks(client, acme_configured):
    content = client.get(forwarded(acme_configured)).content.decode()
    assert "A colleague asks you to grant admin consent" in content
    assert f"an administrator of {acme_configured.tenant.name}" in content


def test_it_does_not_name_someone_who_left_the_organisation(client, alice, acme_configured):
    link = forwarded(acme_configured, asked_by=alice)
    Membership.objects.filter(user=alice).delete()
    content = client.get(link).content.decode()
    assert "alice@acme.example" not in content
    assert "A colleague asks you" in content


def test_a_changed_name_in_the_link_is_refused(client, alice, acme_configured):
    token = consent.forward_token(acme_configured, asked_by=alice)
    forged = token.replace(alice.pk.hex, "0" * 32)
    assert forged != token
    response = client.get(reverse("onboarding:consent-forwarded", args=[forged]))
    assert response.status_code == 400


def test_consent_starts_without_a_prompt_the_first_time(client, alice, acme_configured):
    client.force_login(alice)
    started = client.post(reverse("onboarding:consent-start", args=[acme_configured.tenant.pk]))
    assert prompt_of(started["Location"]) == []


@pytest.mark.parametrize(
    "recording", ["adminconsent_not_admin_return_link", "adminconsent_other_directory"]
)
def test_back_to_admin_consent_lets_the_admin_pick_another_account(
    client, alice, acme_configured, fake_microsoft, recording
):
    client.force_login(alice)
    tenant = acme_configured.tenant
    started = client.post(reverse("onboarding:consent-start", args=[tenant.pk]))
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    callback = {**load(recording).callback, "state": state}
    content = client.get(f"{CALLBACK}?{urlencode(callback)}").content.decode()
    back = reverse("onboarding:permissions", args=[tenant.pk]) + "?select_account=1"
    assert f'href="{back}">Back to admin consent</a>' in content
    step_3 = client.get(back).content.decode()
    assert "Microsoft asks which account to use" in step_3
    assert 'name="select_account" value="1"' in step_3
    start = reverse("onboarding:consent-start", args=[tenant.pk])
    again = client.post(start, {"select_account": "1"})
    assert prompt_of(again["Location"]) == ["select_account"]


def test_a_declined_consent_goes_back_to_step_3_as_before(client, alice, acme_configured):
    client.force_login(alice)
    tenant = acme_configured.tenant
    started = client.post(reverse("onboarding:consent-start", args=[tenant.pk]))
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    callback = {**load("adminconsent_declined").callback, "state": state}
    content = client.get(f"{CALLBACK}?{urlencode(callback)}").content.decode()
    assert f'href="{reverse("onboarding:permissions", args=[tenant.pk])}">Back' in content
    assert "select_account" not in content


def test_the_colleague_tries_again_with_another_account(client, alice, acme_configured):
    link = forwarded(acme_configured, asked_by=alice)
    started = client.post(link)
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    callback = {**load("adminconsent_not_admin_return_link").callback, "state": state}
    content = client.get(f"{CALLBACK}?{urlencode(callback)}").content.decode()
    again = consent.forward_url(acme_configured, asked_by=alice) + "?select_account=1"
    assert f'href="{again}"' in content  # "Try again" still names Alice
    page = client.get(urlsplit(again).path + "?select_account=1").content.decode()
    assert 'name="select_account" value="1"' in page
    second = client.post(link, {"select_account": "1"})
    assert prompt_of(second["Location"]) == ["select_account"]
