"""Two workers refreshing one owner's sign-in at once, on PostgreSQL (and the shared
token cache in Redis, as make test and CI run it): the row lock makes them take turns,
so the second sends the refresh token the first stored, and the last one Microsoft
returned is the one kept. Neither sends a token Microsoft already replaced."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from onboarding.delegated import tokens
from onboarding.microsoft import signin
from onboarding.models import MailboxSignIn
from tests.conftest import require_service

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_take_turns_and_the_newest_refresh_token_is_kept(
    connected, personal, monkeypatch
):
    require_service("PostgreSQL", connection.vendor == "postgresql")
    first = connected.reveal_refresh_token()
    sent: list[str] = []
    returned: list[str] = []
    real = signin.refresh

    def slow_refresh(**kwargs):
        # Hold the refresh long enough for the other worker to arrive meanwhile.
        sent.append(kwargs["refresh_token"])
        time.sleep(0.3)
        result = real(**kwargs)
        returned.append(result.refresh_token)
        return result

    monkeypatch.setattr(signin, "refresh", slow_refresh)
    client_id = personal.ready.app.client_id
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            row = MailboxSignIn.objects.get(pk=connected.pk)
            credential = tokens.AppCredential(client_id, personal.ready.secret.value)
            tokens.delegated_token(row, credential, fresh=True)
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # One after the other: the second sent what the first got back and stored.
    assert sent == [first, returned[0]]
    assert MailboxSignIn.objects.get().reveal_refresh_token() == returned[1]
