"""Security finding 13: invitation tokens cannot be guessed at scale; after
INVITATION_GUESSES_PER_IP_HOUR unknown tokens a client IP gets 429 and no lookup."""

from unittest import mock

import pytest

from accounts.actors import Actor
from onboarding.invitations import services as invitations


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    """A fixed clock, so no test straddles two rate-limit windows."""
    monkeypatch.setattr("accounts.rate_limits._now", lambda: 1_800_000_000.0)


def test_it_answers_429_after_too_many_unknown_tokens_from_one_ip(client, acme, charlie, settings):
    settings.INVITATION_GUESSES_PER_IP_HOUR = 20
    _, token = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    for i in range(20):
        response = client.get(f"/invitations/guess-{i}/", REMOTE_ADDR="198.51.100.9")
        assert response.status_code == 404
    with mock.patch.object(invitations, "invitation_from_token") as lookup:
        blocked = client.get("/invitations/guess-99/", REMOTE_ADDR="198.51.100.9")
        real = client.get(f"/invitations/{token}/", REMOTE_ADDR="198.51.100.9")
    lookup.assert_not_called()
    for response in (blocked, real):
        assert response.status_code == 429
        assert response["Content-Type"].startswith("text/plain")
        assert "Too many invalid invitation links" in response.content.decode()
    # Another client is not affected, and the real link still works for it.
    assert client.get("/invitations/guess-0/", REMOTE_ADDR="198.51.100.10").status_code == 404
    assert client.get(f"/invitations/{token}/", REMOTE_ADDR="198.51.100.10").status_code == 200


def test_valid_links_are_not_counted(client, acme, charlie, settings):
    settings.INVITATION_GUESSES_PER_IP_HOUR = 2
    _, token = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    for _ in range(5):
        assert client.get(f"/invitations/{token}/").status_code == 200
    assert client.get("/invitations/guess/").status_code == 404
