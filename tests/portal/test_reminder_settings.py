"""The reminder knobs in portal/settings.py, read afresh from the environment."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS = Path(__file__).resolve().parents[2] / "portal" / "settings.py"


def load(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_it_defaults_to_30_14_7_3_1_and_0_days_and_a_scan_at_six_utc(monkeypatch):
    settings = load(monkeypatch)
    assert settings["REMINDER_DAYS"] == (30, 14, 7, 3, 1, 0)
    scan = settings["CELERY_BEAT_SCHEDULE"]["scan-expiring-secrets"]
    assert (scan["schedule"].hour, scan["schedule"].minute) == ({6}, {0})
    assert scan["options"] == {"expires": 23 * 3600}
    assert settings["CELERY_TIMEZONE"] == "UTC"


def test_it_reads_the_days_largest_first_without_repeats(monkeypatch):
    settings = load(monkeypatch, PORTAL_REMINDER_DAYS=" 7, 60,0,7 ")
    assert settings["REMINDER_DAYS"] == (60, 7, 0)


def test_it_schedules_the_scan_and_the_digest_at_the_configured_times(monkeypatch):
    settings = load(
        monkeypatch,
        PORTAL_REMINDER_SCAN_HOUR="5",
        PORTAL_REMINDER_SCAN_MINUTE="45",
        PORTAL_REMINDER_DIGEST_HOUR="23",
        PORTAL_REMINDER_DIGEST_MINUTE="59",
    )
    beat = settings["CELERY_BEAT_SCHEDULE"]
    scan, digest = beat["scan-expiring-secrets"], beat["send-reminder-digest"]
    assert (scan["schedule"].hour, scan["schedule"].minute) == ({5}, {45})
    assert (digest["schedule"].hour, digest["schedule"].minute) == ({23}, {59})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORTAL_REMINDER_DAYS", "30,seven", "PORTAL_REMINDER_DAYS has 'seven'"),
        ("PORTAL_REMINDER_DAYS", "30,-1", "PORTAL_REMINDER_DAYS has '-1'"),
        ("PORTAL_REMINDER_DAYS", "1.5", "PORTAL_REMINDER_DAYS has '1.5'"),
        ("PORTAL_REMINDER_DAYS", ",,", "PORTAL_REMINDER_DAYS must name at least one day"),
        ("PORTAL_REMINDER_SCAN_HOUR", "24", "PORTAL_REMINDER_SCAN_HOUR=24 is above"),
        ("PORTAL_REMINDER_SCAN_MINUTE", "60", "PORTAL_REMINDER_SCAN_MINUTE=60 is above"),
        ("PORTAL_REMINDER_SCAN_HOUR", "-1", "PORTAL_REMINDER_SCAN_HOUR=-1 is below"),
        ("PORTAL_REMINDER_DIGEST_HOUR", "noon", "PORTAL_REMINDER_DIGEST_HOUR='noon'"),
        ("PORTAL_REMINDER_LEASE_MINUTES", "2", "must be longer than the task time limit"),
        ("PORTAL_REMINDER_LEASE_MINUTES", "0", "PORTAL_REMINDER_LEASE_MINUTES=0 is below"),
        ("PORTAL_REMINDER_MAX_ATTEMPTS", "0", "PORTAL_REMINDER_MAX_ATTEMPTS=0 is below"),
    ],
)
def test_it_refuses_a_bad_value_naming_the_variable(monkeypatch, name, value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        load(monkeypatch, **{name: value})
