"""Connect with Microsoft, end to end against the emulator: the admin's button, the
sign-in at Microsoft, the callback, the stored refresh token and the first check."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from onboarding.checks.results import TEST_SUBJECT
from onboarding.models import AuditEvent, CheckRun, MailboxSignIn
from tests.onboarding.check_helpers import steps
from tests.personal_mailbox import UPN, at_microsoft, callback, start, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in_admin(client, alice):
    client.force_login(alice)
    return client


def test_connect_asks_microsoft_for_the_owners_mail_with_pkce_and_account_choice(
    signed_in_admin, personal
):
    url = start(signed_in_admin, personal.mailbox)
    parts = urlsplit(url)
    asked = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/consumers/oauth2/v2.0/authorize"  # a personal account
    scopes = set(asked["scope"].split())
    graph = settings.MICROSOFT_GRAPH_URL
    wanted = {f"{graph}/{name}" for name in ("Mail.Read", "Mail.Send", "User.Read")}
    assert scopes == wanted | {"offline_access", "openid", "profile"}
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43
    assert asked["prompt"] == "select_account"
    assert asked["login_hint"] == UPN
    assert asked["redirect_uri"].endswith("/onboarding/connect/callback/")
    assert asked["state"]
    assert asked["nonce"]


def test_an_outlook_mailbox_connected_by_the_admin_passes_its_check(
    signed_in_admin, personal, emulated_microsoft, django_capture_on_commit_callbacks
):
    answer = at_microsoft(emulated_microsoft, start(signed_in_admin, personal.mailbox))
    with django_capture_on_commit_callbacks(execute=True):
        response = callback(signed_in_admin, answer)
    assert response.status_code == 302
    assert response["Location"].endswith("/step/6/")
    sign_in = MailboxSignIn.objects.get(mailbox=personal.mailbox)
    assert (sign_in.username, sign_in.authority, sign_in.personal) == (UPN, "consumers", True)
    assert sign_in.account_oid == personal.person.id
    assert sign_in.home_account_id.endswith(".9188040d-6c67-4c5b-b112-36a304b66dad")
    assert {"Mail.Read", "Mail.Send"} <= set(sign_in.scopes.split())
    # Only ciphertext, bound to the row: it decrypts to a refresh token the emulator knows.
    token = sign_in.reveal_refresh_token()
    assert token.encode() not in bytes(sign_in.refresh_token_ciphertext)
    assert emulated_microsoft.emulator.issuer.refresh_grant(token) is not None
    run = CheckRun.objects.filter(mailbox=personal.mailbox).latest("created_at")
    assert run.status == CheckRun.Status.PASSED, run.steps
    assert steps(run) == {
        "owner_token": ("passed", ""),
        "permissions": ("info", ""),
        "read_inbox": ("passed", ""),
        "send_test": ("passed", ""),
    }
    personal.mailbox.refresh_from_db()
    assert personal.mailbox.health == "healthy"
    event = AuditEvent.objects.get(action="mailbox.signed_in")
    assert event.details["account"] == UPN
    assert "token" not in str(event.details).lower()
    # The test message went out through /me, from the mailbox to itself, unsaved.
    person = emulated_microsoft.personal_account(UPN)
    assert person.messages[-1].subject == TEST_SUBJECT.format(id=run.pk)
    assert person.sent == []


def test_a_replayed_callback_is_refused_and_stores_nothing_more(
    signed_in_admin, personal, emulated_microsoft, django_capture_on_commit_callbacks
):
    answer = at_microsoft(emulated_microsoft, start(signed_in_admin, personal.mailbox))
    with django_capture_on_commit_callbacks(execute=True):
        assert callback(signed_in_admin, answer).status_code == 302
    first = bytes(MailboxSignIn.objects.get().refresh_token_ciphertext)
    again = callback(signed_in_admin, answer)
    assert again.status_code == 400
    assert "This sign-in cannot be used" in text(again)
    assert bytes(MailboxSignIn.objects.get().refresh_token_ciphertext) == first


def test_a_callback_in_another_browser_is_refused(
    signed_in_admin, alice, personal, emulated_microsoft
):
    answer = at_microsoft(emulated_microsoft, start(signed_in_admin, personal.mailbox))
    other = Client()
    other.force_login(alice)  # the same user, another session: not the one that started
    response = callback(other, answer)
    assert response.status_code == 400
    assert not MailboxSignIn.objects.exists()


def test_a_forged_state_is_refused(signed_in_admin, personal, emulated_microsoft):
    answer = at_microsoft(emulated_microsoft, start(signed_in_admin, personal.mailbox))
    response = callback(signed_in_admin, {**answer, "state": "x" * 43})
    assert response.status_code == 400
    assert not MailboxSignIn.objects.exists()


def test_a_callback_after_ten_minutes_is_refused(signed_in_admin, personal, emulated_microsoft):
    answer = at_microsoft(emulated_microsoft, start(signed_in_admin, personal.mailbox))
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = callback(signed_in_admin, answer)
    assert response.status_code == 400
    assert not MailboxSignIn.objects.exists()


def test_a_state_given_twice_is_refused(signed_in_admin, personal, emulated_microsoft):
    answer = at_microsoft(emulated_microsoft, start(signed_in_admin, personal.mailbox))
    response = signed_in_admin.get(
        "/onboarding/connect/callback/?" + f"state={answer['state']}&state={answer['state']}"
    )
    assert response.status_code == 400


def test_another_account_signing_in_is_refused_with_a_page_and_nothing_stored(
    signed_in_admin, personal, emulated_microsoft
):
    emulated_microsoft.add_personal_account("other@outlook.com", "Other-Personal-2026!")
    url = start(signed_in_admin, personal.mailbox)
    answer = at_microsoft(emulated_microsoft, url, "other@outlook.com", "Other-Personal-2026!")
    response = callback(signed_in_admin, answer)
    assert response.status_code == 200
    page = text(response)
    assert "was not connected" in page
    assert "Microsoft signed in other@outlook.com, not someone@outlook.com" in page
    assert "Use another account" in page
    assert not MailboxSignIn.objects.exists()
    assert not CheckRun.objects.filter(mailbox=personal.mailbox).exists()


def test_a_declined_consent_says_so_and_stores_nothing(
    signed_in_admin, personal, emulated_microsoft
):
    url = start(signed_in_admin, personal.mailbox)
    answer = at_microsoft(emulated_microsoft, url, decision="cancel")
    assert answer["error"] == "access_denied"
    response = callback(signed_in_admin, answer)
    page = text(response)
    assert response.status_code == 200
    assert "The permission was not given" in page
    assert "AADSTS65004" in page
    assert not MailboxSignIn.objects.exists()


def test_consent_required_as_microsoft_redirects_it_names_the_admin_fix(signed_in_admin, personal):
    # The OpenID Connect error a prompt=none or blocked user consent sends back
    # (entra-docs v2-oauth2-auth-code-flow.md, "Error response").
    from onboarding.delegated.flow import SESSION_KEY

    start(signed_in_admin, personal.mailbox)
    state = next(iter(signed_in_admin.session[SESSION_KEY]))
    response = callback(
        signed_in_admin,
        {"state": state, "error": "consent_required", "error_description": "AADSTS65001: x"},
    )
    assert "an administrator must approve it first" in text(response)
    assert not MailboxSignIn.objects.exists()


def test_another_tenants_admin_cannot_connect_acmes_mailbox(client, bob, personal):
    client.force_login(bob)
    url = reverse(
        "onboarding:connect-start", args=[personal.mailbox.tenant_id, personal.mailbox.pk]
    )
    assert client.post(url).status_code == 404


def test_starting_needs_a_post(signed_in_admin, personal):
    url = reverse(
        "onboarding:connect-start", args=[personal.mailbox.tenant_id, personal.mailbox.pk]
    )
    assert signed_in_admin.get(url).status_code == 405
    assert mail.outbox == []
