"""The check page as an admin uses it: the check runs while the page watches, each step
ticks green or opens its diagnosis, without a reload."""

from __future__ import annotations

from django.urls import reverse

from microsoft_emulator.scenarios import ready_directory
from tests.conftest import PASSWORD
from tests.onboarding.check_helpers import configure, through_the_wizard


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def test_it_shows_a_check_turn_green_step_by_step(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot
):
    mailbox = configure(acme, ready_directory(emulated_microsoft))
    sign_in(page, live_server, alice)
    url = reverse("checks:mailbox-check", kwargs={"mailbox_id": mailbox.pk})
    page.goto(f"{live_server.url}{url}")
    page.get_by_role("button", name="Run check").click()
    status = page.locator(".check-status [data-status]")
    assert status.inner_text() == "Queued"
    screenshot(page, "queued")
    broker.deliver()  # the worker picks the check up; the page is not reloaded
    page.locator('.check-status [data-status="passed"]').wait_for()
    assert page.locator(".check-step-passed").count() == 3
    # The roles in the token are shown for information beside the result.
    hint = page.locator('[data-step="permissions"]')
    assert "Roles in the token: Mail.Read, Mail.Send." in hint.inner_text()
    assert page.locator(".check-step-info").count() == 1
    screenshot(page, "passed")
    assert page.get_by_role("button", name="Run check again").is_visible()


def test_it_explains_a_pasted_secret_id(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot
):
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready, secret_value=ready.secret.key_id)
    sign_in(page, live_server, alice)
    url = reverse("checks:mailbox-check", kwargs={"mailbox_id": mailbox.pk})
    page.goto(f"{live_server.url}{url}")
    page.get_by_role("button", name="Run check").click()
    broker.deliver()
    page.locator('.check-status [data-status="failed"]').wait_for()
    page.get_by_text("The Secret ID was entered instead of the secret's Value").wait_for()
    assert "Copy the Value column right away" in page.content()
    screenshot(page, "secret-id-pasted")


def test_it_verifies_the_mailbox_live_in_the_wizard(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot
):
    ready = ready_directory(emulated_microsoft)
    configure(acme, ready)
    through_the_wizard(acme, ready)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}{reverse('onboarding:verify', args=[acme.pk])}")
    # Opening the page sends nothing: the admin starts the check.
    assert page.locator(".check-status [data-status]").inner_text() == "Not checked yet"
    page.get_by_role("button", name="Run check").click()
    assert page.locator(".check-status [data-status]").inner_text() == "Queued"
    verify_step = page.locator("#wizard-steps .wizard-step.is-current")
    assert "is-done" not in (verify_step.get_attribute("class") or "")
    screenshot(page, "verify-queued")
    broker.deliver()
    page.locator('.check-status [data-status="passed"]').wait_for()
    assert page.locator(".check-step-passed").count() == 3
    # The step list beside it ticks the step off too, without a reload.
    page.locator("#wizard-steps .wizard-step.is-current.is-done").wait_for()
    page.get_by_role("link", name="Continue").wait_for()
    screenshot(page, "verify-passed")


def test_it_sends_the_admin_from_the_diagnosis_to_the_secret_step(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot
):
    ready = ready_directory(emulated_microsoft)
    configure(acme, ready, secret_value=ready.secret.key_id)
    through_the_wizard(acme, ready)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}{reverse('onboarding:verify', args=[acme.pk])}")
    page.get_by_role("button", name="Run check").click()
    broker.deliver()
    page.get_by_text("The Secret ID was entered instead of the secret's Value").wait_for()
    screenshot(page, "verify-secret-id-pasted")
    page.get_by_role("link", name="Fix it in step 4").click()
    page.wait_for_url(f"**{reverse('onboarding:secret', args=[acme.pk])}")


def test_it_says_it_waits_for_a_consent_just_granted_and_then_passes(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot
):
    emulated_microsoft.set_consent_propagation(120)  # Microsoft's tokens lag the consent
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)  # the admin granted consent a moment ago
    sign_in(page, live_server, alice)
    url = reverse("checks:mailbox-check", kwargs={"mailbox_id": mailbox.pk})
    page.goto(f"{live_server.url}{url}")
    page.get_by_role("button", name="Run check").click()
    broker.deliver()
    page.get_by_text("Microsoft is still applying the consent granted a moment ago").wait_for()
    assert "trying again at" in page.locator(".check-status").inner_text()
    page.get_by_text("Nothing to do: the check tries again by itself.").first.wait_for()
    screenshot(page, "waiting-for-consent")
    emulated_microsoft.advance_clock(180)
    broker.deliver()  # the retry the check asked for
    page.locator('.check-status [data-status="passed"]').wait_for()
    assert page.get_by_text("Microsoft is still applying the consent").count() == 0
    screenshot(page, "passed-after-consent")


def test_it_passes_an_app_whose_mailbox_access_exchange_grants(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot
):
    # RBAC for Applications: no Entra consent, so no roles in the token, and it works.
    ready = ready_directory(emulated_microsoft, consent=False)
    emulated_microsoft.add_exchange_role_assignment(
        ready.app, ready.directory, "Application Mail Full Access", [ready.mailbox.upn]
    )
    mailbox = configure(acme, ready)
    sign_in(page, live_server, alice)
    url = reverse("checks:mailbox-check", kwargs={"mailbox_id": mailbox.pk})
    page.goto(f"{live_server.url}{url}")
    page.get_by_role("button", name="Run check").click()
    broker.deliver()
    page.locator('.check-status [data-status="passed"]').wait_for()
    assert "Roles in the token: none." in page.locator('[data-step="permissions"]').inner_text()
    assert page.get_by_text("Admin consent has not been granted").count() == 0
    screenshot(page, "passed-exchange-grant")
