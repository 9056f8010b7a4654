"""An https endpoint: the portal connects to the address it checked, sends the host
name for SNI and checks the certificate against it (a test CA stands in for the
public ones)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme
from django.db import transaction

from tests.webhooks.conftest import CONNECTION
from tests.webhooks.receiver import Receiver, start
from webhooks import endpoints, outbox
from webhooks.models import Delivery

HOST = "hooks.example.com"


@pytest.fixture
def ca(tmp_path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    # The portal trusts certifi's CAs; here, the test CA instead.
    monkeypatch.setattr("webhooks.http.certifi.where", lambda: str(bundle))
    return authority


def https_receiver(ca: trustme.CA, name: str) -> Receiver:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return start(tls=context)


@pytest.fixture
def secure(ca) -> Iterator[Receiver]:
    running = https_receiver(ca, HOST)
    yield running
    running.server.shutdown()
    running.server.server_close()


def send(account, url: str, django_capture_on_commit_callbacks) -> Delivery:
    endpoints.create(account.pk, url=url, events=["connection.failing"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.record("connection.failing", tenant_id=CONNECTION, connection_id=CONNECTION, data={})
    return Delivery.objects.get()


def test_it_delivers_over_https_to_the_checked_address(
    account, dns, secure, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_HTTP = False
    dns.answers[HOST] = ["127.0.0.1"]
    delivery = send(account, f"https://{HOST}:{secure.port}/in", django_capture_on_commit_callbacks)
    assert delivery.state == "delivered"
    [request] = secure.received
    assert request.headers["host"] == f"{HOST}:{secure.port}"


def test_it_refuses_a_certificate_for_another_name(
    account, dns, ca, django_capture_on_commit_callbacks
):
    impostor = https_receiver(ca, "other.example.com")
    try:
        dns.answers[HOST] = ["127.0.0.1"]
        url = f"https://{HOST}:{impostor.port}/in"
        delivery = send(account, url, django_capture_on_commit_callbacks)
    finally:
        impostor.server.shutdown()
        impostor.server.server_close()
    assert delivery.state == "pending"
    assert delivery.last_error == "The TLS handshake failed (certificate not valid?)."
    assert impostor.received == []
