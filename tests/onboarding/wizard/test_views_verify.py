"""The wizard's verify step runs the real check (emulator, real msal) and shows it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.models import CheckRun
from tests.onboarding.check_helpers import configure, request_check, through_the_wizard

pytestmark = pytest.mark.django_db


def url(name, tenant):
    return reverse(f"onboarding:{name}", args=[tenant.pk])


def open_verify_step(client, tenant, capture) -> None:
    """On step 6, press "Run check" (showing the page starts nothing) and run the check
    (on commit, eager Celery)."""
    assert "Not checked yet" in client.get(url("verify", tenant)).content.decode()
    assert not CheckRun.objects.exists()
    with capture(execute=True):
        assert client.post(url("verify", tenant)).status_code == 302


def polled_status(client, tenant) -> str:
    """The live part of step 6, as htmx polls it."""
    return client.get(url("verify-status", tenant), HTTP_HX_REQUEST="true").content.decode()


def test_it_checks_a_new_mailbox_and_opens_the_last_step(
    as_alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    configure(acme, ready)
    through_the_wizard(acme, ready)
    open_verify_step(as_alice, acme, django_capture_on_commit_callbacks)
    status = polled_status(as_alice, acme)
    assert CheckRun.objects.get().status == "passed"
    # Token, read, send; the roles in the token are a line for information.
    assert status.count("passed</strong>") == 3
    assert "Roles in the token: Mail.Read, Mail.Send." in status
    # Once a second for a few seconds more (the step list follows the result), then idle.
    assert 'hx-trigger="every 1000ms"' in status
    CheckRun.objects.update(finished_at=timezone.now() - timedelta(seconds=6))
    assert 'hx-trigger="every 30s"' in polled_status(as_alice, acme)
    assert as_alice.get(url("done", acme)).status_code == 200


def test_a_passing_check_moves_the_setup_on_and_offers_the_last_step(
    as_alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    configure(acme, ready)
    through_the_wizard(acme, ready)
    acme.onboarding_step = 6
    acme.save(update_fields=["onboarding_step"])
    open_verify_step(as_alice, acme, django_capture_on_commit_callbacks)
    acme.refresh_from_db()
    # The start page and support's lists read the step: the worker's check moves it.
    assert acme.onboarding_step == 7
    status = polled_status(as_alice, acme)
    assert f'href="{url("done", acme)}"' in status


def test_a_failing_check_offers_no_way_to_the_last_step(
    as_alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    configure(acme, ready, secret_value=ready.secret.key_id)
    through_the_wizard(acme, ready)
    open_verify_step(as_alice, acme, django_capture_on_commit_callbacks)
    status = polled_status(as_alice, acme)
    assert url("done", acme) not in status
    acme.refresh_from_db()
    assert acme.onboarding_step < 7


def test_it_links_a_pasted_secret_id_to_the_secret_step(
    as_alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    configure(acme, ready, secret_value=ready.secret.key_id)
    through_the_wizard(acme, ready)
    open_verify_step(as_alice, acme, django_capture_on_commit_callbacks)
    page = as_alice.get(url("verify", acme)).content.decode()
    assert "The Secret ID was entered instead of the secret&#x27;s Value" in page
    assert f'href="{url("secret", acme)}"' in page
    assert CheckRun.objects.count() == 1  # a failed check is not repeated by looking


def test_it_runs_the_check_again_on_request_but_not_moments_later(
    as_alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    configure(acme, ready, secret_value=ready.secret.key_id)
    through_the_wizard(acme, ready)
    open_verify_step(as_alice, acme, django_capture_on_commit_callbacks)
    response = as_alice.post(url("verify", acme), follow=True)
    assert CheckRun.objects.count() == 1
    assert "try again in" in response.content.decode()
    CheckRun.objects.update(created_at="2020-01-01T00:00Z")
    assert as_alice.post(url("verify", acme)).status_code == 302
    assert CheckRun.objects.count() == 2


def test_the_polled_status_brings_the_step_list_up_to_date(
    as_alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    configure(acme, ready)
    through_the_wizard(acme, ready)
    open_verify_step(as_alice, acme, django_capture_on_commit_callbacks)
    status = polled_status(as_alice, acme)
    assert 'id="wizard-steps" class="wizard-nav" aria-label="Setup steps" hx-swap-oob="true"' in (
        status
    )
    assert "wizard-step is-done is-current" in status  # the verify step, passed
    # The secret stops working; the next polled status shows the step as not done.
    emulated_microsoft.set_fault("graph.messages", error_share=1.0, error_status=401)
    with django_capture_on_commit_callbacks(execute=True):
        request_check(mailbox=acme.mailboxes.get(), trigger="wizard")
    status = polled_status(as_alice, acme)
    assert "wizard-step is-todo is-current" in status
    # The full page has one step list, without the out-of-band marker.
    page = as_alice.get(url("verify", acme)).content.decode()
    assert page.count('id="wizard-steps"') == 1
    assert "hx-swap-oob" not in page
