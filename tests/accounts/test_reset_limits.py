"""Security finding 13: password-reset requests are limited per address and per
client IP; over the limit the page answers as always but no e-mail is queued."""

import logging
from unittest import mock

import pytest

from accounts.rate_limits import fingerprint

RESET = "/accounts/password-reset/"
SENT = "/accounts/password-reset/sent/"


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    """A fixed clock, so no test straddles two rate-limit windows."""
    monkeypatch.setattr("accounts.rate_limits._now", lambda: 1_800_000_000.0)


def test_it_sends_at_most_three_resets_per_address_an_hour(client, alice, caplog):
    with mock.patch("accounts.forms.password_reset_send") as send:
        answers = [
            client.post(RESET, {"email": "Alice@acme.example"}, REMOTE_ADDR=f"10.0.0.{i}")
            for i in range(5)
        ]
    assert [(a.status_code, a["Location"]) for a in answers] == [(302, SENT)] * 5
    assert send.delay.call_count == 3
    refused = [r for r in caplog.records if "Password reset refused" in r.getMessage()]
    assert len(refused) == 2
    assert all(r.levelno == logging.WARNING for r in refused)
    assert fingerprint("alice@acme.example") in refused[0].getMessage()
    assert "alice" not in caplog.text.lower()


def test_an_unknown_address_over_the_limit_answers_the_same(client, alice):
    with mock.patch("accounts.forms.password_reset_send") as send:
        answers = [client.post(RESET, {"email": "nobody@acme.example"}) for _ in range(5)]
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, SENT)}
    send.delay.assert_not_called()


def test_it_limits_requests_per_client_ip(client, alice, caplog, settings):
    settings.PASSWORD_RESETS_PER_IP_HOUR = 20
    with mock.patch("accounts.forms.password_reset_send") as send:
        for i in range(20):
            client.post(RESET, {"email": f"user{i}@acme.example"}, REMOTE_ADDR="192.0.2.7")
        over = client.post(RESET, {"email": alice.email}, REMOTE_ADDR="192.0.2.7")
        send.delay.assert_not_called()
        assert (over.status_code, over["Location"]) == (302, SENT)
        # Another client's request for the same address still goes through.
        client.post(RESET, {"email": alice.email}, REMOTE_ADDR="192.0.2.8")
    send.delay.assert_called_once_with(str(alice.pk))
    assert "per IP" in caplog.text
    assert "192.0.2.7" not in caplog.text
