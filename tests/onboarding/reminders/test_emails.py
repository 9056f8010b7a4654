from __future__ import annotations

import email
import re
import socket
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.urls import resolve

from onboarding import tasks
from onboarding.models import ReminderDispatch, Tenant
from onboarding.reminders import digest as reminder_digest
from onboarding.reminders import dispatch as reminder_dispatch
from onboarding.reminders import scan as reminder_scan
from tests.onboarding.secrets_factory import make_secret

UTC = ZoneInfo("UTC")


def at(year: int, month: int, day: int, hour: int = 6, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def run_scan(django_capture_on_commit_callbacks):
    """Run the beat's scan task at a moment; its sends run inline once it commits."""

    def run(moment: datetime) -> int:
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return tasks.scan_expiring_secrets()

    return run


def parts(message: mail.EmailMessage) -> tuple[str, str]:
    assert isinstance(message, mail.EmailMultiAlternatives)
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return str(message.body), str(html)


def test_it_tells_what_expires_when_and_links_to_renewal(acme, alice, run_scan, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    secret = make_secret(acme, date(2025, 6, 30), hint="Xy7")
    assert run_scan(at(2025, 6, 23)) == 1
    (message,) = mail.outbox
    assert (
        message.subject == "The client secret of Acme Logistics expires in 7 days, on 30 June 2025"
    )
    assert message.to == ["alice@acme.example"]
    text, html = parts(message)
    link = f"https://portal.example.com/onboarding/{acme.pk}/renew/"
    for body in (text, html):
        assert "Monday 30 June 2025" in body
        assert "stops reading and sending your mail" in body
        assert "Xy7" in body
        assert str(secret.secret_id) in body
        assert str(acme.app_registration.client_id) in body
    assert link in text
    assert f'href="{link}"' in html
    assert secret.reveal() not in text + html + message.subject


def test_it_says_mail_has_stopped_once_expired(acme, alice, run_scan):
    make_secret(acme, date(2025, 6, 30))
    run_scan(at(2025, 7, 7))
    (message,) = mail.outbox
    assert message.subject.startswith("Mail has stopped: the client secret of Acme Logistics")
    text, html = parts(message)
    assert "7 days ago. Mail HAS STOPPED" in text
    assert "<strong>Mail has stopped:</strong>" in html


def test_it_says_today_on_the_day_in_the_tenants_time_zone(acme, alice, run_scan):
    # 04:30 UTC on 10 March 2025 is already 10 March in New York (daylight time).
    Tenant.objects.filter(pk=acme.pk).update(time_zone="America/New_York")
    make_secret(acme, date(2025, 3, 10))
    run_scan(at(2025, 3, 10, 4, 30))
    (message,) = mail.outbox
    assert message.subject == "Today the client secret of Acme Logistics expires: renew it now"
    assert "dates in America/New_York time" in parts(message)[0]


def test_it_writes_names_plainly_in_text_and_escaped_in_html(alice, acme, run_scan):
    Tenant.objects.filter(pk=acme.pk).update(name="Acme & <Sons>")
    make_secret(acme, date(2025, 6, 30))
    run_scan(at(2025, 6, 23))
    (message,) = mail.outbox
    text, html = parts(message)
    assert "Acme & <Sons>" in message.subject
    assert "Acme & <Sons>" in text
    assert "Acme &amp; &lt;Sons&gt;" in html
    assert "<Sons>" not in html


def test_it_sends_a_second_scans_reminders_never(acme, alice, run_scan):
    make_secret(acme, date(2025, 6, 30))
    assert run_scan(at(2025, 6, 23)) == 1
    assert run_scan(at(2025, 6, 23, 18)) == 0
    assert len(mail.outbox) == 1


def test_it_tells_the_notification_addresses_too(acme, alice, run_scan):
    acme.notification_addresses.create(email="it@acme.example")
    make_secret(acme, date(2025, 6, 30))
    run_scan(at(2025, 6, 23))
    assert mail.outbox[0].to == ["alice@acme.example", "it@acme.example"]
    assert ReminderDispatch.objects.get().recipients == 2


# --- A real SMTP server ---------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    yield inbox
    controller.stop()


def test_it_delivers_the_reminder_over_smtp(acme, alice, run_scan, smtp_inbox, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    acme.notification_addresses.create(email="it@acme.example")
    make_secret(acme, date(2025, 6, 30), hint="Xy7")
    run_scan(at(2025, 6, 27))
    (recipients, message), *_ = smtp_inbox.received
    assert len(smtp_inbox.received) == 1
    assert recipients == ["alice@acme.example", "it@acme.example"]
    assert message["Subject"] == (
        "The client secret of Acme Logistics expires in 3 days, on 30 June 2025"
    )
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "expires in 3 days, on Monday 30 June 2025" in text
    assert "expires in <strong>3 days</strong>" in html
    (link,) = re.findall(r'href="([^"]+)"', html)
    assert link in text
    assert link.startswith("https://portal.example.com/")
    match = resolve(urlsplit(link).path)
    assert (match.view_name, match.kwargs) == ("onboarding:renew-secret", {"tenant_id": acme.pk})
    assert ReminderDispatch.objects.get().status == "sent"


def test_it_keeps_the_reminder_for_a_retry_when_smtp_is_down(acme, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    make_secret(acme, date(2025, 6, 30))
    with time_machine.travel(at(2025, 6, 23), tick=False):
        (dispatch_id,) = reminder_scan.scan().claimed
        with pytest.raises(ConnectionRefusedError):
            reminder_dispatch.send(dispatch_id)
    dispatch = ReminderDispatch.objects.get()
    assert (dispatch.status, dispatch.error) == ("claimed", "ConnectionRefusedError")
    assert dispatch.lease_until == at(2025, 6, 23)


# --- The digest for support ------------------------------------------------------------


def test_it_sends_support_the_days_reminders_and_what_expires_soon(
    acme, alice, globex, run_scan, settings
):
    settings.SUPPORT_EMAIL = "support@vendor.example"
    make_secret(acme, date(2025, 6, 30), hint="Ac1")
    make_secret(globex, date(2025, 6, 25), hint="Gl1")  # Globex has nobody to tell.
    make_secret(globex, date(2025, 9, 1), status="retired", hint="Old")
    run_scan(at(2025, 6, 23))
    mail.outbox.clear()
    with time_machine.travel(at(2025, 6, 23, 7), tick=False):
        assert reminder_digest.send_digest() is True
    (message,) = mail.outbox
    assert message.to == ["support@vendor.example"]
    assert message.subject == (
        "Expiry reminders for 23 June 2025: 1 sent, 1 failed, 2 secrets expiring"
    )
    text, html = parts(message)
    assert "Acme Logistics: secret Ac1... " in text
    assert "7-day reminder to 1 address at 06:00" in text
    assert "Globex Freight: secret Gl1... " in text
    assert "No admin or address to tell." in text
    assert "expires 25 June 2025" in text
    assert "Old" not in text
    assert "7-day reminder to 1 address" in html


def test_it_sends_the_digest_once_a_day(acme, alice, run_scan):
    make_secret(acme, date(2025, 6, 30))
    run_scan(at(2025, 6, 23))
    mail.outbox.clear()
    with time_machine.travel(at(2025, 6, 24), tick=False):
        assert tasks.send_reminder_digest() is True
        assert tasks.send_reminder_digest() is False
    assert len(mail.outbox) == 1


def test_it_sends_no_digest_when_nothing_happened(acme, alice):
    make_secret(acme, date(2026, 6, 30))
    with time_machine.travel(at(2025, 6, 24), tick=False):
        assert reminder_digest.send_digest() is False
    assert mail.outbox == []


def test_it_lists_expired_secrets_still_in_use_in_the_digest(acme, alice):
    make_secret(acme, date(2025, 6, 1), hint="Exp")
    with time_machine.travel(at(2025, 6, 24), tick=False):
        reminder_digest.send_digest()
    assert "secret Exp... " in mail.outbox[0].body
    assert "EXPIRED on 1 June 2025" in mail.outbox[0].body
