import json
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from onboarding import tasks
from onboarding.models import ReminderDispatch
from portal.celery import app
from tests.onboarding.secrets_factory import make_secret

MORNING = datetime(2025, 6, 23, 6, tzinfo=ZoneInfo("UTC"))


def test_it_queues_the_sends_only_once_the_claims_are_committed(
    acme, alice, django_capture_on_commit_callbacks
):
    make_secret(acme, date(2025, 6, 30))
    make_secret(acme, date(2025, 6, 30), hint="two")
    with (
        time_machine.travel(MORNING, tick=False),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        assert tasks.scan_expiring_secrets() == 2
    assert mail.outbox == []
    # Each callback queues the send task with nothing but a dispatch id.
    queued = [callback.args for callback in callbacks]
    assert sorted(queued) == sorted(ReminderDispatch.objects.values_list("pk"))
    assert json.loads(json.dumps(queued)) == [list(args) for args in queued]
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 2


def test_it_runs_the_scan_from_the_command_line(acme, alice, django_capture_on_commit_callbacks):
    make_secret(acme, date(2025, 6, 30))
    out = StringIO()
    with (
        time_machine.travel(MORNING, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("scan_expiring_secrets", stdout=out)
        call_command("scan_expiring_secrets", stdout=out)
    assert out.getvalue() == "Queued 1 reminder(s).\nQueued 0 reminder(s).\n"
    assert len(mail.outbox) == 1


def test_it_names_registered_tasks_in_the_beat_schedule():
    for entry in ("scan-expiring-secrets", "send-reminder-digest"):
        assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] in app.tasks
