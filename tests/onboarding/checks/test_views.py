"""The check page and its status fragment: tenant isolation, rate limit, diagnosis."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microsoft_emulator.scenarios import ready_directory
from onboarding.checks.results import FAST_POLL_MS
from onboarding.models import CheckRun, Mailbox
from tests.onboarding.check_helpers import configure, through_the_wizard
from tests.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(acme, emulated_microsoft):
    return configure(acme, ready_directory(emulated_microsoft))


def page(mailbox: Mailbox) -> str:
    return reverse("checks:mailbox-check", kwargs={"mailbox_id": mailbox.pk})


def test_it_runs_a_check_and_shows_each_step(
    client, alice, mailbox, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(mailbox))
    response = client.get(page(mailbox))
    run = CheckRun.objects.get()
    assert (run.status, run.trigger, run.requested_by) == ("passed", "wizard", alice)
    assert response.status_code == 200
    assert response.content.decode().count("passed") >= 4
    assert b"Run check again" in response.content


def test_it_refuses_a_second_check_moments_after_the_first(
    client, alice, mailbox, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(mailbox))
    response = client.post(page(mailbox), follow=True)
    assert CheckRun.objects.count() == 1
    assert b"try again in" in response.content


def test_it_shows_the_diagnosis_with_microsofts_code(
    client, alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready, secret_value=ready.secret.key_id)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(mailbox))
    body = client.get(page(mailbox)).content.decode()
    assert "The Secret ID was entered instead of the secret&#x27;s Value" in body
    assert "Copy the Value column right away" in body


def test_it_polls_the_fragment_only_while_the_check_runs(client, alice, mailbox):
    run = CheckRun.objects.create(mailbox=mailbox, trigger="wizard")
    client.force_login(alice)
    url = reverse("checks:check-status", kwargs={"check_run_id": run.pk})
    # Four times a second while it starts (onboarding.checks.results.poll_ms).
    assert b'hx-trigger="every 250ms"' in client.get(url).content
    CheckRun.objects.filter(pk=run.pk).update(status="passed")
    response = client.get(url)
    assert response.status_code == 200
    assert b"hx-trigger" not in response.content


def test_it_hides_another_tenants_mailbox_and_runs(client, bob, mailbox):
    run = CheckRun.objects.create(mailbox=mailbox, trigger="wizard")
    client.force_login(bob)
    assert client.get(page(mailbox)).status_code == 404
    assert client.post(page(mailbox)).status_code == 404
    status = reverse("checks:check-status", kwargs={"check_run_id": run.pk})
    assert client.get(status).status_code == 404
    assert CheckRun.objects.count() == 1


def test_it_lets_support_check_any_mailbox(
    client, charlie, mailbox, django_capture_on_commit_callbacks
):
    sign_in_verified(client, charlie)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(page(mailbox)).status_code == 302
    assert CheckRun.objects.get().trigger == "support"


def test_it_requires_sign_in_and_refuses_other_methods(client, alice, mailbox):
    assert client.get(page(mailbox)).status_code == 302
    client.force_login(alice)
    assert client.put(page(mailbox)).status_code == 405
    assert client.get("/checks/mailboxes/not-a-uuid/").status_code == 404


def test_it_renders_no_template_comment(client, alice, mailbox):
    CheckRun.objects.create(mailbox=mailbox, trigger="wizard")
    client.force_login(alice)
    assert b"The live status" not in client.get(page(mailbox)).content


def test_it_links_an_expired_secret_to_the_renewal_page(
    client, alice, acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    ready = ready_directory(emulated_microsoft)
    expired = emulated_microsoft.add_secret(ready.app, days=-1)
    mailbox = configure(acme, ready, secret_value=expired.value)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(mailbox))
    body = client.get(page(mailbox)).content.decode()
    assert f'href="{reverse("onboarding:renew-secret", args=[acme.pk])}"' in body
    assert "Renew the secret" in body


def test_the_verify_step_polls_fast_while_its_check_starts_and_slowly_once_done(
    client, alice, acme, emulated_microsoft
):
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    run = CheckRun.objects.create(mailbox=mailbox, trigger="wizard")
    client.force_login(alice)
    status = reverse("onboarding:verify-status", args=[acme.pk])
    assert f'hx-trigger="every {FAST_POLL_MS}ms"' in client.get(status).content.decode()
    CheckRun.objects.filter(pk=run.pk).update(status="passed")
    assert 'hx-trigger="every 30s"' in client.get(status).content.decode()


def test_the_check_page_states_the_test_message_before_the_first_check(
    client, alice, mailbox, settings
):
    settings.PORTAL_CHECK_SEND_TO = ""
    client.force_login(alice)
    body = client.get(page(mailbox)).content.decode()
    assert "This mailbox has not been checked yet." in body
    assert f"from {mailbox.address} to {mailbox.address} (the same mailbox)" in body
    assert "“[Mailbox portal check] Connection check”" in body
    assert "X-Mailbox-Portal-Check" in body
