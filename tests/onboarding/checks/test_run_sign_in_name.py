"""The check of a mailbox whose address is not its sign-in name (an alias, a hybrid
directory), and Microsoft's recorded answers for mailboxes it cannot use, through the
real task and msal against the emulator."""

from __future__ import annotations

import pytest

from microsoft_emulator.scenarios import ready_directory
from onboarding.checks.run import TEST_SUBJECT
from onboarding.diagnosis import CATALOGUE
from onboarding.models import Mailbox
from onboarding.steps import MAILBOX
from tests.onboarding.check_helpers import configure, run_check, steps
from tests.recordings import load

pytestmark = pytest.mark.django_db

ALIAS = "orders@contoso.com"


@pytest.fixture
def ready(emulated_microsoft):
    found = ready_directory(emulated_microsoft, delegated=("Mail.Read",))
    emulated_microsoft.update_user(found.mailbox, mail="dispatch@contoso.com")
    emulated_microsoft.update_user(found.mailbox, proxy_addresses=[f"smtp:{ALIAS}"])
    return found


def with_upn(mailbox: Mailbox, upn: str) -> Mailbox:
    mailbox.upn = upn
    mailbox.save()
    return mailbox


def test_it_checks_an_alias_by_its_upn_and_sends_the_test_to_the_alias(
    acme, ready, django_capture_on_commit_callbacks
):
    mailbox = with_upn(configure(acme, ready, address=ALIAS), ready.mailbox.upn)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == "passed", run.steps
    delivered = ready.mailbox.messages[-1]
    assert delivered.subject == TEST_SUBJECT.format(id=run.pk)
    assert delivered.to == [ALIAS]


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_it_signs_in_with_the_password_as_the_upn(acme, ready, django_capture_on_commit_callbacks):
    mailbox = configure(acme, ready, address=ALIAS, password="Mailbox-pass-1")
    run = run_check(with_upn(mailbox, ready.mailbox.upn), django_capture_on_commit_callbacks)
    assert steps(run)["password_sign_in"] == ("passed", "")


def test_without_the_upn_an_alias_is_an_unknown_user_fixed_in_step_5(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    # Microsoft's recorded answer to sendMail from an address that is not the UPN; the
    # inbox read gets the emulator's own answer to the same mistake.
    load("graph_sendmail_invalid_user_alias").replay_into(emulated_microsoft)
    run = run_check(configure(acme, ready, address=ALIAS), django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", "unknown_user")
    assert steps(run)["send_test"] == ("failed", "unknown_user")
    assert run.error_code == "ErrorInvalidUser"
    assert emulated_microsoft.counters()["injected"] == {"graph.sendMail:replay": 1}
    found = CATALOGUE["unknown_user"]
    assert found.wizard_step == MAILBOX
    assert "alias" in found.explanation
    assert any('"User principal name (if different)"' in line for line in found.fix)


@pytest.mark.parametrize(
    ("recording", "step"),
    [
        ("graph_messages_mailbox_not_enabled", "read_inbox"),
        ("graph_messages_resource_not_found", "read_inbox"),
        ("graph_sendmail_resource_not_found", "send_test"),
    ],
)
def test_it_diagnoses_microsofts_answers_for_a_mailbox_it_cannot_reach(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks, recording, step
):
    recorded = load(recording)
    recorded.replay_into(emulated_microsoft)
    mailbox = with_upn(configure(acme, ready, address=ALIAS), ready.mailbox.upn)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)[step] == ("failed", "no_mailbox")
    assert run.error_code == recorded.json()["error"]["code"]
    assert run.correlation_id == recorded.json()["error"]["innerError"]["request-id"]


@pytest.mark.parametrize("code", ["MailboxNotEnabledForRESTAPI", "ResourceNotFound"])
def test_it_diagnoses_the_emulators_own_answers_for_a_user_without_a_mailbox(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks, code
):
    emulated_microsoft.update_user(ready.mailbox, mailbox=False, no_mailbox_code=code)
    mailbox = with_upn(configure(acme, ready, address=ALIAS), ready.mailbox.upn)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", "no_mailbox")
    assert steps(run)["send_test"] == ("failed", "no_mailbox")
    assert run.error_code == code
