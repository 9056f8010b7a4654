"""Graph's recorded answer for a signed-in account without a mailbox, replayed to the
check of a connected Outlook.com mailbox; and no token of the sign-in in any log."""

from __future__ import annotations

import logging

import pytest

from onboarding.models import MailboxSignIn
from tests.onboarding.check_helpers import run_check, steps
from tests.recordings import load

pytestmark = pytest.mark.django_db


def test_an_account_without_a_mailbox_is_told_apart_from_a_licence_problem(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks
):
    # A delegated bot's GET /me/messages, answered 404 MailboxNotEnabledForRESTAPI.
    recorded = load("graph_messages_mailbox_not_enabled")
    recorded.replay_into(emulated_microsoft)
    run = run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="support")
    assert steps(run)["read_inbox"] == ("failed", "personal_not_a_mailbox")
    assert run.error_code == "MailboxNotEnabledForRESTAPI"


def test_no_token_of_the_sign_in_reaches_a_log(
    client, alice, personal, emulated_microsoft, django_capture_on_commit_callbacks, caplog
):
    from tests.personal_mailbox import connect

    caplog.set_level(logging.DEBUG)
    client.force_login(alice)
    connect(client, personal, emulated_microsoft, django_capture_on_commit_callbacks)
    emulated_microsoft.update_user(personal.person, password="Changed-Personal-2026!")
    run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="support")
    stored = MailboxSignIn.objects.get().reveal_refresh_token()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the portal and msal did log, at DEBUG
    assert stored not in logged
    assert stored.split(".")[-1] not in logged
    assert personal.ready.secret.value not in logged
