"""Webhook fixtures: a real receiving server on 127.0.0.1, an operations-app service
account, and settings that let this machine's loopback address receive (tests only)."""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Iterator

import pytest

from api.models import ServiceAccount
from tests.webhooks.receiver import Receiver, start
from webhooks import endpoints
from webhooks.models import EVENT_TYPES, Endpoint

# Public addresses from the documentation ranges would be refused (reserved); these
# are ordinary public ones, only ever returned by the fake resolver, never connected to.
PUBLIC = "93.184.215.14"
CONNECTION = uuid.UUID("0b7f5f6e-1c1d-4a63-9a8e-5a1f0f7a1111")
_REAL_GETADDRINFO = socket.getaddrinfo
OTHER_CONNECTION = uuid.UUID("0b7f5f6e-1c1d-4a63-9a8e-5a1f0f7a2222")


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_ADDRESSES = frozenset({"127.0.0.1"})
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 24
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    settings.ALLOWED_HOSTS = [
        "portal.example.com",
        ".portal-internal.example.com",
        "localhost",
        "testserver",  # the test client's host
    ]
    settings.SUPPORT_EMAIL = "support@vendor.example"


class FakeDNS:
    """Answers for host names: tests never ask the real DNS (there is no network)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:  # an address needs no DNS: the HTTP client's own connect lands here
            return _REAL_GETADDRINFO(host, port, *args, **kwargs)
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port),
            )
            for address in self.answers[host]
        ]


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr("webhooks.addresses.socket.getaddrinfo", fake)
    return fake


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def account(db) -> ServiceAccount:
    return ServiceAccount.objects.create(
        name="Operations app", scopes=["connections:read", "webhooks:manage"]
    )


@pytest.fixture
def endpoint(account: ServiceAccount, receiver: Receiver) -> tuple[Endpoint, str]:
    """An endpoint of the account at the receiver, subscribed to every event, and its secret."""
    return endpoints.create(account.pk, url=receiver.url, events=sorted(EVENT_TYPES))
