"""The check of a tenant limited to its mailboxes (RBAC for Applications), through the
real task and msal against the emulator: the mailbox's steps and the read of an address
outside the scope, for each combination of Entra consent and Exchange assignments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.diagnosis import CATALOGUE
from onboarding.models import CheckRun, MailboxScope
from onboarding.scope import proof
from onboarding.scope.commands import commands_for
from tests.microsoft_emulator.test_exchange_scopes import entra_object_id
from tests.onboarding.check_helpers import configure, request_check, run_check, steps

pytestmark = pytest.mark.django_db

OTHER = "sales@contoso.onmicrosoft.com"
READ, SEND = "Application Mail.Read", "Application Mail.Send"


@pytest.fixture
def ready(emulated_microsoft):
    """Contoso's app without Entra Mail consent, and a mailbox the app must not reach."""
    ready = ready_directory(emulated_microsoft, consent=False)
    emulated_microsoft.add_user(ready.directory, OTHER, "Sl-pass-1")
    return ready


@pytest.fixture
def limited(acme, ready, emulated_microsoft):
    mailbox = configure(acme, ready)
    MailboxScope.objects.create(
        tenant=acme,
        service_principal_object_id=entra_object_id(emulated_microsoft, ready),
        probe_address=OTHER,
    )
    return mailbox


def run_generated(emulator, ready):
    commands = commands_for(
        client_id=ready.app.client_id,
        service_principal_object_id=entra_object_id(emulator, ready),
        display_name="Mail connector",
        scope_name="Mail connector mailboxes",
        mailboxes=[ready.mailbox.upn],
    )
    run = emulator.exchange_commands(ready.directory, [c.text for c in commands.setup])
    assert run.ok, run.results


def test_the_generated_commands_without_entra_consent_pass_with_the_scope_proved(
    limited, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    run_generated(emulated_microsoft, ready)
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.PASSED, run.steps
    assert steps(run) == {
        "token": ("passed", ""),
        "permissions": ("info", ""),
        "read_inbox": ("passed", ""),
        "send_test": ("passed", ""),
        "scope_proof": ("passed", ""),
    }
    assert OTHER in run.steps[-1]["message"]


def test_entra_consent_granted_again_fails_the_check_by_name(
    limited, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    run_generated(emulated_microsoft, ready)
    emulated_microsoft.grant_admin_consent(ready.app, ready.directory)
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.FAILED
    assert steps(run)["read_inbox"] == ("passed", "")
    assert steps(run)["scope_proof"] == ("failed", "scope_entra_consent_granted")
    assert run.diagnosis_key == "scope_entra_consent_granted"
    limited.refresh_from_db()
    assert limited.health == "degraded"  # mail works; the limit does not hold


def test_a_scope_matching_everyone_is_too_wide(
    limited, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    for role in (READ, SEND):
        emulated_microsoft.add_exchange_role_assignment(ready.app, ready.directory, role)
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert run.diagnosis_key == "scope_too_wide"
    assert steps(run)["read_inbox"] == ("passed", "")


@pytest.mark.parametrize(
    ("roles", "read", "send"),
    [
        ([READ], ("passed", ""), ("failed", "scope_missing_send")),
        ([SEND], ("failed", "scope_missing_read"), ("passed", "")),
        ([], ("failed", "scope_reaches_nothing"), ("failed", "scope_reaches_nothing")),
    ],
)
def test_commands_run_in_part_name_what_is_missing(
    limited, ready, emulated_microsoft, django_capture_on_commit_callbacks, roles, read, send
):
    for role in roles:
        emulated_microsoft.add_exchange_role_assignment(
            ready.app, ready.directory, role, [ready.mailbox.upn]
        )
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == read
    assert steps(run)["send_test"] == send
    assert steps(run)["scope_proof"] == ("passed", "")
    assert run.status == CheckRun.Status.FAILED


def test_a_scope_that_leaves_out_the_mailbox_is_named(
    limited, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    for role in (READ, SEND):
        emulated_microsoft.add_exchange_role_assignment(ready.app, ready.directory, role, [OTHER])
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert steps(run)["read_inbox"] == ("failed", "scope_excludes_mailbox")
    assert steps(run)["scope_proof"] == ("failed", "scope_too_wide")
    assert run.diagnosis_key == "scope_excludes_mailbox"


def test_a_probe_outside_the_directory_proves_nothing(
    acme, limited, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    run_generated(emulated_microsoft, ready)
    MailboxScope.objects.filter(tenant=acme).update(probe_address="someone@fabrikam.example")
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert steps(run)["scope_proof"] == ("failed", "scope_probe_unusable")
    assert run.status == CheckRun.Status.FAILED


def test_a_probe_equal_to_the_mailbox_is_refused_without_asking_graph(
    acme, limited, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    run_generated(emulated_microsoft, ready)
    MailboxScope.objects.filter(tenant=acme).update(probe_address=ready.mailbox.upn.upper())
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert steps(run)["scope_proof"] == ("failed", "scope_probe_connected")


def test_an_unfinished_scope_page_fails_the_proof(
    acme, limited, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    run_generated(emulated_microsoft, ready)
    MailboxScope.objects.filter(tenant=acme).update(probe_address="")
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert steps(run)["scope_proof"] == ("failed", "scope_probe_missing")


def test_refusals_just_after_the_commands_wait_for_exchange_then_pass(
    acme, limited, ready, emulated_microsoft, broker, django_capture_on_commit_callbacks
):
    # Exchange applies the commands 50 minutes later (Microsoft: 30 minutes to 2 hours).
    emulated_microsoft.set_exchange_propagation(3000)
    run_generated(emulated_microsoft, ready)
    MailboxScope.objects.filter(tenant=acme).update(commands_run_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        run = request_check(mailbox=limited, trigger="wizard")
    broker.deliver()
    run.refresh_from_db()
    assert run.status == CheckRun.Status.QUEUED
    assert steps(run)["read_inbox"] == ("failed", "scope_propagating")
    assert CATALOGUE["scope_propagating"].transient
    [(_, countdown)] = broker.queued
    assert countdown == proof.SCOPE_RETRY_SECONDS
    # Past the check's usual attempts: the wait is bounded by the two hours instead.
    while broker.queued:
        emulated_microsoft.advance_clock(proof.SCOPE_RETRY_SECONDS)
        broker.deliver()
    run.refresh_from_db()
    assert run.status == CheckRun.Status.PASSED, run.steps
    assert run.attempts == 6


def test_refusals_two_hours_after_the_commands_fail(
    acme, limited, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    ran = timezone.now() - proof.SCOPE_SETTLING - timedelta(minutes=1)
    MailboxScope.objects.filter(tenant=acme).update(commands_run_at=ran)
    run = run_check(limited, django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.FAILED
    assert run.diagnosis_key == "scope_reaches_nothing"


def test_a_tenant_wide_tenant_has_no_scope_proof(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert "scope_proof" not in steps(run)
    assert run.status == CheckRun.Status.PASSED


def test_graphs_recorded_refusal_outside_a_scope_proves_the_scope():
    """The recorded 403 (tests/recordings/graph_rbac_mailbox_out_of_scope.json) read as
    the portal reads any Graph error, then as the scope proof reads it."""
    import json

    from onboarding.checks import results
    from onboarding.diagnosis import diagnose
    from tests.recordings import load

    recording = load("graph_rbac_mailbox_out_of_scope")
    error = json.loads(recording.body)["error"]
    found = diagnose(error["code"], error["message"], status=recording.status)
    assert found.key == "access_denied"  # not the legacy access policy's RAOP
    done = [
        results.passed("read_inbox", 1),
        results.passed("send_test", 1),
        results.failed(proof.PROBE_STEP, found, error["code"], error["message"]),
    ]
    proof.conclude(done, frozenset(), OTHER)
    assert done[-1]["outcome"] == "passed"
    assert done[-1]["message"] == proof.PROBE_REFUSED.format(address=OTHER)
