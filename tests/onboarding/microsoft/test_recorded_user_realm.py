"""Microsoft's recorded user-realm answers, replayed through the portal's password
sign-in: a federated realm (the customer's AD FS, or Outlook.com) is refused before the
password is sent anywhere; a managed one goes on to msal."""

from __future__ import annotations

import pytest

from microsoft_emulator.scenarios import ready_directory
from onboarding import microsoft
from onboarding.checks import results as check_results
from onboarding.diagnosis import diagnose
from onboarding.microsoft import MicrosoftError
from onboarding.models import CheckRun
from onboarding.steps import MAILBOX
from tests.onboarding.check_helpers import configure, run_check, steps
from tests.recordings import load

pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")


@pytest.fixture
def delegated(emulated_microsoft):
    return ready_directory(emulated_microsoft, delegated=("Mail.Read", "Mail.Send"))


def sign_in(ready, username=None):
    return microsoft.sign_in_with_password(
        directory=ready.directory.id,
        client_id=ready.app.client_id,
        username=username or ready.mailbox.upn,
        password="Mailbox-pass-1",
    )


def failure(call, *args, **kwargs) -> MicrosoftError:
    with pytest.raises(MicrosoftError) as raised:
        call(*args, **kwargs)
    return raised.value


def password_requests(emulator) -> int:
    return emulator.counters()["grants"].get("password", 0)


@pytest.mark.parametrize("name", ["userrealm_federated", "userrealm_federated_adfs"])
def test_it_never_sends_the_password_of_a_federated_account(emulated_microsoft, delegated, name):
    recorded = load(name)
    recorded.replay_into(emulated_microsoft)
    error = failure(sign_in, delegated)
    assert (error.code, error.transient) == ("federated_domain", False)
    assert recorded.json()["domain_name"] in error.message
    # Neither msal's user-realm lookup nor any token request followed: msal never ran.
    assert emulated_microsoft.counters()["requests"]["userrealm"] == 1
    assert password_requests(emulated_microsoft) == 0


def test_it_never_sends_the_password_of_an_outlook_com_account(emulated_microsoft, delegated):
    load("userrealm_personal_account").replay_into(emulated_microsoft)
    error = failure(sign_in, delegated, username="someone@outlook.com")
    assert error.code == "personal_account"
    assert password_requests(emulated_microsoft) == 0


def test_it_signs_in_when_the_realm_is_managed(emulated_microsoft, delegated):
    load("userrealm_managed").replay_into(emulated_microsoft)
    token = sign_in(delegated)
    assert token.scopes == {"Mail.Read"}
    assert password_requests(emulated_microsoft) == 1


def test_it_reads_a_throttled_user_realm_as_throttling(emulated_microsoft, delegated):
    throttled = load("token_throttled_plain_text")
    emulated_microsoft.replay(
        "userrealm", status=throttled.status, body=throttled.body, headers=throttled.headers
    )
    error = failure(sign_in, delegated)
    assert (error.code, error.transient, error.retry_after) == ("http_429", True, 60.0)
    assert password_requests(emulated_microsoft) == 0


@pytest.mark.django_db
def test_a_federated_mailbox_password_fails_only_its_own_step_and_only_degrades(
    acme, delegated, emulated_microsoft, django_capture_on_commit_callbacks
):
    load("userrealm_federated_adfs").replay_into(emulated_microsoft)
    mailbox = configure(acme, delegated, password="Mailbox-pass-1")
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.FAILED
    recorded = steps(run)
    assert [recorded[name] for name in ("token", "read_inbox", "send_test")] == [("passed", "")] * 3
    assert recorded["password_sign_in"] == ("failed", "federated_domain")
    found = check_results.step_diagnosis(run.steps[-1])
    assert found is not None
    assert found.title == "Federated domain: password sign-in is not supported"
    assert "did not send the password" in found.explanation
    mailbox.refresh_from_db()
    assert mailbox.health == "degraded"
    assert password_requests(emulated_microsoft) == 0


def test_the_catalogue_diagnoses_a_federated_domain():
    found = diagnose("federated_domain", "The domain contoso.com is federated.")
    assert (found.key, found.wizard_step) == ("federated_domain", MAILBOX)
    assert "password sign-in is not supported" in found.title
