"""The client's address behind reverse proxies (PORTAL_TRUSTED_PROXY_COUNT): one answer
for the lockout and the audit log, read from X-Forwarded-For only through trusted proxies."""

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from accounts.actors import Actor
from accounts.client_ip import client_ip
from onboarding.models import AuditEvent
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
WRONG = "hunter2-this-is-the-wrong-password"
PROXY = "10.0.0.2"  # every request reaches the portal from the proxy's address
ATTACKER, VICTIM = "203.0.113.5", "203.0.113.9"


def sign_in(client, email, password, *, remote_addr=PROXY, forwarded_for=None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(LOGIN, {"username": email, "password": password}, **headers)


@pytest.fixture
def one_proxy(settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1


def test_it_does_not_lock_out_another_client_behind_the_same_proxy(
    client, alice, one_proxy, django_user_model
):
    # The attack: fail five times for alice from behind the proxy everybody shares.
    responses = [sign_in(client, alice.email, WRONG, forwarded_for=ATTACKER) for _ in range(5)]
    assert responses[-1].status_code == 429
    # Alice, behind the same proxy, still signs in.
    response = sign_in(client, alice.email, PASSWORD, forwarded_for=VICTIM)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    # The lock and the audit log name the attacker's address, not the proxy's.
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    failed = AuditEvent.objects.filter(action="login.failed")
    assert set(failed.values_list("ip_address", flat=True)) == {ATTACKER}
    signed_in = AuditEvent.objects.get(action="login")
    assert signed_in.ip_address == VICTIM


def test_it_ignores_what_the_client_wrote_before_the_proxys_entry(client, alice, one_proxy):
    # The proxy appends the address it saw; entries to its left are the client's own.
    responses = [
        sign_in(client, alice.email, WRONG, forwarded_for=f"198.51.100.{n}, {ATTACKER}")
        for n in range(5)
    ]
    assert responses[-1].status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_it_ignores_a_forged_header_without_trusted_proxies(client, alice):
    # Count 0 (the default): the attacker claims to be the victim's address, then others.
    forged = [VICTIM, "192.0.2.1", "192.0.2.2", VICTIM, "192.0.2.3"]
    responses = [
        sign_in(client, alice.email, WRONG, remote_addr=ATTACKER, forwarded_for=ip) for ip in forged
    ]
    assert responses[-1].status_code == 429  # all five counted against the real address
    response = sign_in(client, alice.email, PASSWORD, remote_addr=VICTIM)
    assert response.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    failed = AuditEvent.objects.filter(action="login.failed")
    assert set(failed.values_list("ip_address", flat=True)) == {ATTACKER}


@pytest.mark.parametrize(
    ("count", "forwarded_for", "expected"),
    [
        (0, "192.0.2.1", PROXY),
        (1, None, PROXY),  # the header missing: not through the proxy
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "198.51.100.1, 192.0.2.1", "192.0.2.1"),
        (2, "192.0.2.1, 10.0.0.1", "192.0.2.1"),
        (2, "198.51.100.1, 192.0.2.1, 10.0.0.1", "192.0.2.1"),
        (2, "10.0.0.1", PROXY),  # shorter than the trusted chain
    ],
)
def test_it_reads_the_address_through_the_trusted_proxies_only(
    settings, count, forwarded_for, expected
):
    settings.PORTAL_TRUSTED_PROXY_COUNT = count
    headers: dict[str, Any] = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    request = RequestFactory().get("/", **headers)
    assert client_ip(request) == expected
    assert Actor.of(request).ip_address == expected
