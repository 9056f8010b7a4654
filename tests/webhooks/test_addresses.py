"""Which webhook URLs the portal will call: public https only, never itself, checked at
registration and again at send time (DNS rebinding), to the address it checked."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.webhooks.conftest import CONNECTION, PUBLIC
from webhooks import endpoints, outbox
from webhooks.addresses import UnsafeURL, check_url
from webhooks.models import Delivery, Endpoint

REFUSED = [
    ("ftp://hooks.example.com/x", "scheme"),
    ("hooks.example.com/x", "scheme"),
    ("https://user:pass@hooks.example.com/x", "credentials"),
    ("https://hooks.example.com/x#top", "invalid_url"),
    ("https://hooks.example.com:99999/x", "invalid_url"),
    ("https://hooks.example.com:http/x", "invalid_url"),
    ("https:///x", "invalid_url"),
    ("https://hooks.example.com/a b", "invalid_url"),
    ("https://hooks.example.com/" + "a" * 2000, "invalid_url"),
    ("", "invalid_url"),
    # The portal itself, by its base URL and by ALLOWED_HOSTS (a leading dot: subdomains).
    ("https://portal.example.com/api/v1/", "own_host"),
    ("https://PORTAL.example.com./x", "own_host"),
    ("https://db.portal-internal.example.com/x", "own_host"),
    ("https://localhost:8443/x", "own_host"),
    # Private, loopback, link-local (cloud metadata), multicast, reserved, unspecified.
    ("https://10.0.0.5/x", "private_address"),
    ("https://172.16.3.4/x", "private_address"),
    ("https://192.168.1.10/x", "private_address"),
    ("https://127.0.0.2/x", "private_address"),
    ("https://169.254.169.254/latest/meta-data/", "private_address"),
    ("https://224.0.0.1/x", "private_address"),
    ("https://240.0.0.1/x", "private_address"),
    ("https://0.0.0.0/x", "private_address"),
    ("https://100.64.0.1/x", "private_address"),
    ("https://[::1]/x", "private_address"),
    ("https://[fe80::1]/x", "private_address"),
    ("https://[fc00::1]/x", "private_address"),
    ("https://[ff02::1]/x", "private_address"),
    ("https://[::ffff:10.0.0.1]/x", "private_address"),
    ("https://[64:ff9b::a00:1]/x", "private_address"),
    ("https://unknown.example.com/x", "unresolvable"),
]


@pytest.mark.parametrize(("url", "code"), REFUSED)
def test_it_refuses(url, code):
    with pytest.raises(UnsafeURL) as refused:
        check_url(url)
    assert refused.value.code == code


def test_it_refuses_plain_http_unless_allowed(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(UnsafeURL, match="must start with https://"):
        check_url("http://127.0.0.1:8080/x")


def test_it_refuses_loopback_unless_the_address_is_allowed_explicitly(settings):
    assert check_url("http://127.0.0.1:8080/x").addresses == ("127.0.0.1",)
    settings.WEBHOOK_ALLOWED_ADDRESSES = frozenset()
    with pytest.raises(UnsafeURL) as refused:
        check_url("http://127.0.0.1:8080/x")
    assert refused.value.code == "private_address"


def test_the_portal_s_own_port_stays_refused_on_an_allowed_address(settings):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    with pytest.raises(UnsafeURL, match="portal itself"):
        check_url("http://127.0.0.1:8000/api/v1/")
    assert check_url("http://127.0.0.1:9000/hook").port == 9000


def test_it_refuses_a_name_whose_answers_include_a_private_address(dns):
    dns.answers["mixed.example.com"] = [PUBLIC, "10.1.2.3"]
    with pytest.raises(UnsafeURL) as refused:
        check_url("https://mixed.example.com/x")
    assert refused.value.code == "private_address"


def test_it_accepts_a_public_https_url(dns):
    dns.answers["hooks.example.com"] = [PUBLIC]
    target = check_url("https://hooks.example.com/in?x=1")
    assert (target.host, target.port, target.path, target.addresses) == (
        "hooks.example.com",
        443,
        "/in?x=1",
        (PUBLIC,),
    )
    assert target.host_header == "hooks.example.com"


def test_it_refuses_to_register_a_private_url_and_writes_nothing(account, dns):
    dns.answers["intranet.example.com"] = ["192.168.0.7"]
    with pytest.raises(endpoints.EndpointRefused) as refused:
        endpoints.create(
            account.pk, url="https://intranet.example.com/x", events=["connection.failing"]
        )
    assert (refused.value.field, refused.value.code) == ("url", "private_address")
    assert not Endpoint.objects.exists()


def test_it_refuses_at_send_time_a_name_that_now_resolves_to_a_private_address(
    account, dns, receiver, django_capture_on_commit_callbacks
):
    """DNS rebinding: public when registered, private when the webhook is sent."""
    dns.answers["rebind.example.com"] = [PUBLIC]
    endpoints.create(account.pk, url="https://rebind.example.com/x", events=["connection.failing"])
    dns.answers["rebind.example.com"] = ["10.0.0.8"]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.record("connection.failing", tenant_id=CONNECTION, connection_id=CONNECTION, data={})
    delivery = Delivery.objects.get()
    assert delivery.state == "pending"
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Refused: The URL's host is a private")
    assert receiver.received == []


def test_it_connects_to_the_address_it_checked_and_names_the_host(
    account, dns, receiver, django_capture_on_commit_callbacks
):
    port = receiver.server.server_address[1]
    dns.answers["receiver.example.com"] = ["127.0.0.1"]
    endpoints.create(
        account.pk, url=f"http://receiver.example.com:{port}/in", events=["connection.failing"]
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.record("connection.failing", tenant_id=CONNECTION, connection_id=CONNECTION, data={})
    [request] = receiver.received
    assert request.headers["host"] == f"receiver.example.com:{port}"
    # Resolved once at registration and once before the send: the HTTP client itself
    # never asked DNS again (it could have been given another answer).
    assert dns.asked == ["receiver.example.com", "receiver.example.com"]
