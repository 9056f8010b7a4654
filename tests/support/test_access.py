"""Every support URL, for every kind of visitor."""

import uuid

import pytest
from django.urls import reverse

from accounts.actors import Actor
from api import keys
from onboarding.invitations import services as invitations
from onboarding.models import CheckRun, Mailbox
from tests.two_factor import confirmed_device, sign_in_verified
from webhooks.models import Delivery, Endpoint, OutboxEvent

ROUTES = [
    ("get", "support:tenant-list", None),
    ("get", "support:tenant-export", None),
    ("get", "support:overview", None),
    ("get", "support:tenant-create", None),
    ("post", "support:tenant-create", None),
    ("get", "support:tenant-detail", "tenant"),
    ("post", "support:tenant-invite", "tenant"),
    ("post", "support:notification-address-add", "tenant"),
    ("post", "support:note-add", "tenant"),
    ("post", "support:invitation-resend", "invitation"),
    ("post", "support:check-run", "mailbox"),
    ("get", "support:check-status", "run"),
    ("post", "support:customer-reference", "tenant"),
    ("get", "support:service-accounts", None),
    ("get", "support:service-account-create", None),
    ("post", "support:service-account-create", None),
    ("get", "support:service-account-rotate", "account"),
    ("post", "support:service-account-rotate", "account"),
    ("get", "support:service-account-revoke", "account"),
    ("post", "support:service-account-revoke", "account"),
    ("get", "support:service-key-revoke", "key"),
    ("post", "support:service-key-revoke", "key"),
    ("get", "support:webhooks", None),
    ("get", "support:webhook-detail", "endpoint"),
    ("post", "support:webhook-replay", "delivery"),
    ("post", "support:webhook-enable", "endpoint"),
    ("get", "support:webhook-disable", "endpoint"),
    ("post", "support:webhook-disable", "endpoint"),
]
TWO_FACTOR_ROUTES = ["support:two-factor", "support:two-factor-setup"]


@pytest.fixture
def url_for(acme, charlie):
    invitation, _ = invitations.invitation_create(
        tenant=acme, email="eve@acme.example", actor=Actor(user=charlie)
    )
    mailbox = Mailbox.objects.create(tenant=acme, address="ops@acme.example")
    run = CheckRun.objects.create(mailbox=mailbox, trigger="support", status="passed")
    key = keys.create_account(name="Ops", scopes=["connections:read"]).key
    endpoint = Endpoint.objects.create(
        owner=key.account, url="https://hooks.ops.example/", events=["connection.failing"]
    )
    event = OutboxEvent.objects.create(
        id="msg_access",
        type="connection.failing",
        tenant_id=acme.pk,
        connection_id=mailbox.pk,
        sequence=1,
        payload={},
    )
    delivery = Delivery.objects.create(
        event=event, endpoint=endpoint, connection_id=mailbox.pk, sequence=1
    )
    ids = {
        "account": {"account_id": key.account_id},
        "key": {"account_id": key.account_id, "key_id": key.pk},
        "endpoint": {"endpoint_id": endpoint.pk},
        "delivery": {"endpoint_id": endpoint.pk, "delivery_id": delivery.pk},
        "tenant": {"tenant_id": acme.pk},
        "invitation": {"invitation_id": invitation.pk},
        "mailbox": {"tenant_id": acme.pk, "mailbox_id": mailbox.pk},
        "run": {"tenant_id": acme.pk, "run_id": run.pk},
    }

    def build(name, kind):
        return reverse(name, kwargs=ids[kind] if kind else None)

    return build


def test_it_covers_every_support_url():
    from support.urls import urlpatterns

    names = {f"support:{pattern.name}" for pattern in urlpatterns}
    assert names == {name for _, name, _ in ROUTES} | set(TWO_FACTOR_ROUTES)


@pytest.mark.parametrize(("method", "name", "kind"), ROUTES)
def test_it_sends_anonymous_visitors_to_sign_in(client, url_for, method, name, kind):
    response = getattr(client, method)(url_for(name, kind))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(("method", "name", "kind"), ROUTES)
def test_it_hides_every_support_url_from_a_tenant_admin(client, alice, url_for, method, name, kind):
    client.force_login(alice)
    assert getattr(client, method)(url_for(name, kind)).status_code == 404


@pytest.mark.parametrize(("method", "name", "kind"), ROUTES)
def test_it_hides_every_support_url_from_a_verified_tenant_admin(
    client, alice, url_for, method, name, kind
):
    # Even with a TOTP device of their own, a tenant admin is not support staff.
    sign_in_verified(client, alice)
    assert getattr(client, method)(url_for(name, kind)).status_code == 404


@pytest.mark.parametrize(("method", "name", "kind"), ROUTES)
def test_it_asks_staff_without_a_verified_session_for_a_code(
    client, charlie, url_for, method, name, kind
):
    confirmed_device(charlie)
    client.force_login(charlie)
    response = getattr(client, method)(url_for(name, kind))
    assert response.status_code == 302
    assert response["Location"].startswith("/support/2fa/?next=")


@pytest.mark.parametrize(("method", "name", "kind"), ROUTES)
def test_it_lets_verified_staff_in(client, charlie, url_for, method, name, kind):
    sign_in_verified(client, charlie)
    response = getattr(client, method)(url_for(name, kind))
    # Posts without data are refused by their forms (400) or redirect back; never 404/302 to 2FA.
    assert response.status_code in {200, 302, 400}
    if response.status_code == 302:
        assert not response["Location"].startswith(("/support/2fa", "/accounts/login"))


@pytest.mark.parametrize("name", TWO_FACTOR_ROUTES)
def test_it_hides_the_two_factor_pages_from_a_tenant_admin(client, alice, name):
    client.force_login(alice)
    assert client.get(reverse(name)).status_code == 404


@pytest.mark.parametrize("name", TWO_FACTOR_ROUTES)
def test_it_sends_anonymous_visitors_from_the_two_factor_pages_to_sign_in(client, db, name):
    assert client.get(reverse(name))["Location"].startswith("/accounts/login/")


def test_it_answers_404_for_an_unknown_tenant(staff_client):
    assert staff_client.get(f"/support/tenants/{uuid.uuid4()}/").status_code == 404
