"""Forged, replayed, expired and foreign consent callbacks: each gets 400, changes nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import User
from onboarding.consent.flow import SESSION_KEY
from onboarding.models import AppRegistration, AuditEvent, ClientSecret, Mailbox, Tenant
from tests.onboarding.conftest import ACME_DIRECTORY_ID, GLOBEX_DIRECTORY_ID

CALLBACK = reverse("onboarding:consent-callback")


@dataclass
class Scene:
    alice: Client
    bob: Client
    anonymous: Client
    state: str  # alice's, fresh
    bob_state: str  # bob's, for Globex
    clock: Any  # time_machine's traveller
    alice_user: User


def begin(client: Client, tenant_id) -> str:
    response = client.post(reverse("onboarding:consent-start", args=[tenant_id]))
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def ok(state, tenant=ACME_DIRECTORY_ID):
    return [("admin_consent", "True"), ("tenant", tenant), ("state", state)]


def declined(state):
    return [
        ("error", "access_denied"),
        ("error_description", "AADSTS65004: User declined to consent to access the app."),
        ("admin_consent", "True"),
        ("state", state),
    ]


def replayed(first, then):
    def variant(s: Scene):
        s.alice.get(f"{CALLBACK}?{urlencode(first(s.state))}")  # uses the state up
        return s.alice, then(s.state)

    return variant


def expired(seconds):
    def variant(s: Scene):
        s.clock.shift(timedelta(seconds=seconds))
        return s.alice, ok(s.state)

    return variant


def expired_error(s: Scene):
    s.clock.shift(timedelta(minutes=11))
    return s.alice, declined(s.state)


def signed_in_again(s: Scene):
    """Alice signs in afresh (a new session): the old state stays behind."""
    fresh = Client()
    fresh.force_login(s.alice_user)
    return fresh, ok(s.state)


def other_users_state_in_session(s: Scene):
    session = s.alice.session
    pending = session[SESSION_KEY]
    pending[s.state]["user"] = "00000000-0000-4000-8000-000000000000"
    session[SESSION_KEY] = pending
    session.save()
    return s.alice, ok(s.state)


def app_changed(s: Scene):
    AppRegistration.objects.filter(directory_id=ACME_DIRECTORY_ID).update(
        client_id="3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    )
    return s.alice, ok(s.state)


def random_state():
    return secrets.token_urlsafe(32)


VARIANTS = {
    # No state, or one this session never made.
    "no parameters": lambda s: (s.alice, []),
    "success without state": lambda s: (
        s.alice,
        [("admin_consent", "True"), ("tenant", ACME_DIRECTORY_ID)],
    ),
    "empty state": lambda s: (s.alice, ok("")),
    "unknown state": lambda s: (s.alice, ok(random_state())),
    "short state": lambda s: (s.alice, ok("abc")),
    "state one character short": lambda s: (s.alice, ok(s.state[:-1])),
    "state one character long": lambda s: (s.alice, ok(s.state + "A")),
    "state in other case": lambda s: (s.alice, ok(s.state.swapcase())),
    "state padded with spaces": lambda s: (s.alice, ok(f" {s.state} ")),
    "state of 129 characters": lambda s: (s.alice, ok("A" * 129)),
    "state of 10000 characters": lambda s: (s.alice, ok("A" * 10_000)),
    "state with markup": lambda s: (s.alice, ok("<script>alert(1)</script>" + "A" * 20)),
    "state with a null byte": lambda s: (s.alice, ok(s.state[:20] + "\x00" + s.state[21:])),
    "state with unicode": lambda s: (s.alice, ok("é" * 43)),
    "state with a slash": lambda s: (s.alice, ok(s.state[:-1] + "/")),
    "state twice, one valid": lambda s: (s.alice, [*ok(s.state), ("state", random_state())]),
    "state twice, both valid": lambda s: (s.alice, [*ok(s.state), ("state", s.state)]),
    "state as a JSON object": lambda s: (s.alice, ok('{"app": "x"}')),
    "session key as state": lambda s: (s.alice, ok(SESSION_KEY + "A" * 20)),
    # Replayed.
    "replayed after an error": replayed(declined, ok),
    "replayed after success": replayed(ok, ok),
    "replayed decline": replayed(declined, declined),
    # Expired.
    "expired by a second": expired(10 * 60 + 1),
    "expired by an hour": expired(3600),
    "expired by a day": expired(86_400),
    "expired decline": expired_error,
    # Made in another session, or by another user.
    "bob's state in alice's session": lambda s: (s.alice, ok(s.bob_state, GLOBEX_DIRECTORY_ID)),
    "alice's state in bob's session": lambda s: (s.bob, ok(s.state)),
    "alice's state without a session": lambda s: (s.anonymous, ok(s.state)),
    "alice's decline without a session": lambda s: (s.anonymous, declined(s.state)),
    "alice's state after signing in again": signed_in_again,
    "state recorded for another user": other_users_state_in_session,
    "app changed since consent started": app_changed,
    # Wrong tenant.
    "tenant of another directory": lambda s: (s.alice, ok(s.state, GLOBEX_DIRECTORY_ID)),
    "tenant missing": lambda s: (s.alice, [("admin_consent", "True"), ("state", s.state)]),
    "tenant empty": lambda s: (s.alice, ok(s.state, "")),
    "tenant as a domain": lambda s: (s.alice, ok(s.state, "acme.onmicrosoft.com")),
    "tenant common": lambda s: (s.alice, ok(s.state, "common")),
    "tenant with braces": lambda s: (s.alice, ok(s.state, "{" + ACME_DIRECTORY_ID + "}")),
    "tenant with a null byte": lambda s: (s.alice, ok(s.state, ACME_DIRECTORY_ID + "\x00")),
    "tenant oversize": lambda s: (s.alice, ok(s.state, ACME_DIRECTORY_ID * 200)),
    "tenant twice": lambda s: (s.alice, [*ok(s.state), ("tenant", GLOBEX_DIRECTORY_ID)]),
    "tenant twice, same": lambda s: (s.alice, [*ok(s.state), ("tenant", ACME_DIRECTORY_ID)]),
    # Neither a consent nor an error.
    "admin_consent missing": lambda s: (
        s.alice,
        [("tenant", ACME_DIRECTORY_ID), ("state", s.state)],
    ),
    "admin_consent False": lambda s: (
        s.alice,
        [("admin_consent", "False"), ("tenant", ACME_DIRECTORY_ID), ("state", s.state)],
    ),
    "admin_consent yes": lambda s: (
        s.alice,
        [("admin_consent", "yes"), ("tenant", ACME_DIRECTORY_ID), ("state", s.state)],
    ),
    "admin_consent empty": lambda s: (
        s.alice,
        [("admin_consent", ""), ("tenant", ACME_DIRECTORY_ID), ("state", s.state)],
    ),
    "admin_consent twice": lambda s: (s.alice, [*ok(s.state), ("admin_consent", "True")]),
    "only a scope": lambda s: (
        s.alice,
        [("scope", "https://graph.microsoft.com/.default"), ("state", s.state)],
    ),
    # Error parameters with a bad state, and malformed ones with a good state.
    "error without state": lambda s: (s.alice, [("error", "access_denied")]),
    "decline with unknown state": lambda s: (s.alice, declined(random_state())),
    "decline with bob's state": lambda s: (s.alice, declined(s.bob_state)),
    "error twice": lambda s: (s.alice, [*declined(s.state), ("error", "server_error")]),
    "error_description oversize": lambda s: (
        s.alice,
        [("error", "access_denied"), ("error_description", "A" * 5000), ("state", s.state)],
    ),
    "error_description with a null byte": lambda s: (
        s.alice,
        [("error", "x"), ("error_description", "AADSTS65004\x00"), ("state", s.state)],
    ),
    "error oversize": lambda s: (s.alice, [("error", "e" * 5000), ("state", s.state)]),
}


@pytest.fixture
def scene(acme_configured, globex, alice, bob, fake_microsoft):
    app = AppRegistration.objects.create(
        tenant=globex,
        client_id="3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        directory=GLOBEX_DIRECTORY_ID,
        directory_id=GLOBEX_DIRECTORY_ID,
        authentication_confirmed_at=acme_configured.authentication_confirmed_at,
    )
    assert app.pk
    with time_machine.travel("2026-11-28 10:00:00Z", tick=False) as clock:
        alice_client, bob_client = Client(), Client()
        alice_client.force_login(alice)
        bob_client.force_login(bob)
        yield Scene(
            alice=alice_client,
            bob=bob_client,
            anonymous=Client(),
            state=begin(alice_client, acme_configured.tenant_id),
            bob_state=begin(bob_client, globex.pk),
            clock=clock,
            alice_user=alice,
        )


def snapshot():
    return {
        "apps": list(
            AppRegistration.objects.order_by("pk").values_list(
                "pk", "client_id", "consent_granted_at", "consent_granted_by", "updated_at"
            )
        ),
        "tenants": list(
            Tenant.objects.order_by("pk").values_list(
                "pk", "onboarding_step", "health", "updated_at"
            )
        ),
        "secrets": ClientSecret.objects.count(),
        "mailboxes": list(Mailbox.objects.values_list("pk", "health")),
        "audit": AuditEvent.objects.count(),
    }


def test_it_accepts_the_genuine_callback_in_the_same_scene(scene):
    response = scene.alice.get(f"{CALLBACK}?{urlencode(ok(scene.state))}")
    assert response.status_code == 302
    assert AppRegistration.objects.get(directory_id=ACME_DIRECTORY_ID).consent_granted_at


def test_it_shows_the_decline_page_for_a_genuine_decline_in_the_same_scene(scene):
    response = scene.alice.get(f"{CALLBACK}?{urlencode(declined(scene.state))}")
    assert response.status_code == 200
    assert "Consent was declined" in response.content.decode()


def test_it_has_at_least_fifty_variants():
    assert len(VARIANTS) >= 50


@pytest.mark.parametrize("name", VARIANTS)
def test_it_refuses_a_forged_callback_and_changes_nothing(scene, name):
    client, params = VARIANTS[name](scene)
    before = snapshot()
    response = client.get(f"{CALLBACK}?{urlencode(params)}")
    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    after = snapshot()
    assert after == before  # including the number of audit events
    if not name.startswith("replayed"):
        assert not AuditEvent.objects.filter(action__startswith="consent").exists()
