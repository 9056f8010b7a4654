"""The verify step says what a check will send before the admin presses the button:
from and to which address, with which subject and header, not kept in Sent Items, and
how often scheduled checks send; what arrives is what the page said."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.checks.claim import check_request
from onboarding.checks.results import TEST_HEADER, TEST_SUBJECT_PREFIX
from onboarding.models import CheckRun
from onboarding.tasks import enqueue_requested, run_mailbox_check
from tests.browser.test_checks import sign_in
from tests.onboarding.check_helpers import configure, through_the_wizard


def checked_once(mailbox, broker) -> None:
    """The check a save in the wizard asked for, run, and long enough ago that
    "Run check again" is allowed."""
    enqueue_requested(check_request(mailbox=mailbox, trigger=CheckRun.Trigger.WIZARD))
    broker.deliver()
    CheckRun.objects.update(created_at=timezone.now() - timedelta(minutes=5))


def facts_on(page) -> dict[str, str]:
    section = page.get_by_role("region", name="The test message each check sends")
    section.wait_for()
    terms = section.locator("dt").all_inner_texts()
    values = section.locator("dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


def inbox_of(emulator, upn: str):
    user = next(u for d in emulator.state.directories for u in d.users if u.upn == upn)
    return user.messages


def test_the_verify_step_states_what_it_sends_before_the_button_is_pressed(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot, settings
):
    settings.PORTAL_CHECK_SEND_TO = ""
    settings.PORTAL_RECHECK_SEND_DAYS = 7
    settings.PORTAL_RECHECK_HOURS = 6
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    checked_once(mailbox, broker)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}{reverse('onboarding:verify', args=[acme.pk])}")
    facts = facts_on(page)
    assert facts["From"] == ready.mailbox.upn
    assert facts["To"] == f"{ready.mailbox.upn} (the same mailbox)"
    assert facts["Subject"].startswith(f"“{TEST_SUBJECT_PREFIX} Connection check”")
    section = page.get_by_role("region", name="The test message each check sends")
    text = section.inner_text()
    assert "It is not saved to Sent Items" in text
    assert TEST_HEADER in text
    assert "every 6 hours without sending anything" in text
    assert "at most once every 7 days" in text
    screenshot(page, "verify-says-what-it-sends")
    # The admin presses the button: what arrives is what the page said.
    before = len(inbox_of(emulated_microsoft, ready.mailbox.upn))
    page.get_by_role("button", name="Run check again").click()
    broker.deliver()
    page.locator('.check-status [data-status="passed"]').wait_for()
    arrived = inbox_of(emulated_microsoft, ready.mailbox.upn)[before:]
    assert len(arrived) == 1
    assert arrived[0].sender == ready.mailbox.upn
    assert arrived[0].subject.startswith(f"{TEST_SUBJECT_PREFIX} Connection check ")
    assert TEST_HEADER in emulated_microsoft.store.headers_of(arrived[0])


def test_the_verify_step_names_the_outside_address_when_one_is_set(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot, settings
):
    ready = ready_directory(emulated_microsoft)
    settings.PORTAL_CHECK_SEND_TO = ready.admin.upn
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    checked_once(mailbox, broker)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}{reverse('onboarding:verify', args=[acme.pk])}")
    facts = facts_on(page)
    assert facts["From"] == ready.mailbox.upn
    assert facts["To"] == ready.admin.upn
    text = page.get_by_role("region", name="The test message each check sends").inner_text()
    assert "arrives in the inbox the operations app reads" not in text
    screenshot(page, "verify-outside-address")


def test_a_scheduled_check_that_sent_nothing_says_so_on_the_check_page(
    page, live_server, alice, acme, emulated_microsoft, broker, screenshot, settings
):
    settings.PORTAL_RECHECK_SEND_DAYS = 7
    ready = ready_directory(emulated_microsoft)
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    checked_once(mailbox, broker)  # sent a test message minutes ago
    scheduled = CheckRun.objects.create(mailbox=mailbox, trigger=CheckRun.Trigger.SCHEDULE)
    before = len(inbox_of(emulated_microsoft, ready.mailbox.upn))
    run_mailbox_check.run(str(scheduled.pk))  # beat's re-check, run by the worker
    assert len(inbox_of(emulated_microsoft, ready.mailbox.upn)) == before
    sign_in(page, live_server, alice)
    url = reverse("checks:mailbox-check", kwargs={"mailbox_id": mailbox.pk})
    page.goto(f"{live_server.url}{url}")
    page.locator('.check-status [data-status="passed"]').wait_for()
    send = page.locator('[data-step="send_test"]')
    assert "Send a test message: skipped" in " ".join(send.inner_text().split())
    assert "Not sent this time: a scheduled check sends a test message at most every 7 days" in (
        send.inner_text()
    )
    assert "Sign-in, permissions and the inbox read were checked as usual." in send.inner_text()
    screenshot(page, "scheduled-check-skipped-send")
