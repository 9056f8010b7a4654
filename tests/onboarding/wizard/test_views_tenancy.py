"""Another tenant's ids give 404; every form needs its CSRF token."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from onboarding.models import Membership

STEP_URLS = [
    "resume",
    "register",
    "authentication",
    "permissions",
    "secret",
    "mailbox",
    "verify",
    "verify-status",
    "done",
]
POST_URLS = ["register", "authentication", "consent-start", "secret", "mailbox"]


def urls_of(tenant):
    return [reverse(f"onboarding:{name}", args=[tenant.pk]) for name in STEP_URLS]


def mailbox_urls(tenant, mailbox):
    return [
        reverse("onboarding:mailbox-edit", args=[tenant.pk, mailbox.pk]),
        reverse("onboarding:mailbox-remove", args=[tenant.pk, mailbox.pk]),
    ]


@pytest.mark.parametrize("name", [*STEP_URLS, "consent-start"])
def test_it_hides_another_tenants_wizard(client, alice, globex_ready, globex, name):
    client.force_login(alice)
    path = reverse(f"onboarding:{name}", args=[globex.pk])
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


def test_it_hides_another_tenants_mailbox_even_under_ones_own_tenant(
    client, alice, acme_ready, acme, globex_ready, globex
):
    client.force_login(alice)
    theirs = globex.mailboxes.get()
    for path in mailbox_urls(acme, theirs) + mailbox_urls(globex, theirs):
        assert client.post(path).status_code == 404
    assert globex.mailboxes.count() == 1


def test_it_hides_every_tenant_from_support_staff(client, charlie, acme_ready, acme):
    client.force_login(charlie)
    for path in urls_of(acme):
        assert client.get(path).status_code == 404


def test_it_opens_the_wizard_to_staff_who_are_also_admins(client, charlie, acme_ready, acme):
    Membership.objects.create(tenant=acme, user=charlie)
    client.force_login(charlie)
    assert client.get(reverse("onboarding:verify", args=[acme.pk])).status_code == 200


def test_it_hides_a_tenant_that_does_not_exist(client, alice):
    client.force_login(alice)
    path = reverse("onboarding:register", args=["00000000-0000-4000-8000-000000000000"])
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("name", POST_URLS)
def test_it_requires_the_csrf_token_on_every_form(acme_ready, acme, alice, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse(f"onboarding:{name}", args=[acme.pk]), {}).status_code == 403


def test_it_requires_the_csrf_token_to_change_or_remove_a_mailbox(acme_ready, acme, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    for path in mailbox_urls(acme, acme.mailboxes.get()):
        assert client.post(path, {"address": "x@acme.example"}).status_code == 403
    assert acme.mailboxes.get().address == "dispatch@acme.example"


def test_it_requires_the_csrf_token_on_a_forwarded_consent(acme_configured):
    from onboarding.consent import flow as consent

    client = Client(enforce_csrf_checks=True)
    link = reverse("onboarding:consent-forwarded", args=[consent.forward_token(acme_configured)])
    assert client.post(link).status_code == 403


def test_it_keeps_the_support_group_out_of_other_tenants(client, bob, acme_ready, acme):
    bob.groups.add(Group.objects.get_or_create(name="support")[0])
    client.force_login(bob)
    assert client.get(reverse("onboarding:register", args=[acme.pk])).status_code == 404
