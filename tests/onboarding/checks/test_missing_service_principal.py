"""A check whose app lost its enterprise application (service principal) in the customer's
directory: Microsoft's AADSTS7000229 in plain words, with the way back through step 3.
Against the emulator's own answer, and against the recorded one replayed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microsoft_emulator.scenarios import ready_directory
from onboarding.diagnosis import CATALOGUE, diagnose, fix_path
from onboarding.models import CheckRun
from onboarding.steps import PERMISSIONS
from tests.onboarding.check_helpers import configure, run_check, steps
from tests.recordings import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


def check_page(mailbox) -> str:
    return reverse("checks:mailbox-check", kwargs={"mailbox_id": mailbox.pk})


def test_it_maps_aadsts7000229_to_the_missing_enterprise_application():
    found = diagnose("AADSTS7000229", "The client application … is missing service principal")
    assert (found.key, found.wizard_step) == ("service_principal_missing", PERMISSIONS)
    assert "enterprise application" in found.explanation
    assert any("Grant admin consent" in line for line in found.fix)


def test_it_keeps_aadsts700016_for_a_client_id_the_directory_does_not_know():
    assert diagnose("AADSTS700016").key == "app_not_found"


def test_it_diagnoses_a_deleted_service_principal_and_links_to_step_3(
    client, alice, acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    emulated_microsoft.delete_service_principal(ready.app, ready.directory)
    mailbox = configure(acme, ready)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.FAILED
    assert (run.diagnosis_key, run.error_code) == ("service_principal_missing", "AADSTS7000229")
    assert steps(run)["token"] == ("failed", "service_principal_missing")
    client.force_login(alice)
    body = client.get(check_page(mailbox)).content.decode()
    assert CATALOGUE["service_principal_missing"].title.replace("'", "&#x27;") in body
    step_3 = reverse("onboarding:permissions", args=[acme.pk])
    assert fix_path(tenant_id=acme.pk, diagnosis=CATALOGUE["service_principal_missing"]) == step_3
    assert f'href="{step_3}"' in body
    assert "Fix it in step 3" in body


def test_it_passes_again_once_admin_consent_recreated_it(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    emulated_microsoft.delete_service_principal(ready.app, ready.directory)
    mailbox = configure(acme, ready)
    assert run_check(mailbox, django_capture_on_commit_callbacks).status == "failed"
    emulated_microsoft.grant_admin_consent(ready.app, ready.directory)
    assert run_check(mailbox, django_capture_on_commit_callbacks).status == "passed"


def test_it_diagnoses_the_recorded_aadsts7000229(
    acme, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    load("token_missing_service_principal").replay_into(emulated_microsoft)
    run = run_check(configure(acme, ready), django_capture_on_commit_callbacks)
    assert (run.diagnosis_key, run.error_code) == ("service_principal_missing", "AADSTS7000229")
    assert run.correlation_id == "3a6a7f72-a358-4034-8ee1-639c13a6b321"
    assert run.attempts == 1  # permanent: not retried
    assert emulated_microsoft.counters()["injected"] == {"token:replay": 1}
