"""A connection that breaks: the owner changes the password, the next checks fail with
the sign-in's diagnosis, one alert reaches the owner and the admins with a "Connect
again" link, and that link (no portal account needed) connects the mailbox again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from onboarding.delegated import links
from onboarding.models import CheckRun, MailboxSignIn
from tests.onboarding.check_helpers import run_check, steps
from tests.personal_mailbox import PASSWORD, UPN, at_microsoft, callback, text

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Outlook-Changed-2026!"


def connect_link(message) -> str:
    found = re.search(r"Connect again \(one click[^:]*: (\S+)", message.body)
    assert found, message.body
    return found[1]


def test_a_password_change_fails_the_mailbox_with_one_alert_and_a_working_connect_link(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks, settings
):
    mail.outbox.clear()
    emulated_microsoft.update_user(personal.person, password=NEW_PASSWORD)
    for _ in range(settings.PORTAL_CHECK_FAILING_AFTER + 1):  # one more: still one alert
        run = run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="support")
        assert steps(run) == {"owner_token": ("failed", "sign_in_revoked")}
        assert run.error_code == "AADSTS50173"
    personal.mailbox.refresh_from_db()
    assert (personal.mailbox.health, personal.mailbox.diagnosis_code) == (
        "failing",
        "sign_in_revoked",
    )
    alerts = [m for m in mail.outbox if "has stopped working" in m.subject]
    # The owner hears of it, and the tenant's admin, and support: each once.
    assert sorted(to for m in alerts for to in m.to) == sorted(
        [UPN, "alice@acme.example", settings.SUPPORT_EMAIL]
    )
    owner_mail = next(m for m in alerts if m.to == [UPN])
    assert "password changed" in owner_mail.body
    assert connect_link(owner_mail) == connect_link(alerts[0])
    # No token or secret in any of them.
    token = MailboxSignIn.objects.get().reveal_refresh_token()
    assert not any(token in m.body for m in alerts)

    # The owner opens the link in a browser with no portal session, and signs in again.
    owner = Client()
    page = owner.get(connect_link(owner_mail).removeprefix(settings.PORTAL_BASE_URL))
    assert page.status_code == 200
    assert f"Connect {UPN} to Acme" in text(page)
    started = owner.post(connect_link(owner_mail).removeprefix(settings.PORTAL_BASE_URL))
    assert started.status_code == 302
    answer = at_microsoft(emulated_microsoft, started["Location"], UPN, NEW_PASSWORD)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = callback(owner, answer)
    assert done.status_code == 200
    assert f"{UPN} is connected" in text(done)
    run = CheckRun.objects.filter(mailbox=personal.mailbox).latest("created_at")
    assert run.status == CheckRun.Status.PASSED, run.steps
    personal.mailbox.refresh_from_db()
    assert personal.mailbox.health == "healthy"
    # The link was for one use: it is spent now.
    again = owner.get(connect_link(owner_mail).removeprefix(settings.PORTAL_BASE_URL))
    assert again.status_code == 400
    assert "This link cannot be used" in text(again)


def test_the_owners_link_is_refused_when_altered_expired_or_for_a_changed_mailbox(
    client, personal, settings
):
    token = links.owner_token(personal.mailbox)
    assert client.get(f"/onboarding/connect/{token}/").status_code == 200
    assert client.get(f"/onboarding/connect/{token}x/").status_code == 400
    with time_machine.travel(timezone.now() + links.MAX_AGE + timedelta(minutes=1)):
        assert client.get(f"/onboarding/connect/{token}/").status_code == 400
    personal.mailbox.address = "renamed@outlook.com"
    personal.mailbox.save()
    assert client.get(f"/onboarding/connect/{token}/").status_code == 400


def test_the_owners_page_says_what_is_asked_and_why_before_microsoft(client, personal):
    page = text(client.get(f"/onboarding/connect/{links.owner_token(personal.mailbox)}/"))
    for asked in ("Mail.Read", "Mail.Send", "offline_access", "User.Read"):
        assert asked in page
    assert "Your password never reaches the portal" in page
    assert "e-mails this address a link to connect it again" in page


def test_an_admin_emails_the_link_to_the_mailbox_and_it_names_who_asked(
    client, alice, personal, settings
):
    client.force_login(alice)
    url = f"/onboarding/{personal.mailbox.tenant_id}/step/5/{personal.mailbox.pk}/connect/send/"
    assert client.post(url).status_code == 302
    (sent,) = mail.outbox
    assert sent.to == [UPN]
    assert "alice@acme.example asks you to connect the mailbox someone@outlook.com" in sent.body
    found = re.search(r"(https?://\S+/onboarding/connect/\S+/)", str(sent.body))
    assert found
    assert client.get(found[1].removeprefix(settings.PORTAL_BASE_URL)).status_code == 200


def test_a_check_keeps_using_the_newest_refresh_token(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks
):
    first = connected.reveal_refresh_token()
    run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="support")
    second = MailboxSignIn.objects.get().reveal_refresh_token()
    assert second != first  # Microsoft rotated it, and the portal kept the new one
    grant = emulated_microsoft.emulator.issuer.refresh_grant(second)
    assert grant is not None
    assert grant.last_used == grant.issued


def test_a_scheduled_check_uses_the_cached_token_without_a_refresh(
    connected, personal, emulated_microsoft, django_capture_on_commit_callbacks
):
    before = emulated_microsoft.counters()["requests"].get("token", 0)
    run = run_check(personal.mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    assert run.status == CheckRun.Status.PASSED, run.steps
    assert emulated_microsoft.counters()["requests"].get("token", 0) == before


def test_a_wrong_password_at_microsoft_stores_nothing(personal, emulated_microsoft, client, alice):
    client.force_login(alice)
    from tests.personal_mailbox import start

    with pytest.raises(AssertionError):  # Microsoft's page says so; nothing comes back
        at_microsoft(emulated_microsoft, start(client, personal.mailbox), UPN, PASSWORD + "x")
    assert not MailboxSignIn.objects.exists()
