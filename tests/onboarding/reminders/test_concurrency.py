"""Scans started at the same moment from separate processes on PostgreSQL."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from onboarding.models import Membership, ReminderDispatch, Tenant
from onboarding.reminders import scan as reminder_scan
from tests.conftest import require_service
from tests.onboarding.secrets_factory import make_secret

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[3]
SCANS = 3
# Each process gets ready, waits for the word on stdin, then runs the scan: so all
# of them scan at once rather than one after another as they finish starting up.
RUNNER = """
import sys, django
django.setup()
from django.core.management import call_command
from portal.celery import app
app.conf.task_eager_propagates = True  # a failed send fails the process, and the test
print("ready", flush=True)
sys.stdin.readline()
call_command("scan_expiring_secrets")
"""


def subprocess_database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def due_secrets(transactional_db) -> set[str]:
    """Secret IDs due for a reminder now, among others that are not."""
    require_service("PostgreSQL", connection.vendor == "postgresql")
    today = timezone.now().date()
    due = set()
    for number, days in enumerate([-15, -1, 0, 1, 3, 7, 13, 30, 200] * 3):
        tenant = Tenant.objects.create(name=f"Tenant {number}")
        user = User.objects.create_user(f"admin{number}@example.com")
        Membership.objects.create(tenant=tenant, user=user)
        make_secret(tenant, today - timedelta(days=400), status="retired")
        secret = make_secret(tenant, today + timedelta(days=days))
        if days <= 30:
            due.add(str(secret.secret_id))
    return due


def start_scan(mail_dir: Path, var_dir: Path) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        DATABASE_URL=subprocess_database_url(),
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_TASKS_EAGER="true",
        PORTAL_EMAIL_BACKEND="file",
        PORTAL_VAR_DIR=str(var_dir),
    )
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", process.stderr.read()  # type: ignore[union-attr]
    return process


def secret_ids_mailed(mail_dir: Path) -> Counter[str]:
    """The Secret ID named in each message that the file backends wrote."""
    mailed: Counter[str] = Counter()
    for path in mail_dir.iterdir():
        for raw in path.read_text().split("-" * 79 + "\n"):
            if raw.strip():
                message = email.message_from_string(raw, policy=default_policy)
                body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
                (line,) = [line for line in body.splitlines() if "Secret ID:" in line]
                mailed[line.split()[-1]] += 1
    return mailed


def test_it_sends_each_reminder_once_when_scans_run_at_the_same_time(due_secrets, tmp_path):
    var_dir = tmp_path / "var"
    processes = [start_scan(var_dir / "mail", var_dir) for _ in range(SCANS)]
    for process in processes:
        process.stdin.write("go\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * SCANS, outputs
    queued = [int(out.split()[1]) for out, _ in outputs]
    assert sum(queued) == len(due_secrets)
    statuses = Counter(ReminderDispatch.objects.values_list("status", flat=True))
    assert statuses == {"sent": len(due_secrets)}
    mailed = secret_ids_mailed(var_dir / "mail")
    assert set(mailed) == due_secrets
    assert set(mailed.values()) == {1}


def waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def scan_held_open(outcome: str, ready: threading.Event, go: threading.Event, claimed: list):
    """A scan in this process whose transaction stays open until `go`."""
    try:
        with transaction.atomic():
            claimed += reminder_scan.scan().claimed
            ready.set()
            go.wait(timeout=60)
            if outcome == "rollback":
                transaction.set_rollback(True)
    finally:
        connection.close()


@pytest.mark.parametrize(("outcome", "second_claims"), [("commit", 0), ("rollback", 24)])
def test_it_makes_a_second_scan_wait_for_the_first_to_finish(
    due_secrets, tmp_path, outcome, second_claims
):
    ready, go, claimed = threading.Event(), threading.Event(), list[int]()
    first = threading.Thread(target=scan_held_open, args=(outcome, ready, go, claimed))
    first.start()
    assert ready.wait(timeout=60)
    second = start_scan(tmp_path / "mail", tmp_path)
    second.stdin.write("go\n")  # type: ignore[union-attr]
    second.stdin.flush()  # type: ignore[union-attr]
    # The second scan's INSERT blocks on the first's uncommitted rows.
    deadline = time.monotonic() + 60
    while not waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting_for_a_lock() == 1
    go.set()
    first.join(timeout=60)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert (len(claimed), out.strip()) == (24, f"Queued {second_claims} reminder(s).")
    assert ReminderDispatch.objects.count() == 24
