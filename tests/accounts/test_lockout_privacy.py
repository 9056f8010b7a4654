"""What the lockout (django-axes) keeps and logs: never a still-valid token from a path,
never a password, even one typed into the user name field."""

import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.servers.basehttp import WSGIRequestHandler
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.actors import Actor
from onboarding.invitations import services as invitations
from tests.canary import assert_absent_from_database, new_canary

LOGIN = "/accounts/login/"


def dev_server_logs(request_line: str, status: str) -> None:
    """What `manage.py runserver` logs for each request (its access log)."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)  # only for its log_message
    handler.request = None  # type: ignore[assignment]
    handler.log_message('"%s" %s %s', request_line, status, "512")


@pytest.fixture
def invitation_token(acme, charlie, bob, canary_watch, django_capture_on_commit_callbacks):
    """A pending invitation for bob, who has an account: the page asks for his password."""
    with django_capture_on_commit_callbacks(execute=True):
        _, token = invitations.invitation_create(
            tenant=acme, email=bob.email, actor=Actor(user=charlie)
        )
    mail.outbox.clear()  # the e-mail carries the link on purpose
    canary_watch.watch_path_token(token)
    return token


def test_it_keeps_no_invitation_token_nor_password_from_a_mistyped_password(
    client, invitation_token, canary, canary_watch
):
    typed = canary("password")
    # The attack surface: mistype the password on the invitation page until locked out.
    responses = [
        client.post(f"/invitations/{invitation_token}/", {"password": typed}) for _ in range(5)
    ]
    assert [r.status_code for r in responses] == [200] * 4 + [429]
    attempt = AccessAttempt.objects.get()
    assert attempt.path_info == "/invitations/[REDACTED]/"
    assert typed not in attempt.post_data
    assert_absent_from_database(typed, invitation_token)
    # Django's request log named the page ("Too Many Requests: /invitations/…"): every
    # handler wrote it masked; axes' own records never held the token.
    assert canary_watch.path_token_leaks(invitation_token) == []
    # (logs, pages and task messages are checked for the password canary at teardown)


def test_it_keeps_no_password_typed_into_the_user_name_field(client, db, canary_watch):
    # Not registered: the login page shows its typist the user name field as typed.
    typed = new_canary("password")
    responses = [client.post(LOGIN, {"username": typed, "password": "x"}) for _ in range(5)]
    # Still counted together (as a keyed hash), so still locked out after five.
    assert responses[-1].status_code == 429
    attempt = AccessAttempt.objects.get()
    assert attempt.username.startswith("not-an-address:")
    assert_absent_from_database(typed, typed.lower())
    logged = [
        w for s in (typed, typed.lower()) for w in canary_watch.leaks(s) if w.startswith("log ")
    ]
    assert logged == []


def test_it_keeps_the_address_typed_so_that_a_lock_can_be_lifted(client, alice):
    for _ in range(5):
        client.post(LOGIN, {"username": "ALICE@acme.example", "password": "wrong"})
    assert AccessAttempt.objects.get().username == "alice@acme.example"


def test_it_masks_the_reset_token_where_the_path_is_logged(client, alice, canary_watch):
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    token = default_token_generator.make_token(alice)
    canary_watch.watch_path_token(token)
    path = f"/accounts/password-reset/{uid}/{token}/"
    # Django's request log of a failing page, and the dev server's access log of the link.
    logging.getLogger("django.request").warning("Not Found: %s", path)
    dev_server_logs(f"GET {path} HTTP/1.1", "302")
    assert canary_watch.path_token_leaks(token) == []
    outputs = [text for where, text in canary_watch.captures if where.startswith("log output")]
    assert any(f"/accounts/password-reset/{uid}/[REDACTED]/ HTTP/1.1" in t for t in outputs)
    assert any(f"Not Found: /accounts/password-reset/{uid}/[REDACTED]/" in t for t in outputs)


def test_the_dev_servers_access_log_masks_an_invitation_token(canary_watch):
    token = "Kq2v9" * 8
    canary_watch.watch_path_token(token)
    dev_server_logs(f"GET /invitations/{token}/ HTTP/1.1", "200")
    assert canary_watch.path_token_leaks(token) == []
    outputs = [text for where, text in canary_watch.captures if where.startswith("log output")]
    assert any("GET /invitations/[REDACTED]/ HTTP/1.1" in text for text in outputs)
