from __future__ import annotations

from datetime import date, datetime, timedelta
from smtplib import SMTPServerDisconnected
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from onboarding.models import (
    AuditEvent,
    ClientSecret,
    Membership,
    ReminderDispatch,
    Tenant,
    local_today,
)
from onboarding.reminders import dispatch as reminder_dispatch
from onboarding.reminders import scan as reminder_scan
from tests.onboarding.secrets_factory import make_secret

UTC = ZoneInfo("UTC")
DAYS = (30, 14, 7, 3, 1, 0)


def at(year: int, month: int, day: int, hour: int = 6, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def scan_at(moment: datetime) -> list[int]:
    """The thresholds a scan at `moment` claims."""
    with time_machine.travel(moment, tick=False):
        claimed = reminder_scan.scan().claimed
    return sorted(
        ReminderDispatch.objects.filter(pk__in=claimed).values_list("threshold", flat=True)
    )


def daily_scans(first: datetime, last: datetime) -> dict[date, list[int]]:
    """Scan once a day at the same UTC time; the UTC dates on which anything was claimed."""
    claimed, moment = {}, first
    while moment <= last:
        if thresholds := scan_at(moment):
            claimed[moment.date()] = thresholds
        moment += timedelta(days=1)
    return claimed


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        *[(31, None), (30, 30), (29, 30), (8, 14), (7, 7), (5, 7), (1, 1), (0, 0), (-1, 0)],
        *[(-6, 0), (-7, -7), (-13, -7), (-14, -14), (-71, -70)],
    ],
)
def test_it_picks_the_most_recent_threshold_crossed(days_left, expected):
    assert reminder_scan.due_threshold(days_left, DAYS) == expected


def test_it_reads_the_thresholds_from_settings(settings):
    settings.REMINDER_DAYS = (10, 2)
    assert (
        reminder_scan.due_threshold(11),
        reminder_scan.due_threshold(9),
        reminder_scan.due_threshold(0),
    ) == (
        None,
        10,
        2,
    )


def test_it_counts_days_in_the_tenants_time_zone():
    moment = at(2025, 6, 1, 23, 30)
    assert local_today("UTC", moment) == date(2025, 6, 1)
    assert local_today("Europe/Berlin", moment) == date(2025, 6, 2)
    assert local_today("America/New_York", moment) == date(2025, 6, 1)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_it_falls_back_to_utc_for_a_zone_it_does_not_know(name, caplog):
    assert local_today(name, at(2025, 6, 1, 23, 30)) == date(2025, 6, 1)
    assert "Unknown time zone" in caplog.text


def test_it_claims_each_threshold_once_on_its_day_then_weekly(acme):
    make_secret(acme, date(2025, 6, 30))
    assert daily_scans(at(2025, 5, 1), at(2025, 7, 15)) == {
        date(2025, 5, 31): [30],
        date(2025, 6, 16): [14],
        date(2025, 6, 23): [7],
        date(2025, 6, 27): [3],
        date(2025, 6, 29): [1],
        date(2025, 6, 30): [0],
        date(2025, 7, 7): [-7],
        date(2025, 7, 14): [-14],
    }


def test_it_follows_the_tenants_date_when_clocks_go_forward(acme):
    # 04:30 UTC is 23:30 the day before in New York until 9 March 2025, then 00:30
    # the same day: the local 9 March is never scanned, so the 1-day reminder is
    # overtaken by the one on the day, and nothing is sent on a UTC date.
    Tenant.objects.filter(pk=acme.pk).update(time_zone="America/New_York")
    make_secret(acme, date(2025, 3, 10))
    assert daily_scans(at(2025, 2, 20, 4, 30), at(2025, 3, 12, 4, 30)) == {
        date(2025, 2, 20): [30],
        date(2025, 2, 25): [14],
        date(2025, 3, 4): [7],
        date(2025, 3, 8): [3],
        date(2025, 3, 10): [0],
    }


def test_it_follows_the_tenants_date_when_clocks_go_back(acme):
    # After 2 November 2025 04:30 UTC is 23:30 the day before in New York: the scans
    # of 2 and 3 November both fall on the local 2 November, and claim once.
    Tenant.objects.filter(pk=acme.pk).update(time_zone="America/New_York")
    make_secret(acme, date(2025, 11, 9))
    assert daily_scans(at(2025, 10, 31, 4, 30), at(2025, 11, 11, 4, 30)) == {
        date(2025, 10, 31): [14],
        date(2025, 11, 2): [7],
        date(2025, 11, 7): [3],
        date(2025, 11, 9): [1],
        date(2025, 11, 10): [0],
    }


def test_it_sends_only_the_latest_missed_threshold_after_a_gap(acme, alice):
    make_secret(acme, date(2025, 6, 30))
    assert scan_at(at(2025, 5, 31)) == [30]
    assert scan_at(at(2025, 6, 28)) == [3]
    assert scan_at(at(2025, 6, 28, 7)) == []
    assert sorted(ReminderDispatch.objects.values_list("threshold", flat=True)) == [3, 30]


def test_it_creates_nothing_twice_on_a_second_scan(acme):
    make_secret(acme, date(2025, 6, 30))
    make_secret(acme, date(2025, 6, 30), hint="xyz")
    assert scan_at(at(2025, 6, 23)) == [7, 7]
    assert scan_at(at(2025, 6, 23, 6, 1)) == []
    assert ReminderDispatch.objects.count() == 2


def test_it_claims_a_row_for_the_first_caller_only(acme):
    secret = make_secret(acme, date(2025, 6, 30))
    wanted = [(secret.pk, secret.expires_on, 7)]
    (claimed,) = reminder_scan.claim(wanted, at(2025, 6, 23))
    assert reminder_scan.claim(wanted, at(2025, 6, 23, 7)) == []
    dispatch = ReminderDispatch.objects.get()
    assert (dispatch.pk, dispatch.status, dispatch.attempts) == (claimed, "claimed", 0)
    assert dispatch.lease_until == at(2025, 6, 23, 6, 15)


def test_it_starts_afresh_when_the_expiry_changes(acme):
    secret = make_secret(acme, date(2025, 6, 30))
    assert scan_at(at(2025, 6, 23)) == [7]
    ClientSecret.objects.filter(pk=secret.pk).update(expires_on=date(2025, 12, 31))
    assert scan_at(at(2025, 12, 24)) == [7]
    assert set(ReminderDispatch.objects.values_list("expires_on", flat=True)) == {
        date(2025, 6, 30),
        date(2025, 12, 31),
    }


@pytest.mark.parametrize(
    "status",
    [ClientSecret.Status.RETIRED, ClientSecret.Status.PENDING, ClientSecret.Status.REJECTED],
)
def test_it_reminds_nobody_of_a_secret_not_in_use(acme, status):
    make_secret(acme, date(2025, 6, 30), status=status)
    assert daily_scans(at(2025, 5, 25), at(2025, 7, 10)) == {}


def test_it_stops_once_a_longer_lived_secret_replaces_it(acme):
    make_secret(acme, date(2025, 6, 30))
    assert scan_at(at(2025, 6, 23)) == [7]
    make_secret(acme, date(2027, 6, 30), hint="new")
    assert daily_scans(at(2025, 6, 24), at(2025, 7, 10)) == {}


def test_it_marks_the_tenant_expired_once_the_secret_in_use_has_expired(acme, globex):
    make_secret(acme, date(2025, 6, 30))
    make_secret(globex, date(2025, 6, 30))
    make_secret(globex, date(2026, 6, 30), hint="new")
    scan_at(at(2025, 6, 30))
    assert Tenant.objects.get(pk=acme.pk).health == Tenant.Health.UNKNOWN
    with time_machine.travel(at(2025, 7, 1), tick=False):
        assert reminder_scan.scan().expired_tenants == 1
    healths = dict(Tenant.objects.values_list("name", "health"))
    assert healths == {acme.name: Tenant.Health.EXPIRED, globex.name: Tenant.Health.UNKNOWN}


def test_it_records_the_change_to_expired_once(acme):
    make_secret(acme, date(2025, 6, 30))
    scan_at(at(2025, 7, 1))
    scan_at(at(2025, 7, 2))
    (event,) = AuditEvent.objects.filter(action="tenant.expired")
    assert (event.tenant_id, event.details) == (acme.pk, {"previous": "unknown"})


def test_it_uses_as_many_queries_for_fifty_due_secrets_as_for_two(acme):
    def queries_for(count: int, expires_on: date) -> int:
        for _ in range(count):
            make_secret(acme, expires_on)
        with (
            time_machine.travel(at(2025, 6, 23), tick=False),
            CaptureQueriesContext(connection) as queries,
        ):
            reminder_scan.scan()
        return len(queries)

    few = queries_for(2, date(2025, 6, 30))
    assert queries_for(50, date(2025, 7, 7)) == few


# --- Sending -----------------------------------------------------------------------


@pytest.fixture
def claimed(acme, alice):
    """A 7-day reminder claimed at 06:00 on 23 June 2025 and not sent yet."""
    make_secret(acme, date(2025, 6, 30))
    with time_machine.travel(at(2025, 6, 23), tick=False):
        (dispatch_id,) = reminder_scan.scan().claimed
    return dispatch_id


def send_at(moment: datetime, dispatch_id: int) -> str:
    with time_machine.travel(moment, tick=False):
        return reminder_dispatch.send(dispatch_id)


def scan_again(moment: datetime) -> list[int]:
    with time_machine.travel(moment, tick=False):
        result = reminder_scan.scan()
    assert result.claimed == []
    return result.reclaimed


def test_it_sends_a_claimed_reminder_once(claimed):
    assert send_at(at(2025, 6, 23, 6, 1), claimed) == "sent"
    assert send_at(at(2025, 6, 23, 6, 1), claimed) == "not ours"
    dispatch = ReminderDispatch.objects.get(pk=claimed)
    assert (dispatch.status, dispatch.attempts, dispatch.recipients) == ("sent", 1, 1)
    assert dispatch.sent_at == at(2025, 6, 23, 6, 1)
    assert len(mail.outbox) == 1


def test_it_records_each_reminder_sent_without_any_secret(claimed):
    send_at(at(2025, 6, 23, 6, 1), claimed)
    send_at(at(2025, 6, 23, 6, 2), claimed)
    (event,) = AuditEvent.objects.filter(action="reminder.sent")
    assert (event.object_type, event.object_id) == ("onboarding.reminderdispatch", str(claimed))
    assert event.details == {"threshold": 7, "expires_on": "2025-06-30", "recipients": 1}


def test_it_lets_only_one_of_two_senders_take_a_row(claimed):
    with time_machine.travel(at(2025, 6, 23, 6, 1), tick=False):
        assert reminder_dispatch.take(claimed) == 1
        assert reminder_dispatch.take(claimed) is None


def test_it_recovers_a_claim_whose_scan_died_only_after_the_lease(claimed):
    # The scan claimed the row and died before handing it to a sender.
    assert scan_again(at(2025, 6, 23, 6, 14)) == []
    assert mail.outbox == []
    assert scan_again(at(2025, 6, 23, 6, 16)) == [claimed]
    assert send_at(at(2025, 6, 23, 6, 16), claimed) == "sent"
    assert len(mail.outbox) == 1


def test_it_recovers_a_reminder_whose_sender_died_only_after_the_lease(claimed):
    with time_machine.travel(at(2025, 6, 23, 6, 1), tick=False):
        reminder_dispatch.take(claimed)  # ...and the worker dies before sending.
    assert send_at(at(2025, 6, 23, 6, 10), claimed) == "not ours"
    assert scan_again(at(2025, 6, 23, 6, 15)) == []
    assert scan_again(at(2025, 6, 23, 6, 17)) == [claimed]
    assert send_at(at(2025, 6, 23, 6, 17), claimed) == "sent"
    assert ReminderDispatch.objects.get(pk=claimed).attempts == 2
    assert len(mail.outbox) == 1


@pytest.fixture
def smtp_down(monkeypatch):
    def fail(**kwargs):
        raise SMTPServerDisconnected("gone")

    monkeypatch.setattr("onboarding.emails.secret_expiry_reminder", fail)


def test_it_gives_a_failed_attempt_back_and_fails_after_the_last(claimed, settings, smtp_down):
    settings.REMINDER_MAX_ATTEMPTS = 2
    with pytest.raises(OSError, match="gone"):
        send_at(at(2025, 6, 23, 6, 1), claimed)
    dispatch = ReminderDispatch.objects.get(pk=claimed)
    assert (dispatch.status, dispatch.attempts, dispatch.error) == (
        "claimed",
        1,
        "SMTPServerDisconnected",
    )
    with pytest.raises(OSError, match="gone"):
        send_at(at(2025, 6, 23, 6, 5), claimed)
    assert ReminderDispatch.objects.get(pk=claimed).status == "failed"
    assert send_at(at(2025, 6, 24, 6, 5), claimed) == "not ours"


def test_it_gives_up_a_claim_that_died_too_often(claimed, settings):
    settings.REMINDER_MAX_ATTEMPTS = 1
    with time_machine.travel(at(2025, 6, 23, 6, 1), tick=False):
        reminder_dispatch.take(claimed)
    assert scan_again(at(2025, 6, 24, 6)) == []
    assert ReminderDispatch.objects.get(pk=claimed).status == "failed"


def test_it_skips_a_reminder_whose_secret_was_retired_meanwhile(claimed):
    ClientSecret.objects.update(status=ClientSecret.Status.RETIRED)
    assert send_at(at(2025, 6, 23, 6, 1), claimed) == "skipped"
    assert mail.outbox == []


def test_it_fails_a_reminder_with_nobody_to_tell(claimed, alice):
    alice.is_active = False
    alice.save()
    assert send_at(at(2025, 6, 23, 6, 1), claimed) == "failed"
    assert ReminderDispatch.objects.get(pk=claimed).error == "No admin or address to tell."
    assert mail.outbox == []


def test_it_tells_active_admins_and_extra_addresses_once_each(acme, alice, bob):
    retired = User.objects.create_user("old@acme.example", is_active=False)
    Membership.objects.create(tenant=acme, user=retired)
    acme.notification_addresses.create(email="it@acme.example")
    acme.notification_addresses.create(email="ALICE@acme.example")
    assert acme.recipients() == ["alice@acme.example", "it@acme.example"]


def test_a_certificates_reminder_speaks_of_the_certificate_and_links_step_4(acme, alice):
    secret = make_secret(acme, date(2025, 6, 30))
    ClientSecret.objects.filter(pk=secret.pk).update(
        kind="certificate", thumbprint="AB12" * 10, hint="AB1"
    )
    with time_machine.travel(at(2025, 6, 23), tick=False):
        (dispatch_id,) = reminder_scan.scan().claimed
    assert send_at(at(2025, 6, 23, 6, 1), dispatch_id) == "sent"
    (sent,) = mail.outbox
    assert sent.subject.startswith(f"The certificate of {acme.name} expires in 7 days")
    assert "Thumbprint:               " + "AB12" * 10 in sent.body
    assert "Certificate ID:" in sent.body
    assert "Secret value starts with" not in sent.body
    assert f"/onboarding/{acme.pk}/step/4/#certificate" in sent.body
