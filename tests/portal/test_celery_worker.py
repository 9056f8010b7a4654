"""A real `celery -A portal worker` on real Redis runs one of the portal's tasks.

The worker is another process, so it reads rows only once they are committed:
hence transactional_db and the test database's own URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from onboarding.invitations import services as invitations
from onboarding.models import AuditEvent, Invitation
from onboarding.tasks import invitation_accepted_notify
from portal import keyring
from portal.celery import app
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def worker_database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(
    queue: str, env: dict[str, str], log: Path, *extra: str
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--queues", queue]
    command += ["--without-gossip", "--without-mingle", "--loglevel", "INFO", *extra]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def stop_worker(process: subprocess.Popen[bytes], log: Path) -> None:
    process.send_signal(signal.SIGTERM)  # a warm shutdown: finish the task, then exit
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    print(log.read_text())  # shown by pytest when the test fails


@pytest.fixture
def worker_env(redis_url, transactional_db, tmp_path) -> dict[str, str]:
    require_service("PostgreSQL", connection.vendor == "postgresql")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        DATABASE_URL=worker_database_url(),
        REDIS_URL=redis_url,
        PORTAL_VAR_DIR=str(tmp_path),
        PORTAL_EMAIL_BACKEND="file",
    )
    (tmp_path / "mail").mkdir()
    return env


@pytest.fixture
def worker(worker_env, redis_url, tmp_path):
    queue = "portal-worker-test"
    redis.Redis.from_url(redis_url).delete(queue)  # leftovers of an interrupted run
    log = tmp_path / "worker.log"
    process = start_worker(queue, worker_env, log, "--concurrency", "1")
    yield queue, tmp_path / "mail"
    stop_worker(process, log)


@pytest.fixture
def not_eager():
    """Send tasks to the broker for once, instead of running them in the test."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_it_runs_a_portal_task_end_to_end(worker, not_eager, redis_url, acme, charlie):
    queue, mail_dir = worker
    invitation, _ = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    # Accepted by hand: the service would already run the task here, eagerly.
    dora = User.objects.create_user("dora@acme.example", "a long enough passphrase")
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now(), accepted_by=dora)
    with app.connection_for_write(redis_url) as conn:
        app.send_task(
            invitation_accepted_notify.name,
            args=[str(invitation.pk)],
            queue=queue,
            connection=conn,
        )
    notified = AuditEvent.objects.filter(
        action="invitation.accepted_notified", object_id=str(invitation.pk)
    )
    assert wait_for(notified.exists), "the worker did not run the task within 60 s"
    sent = "".join(path.read_text() for path in mail_dir.iterdir())
    assert "dora@acme.example accepted the invitation to Acme Logistics" in sent
    assert f"To: {charlie.email}" in sent


@pytest.fixture
def worker_sees_emulator(emulated_microsoft, monkeypatch, settings, tmp_path):
    """The worker process reads the emulator's URLs from its environment, and the
    keyring from its var directory (the same tmp_path), shared with this test."""

    entry = keyring.generate_entry("worker-test")
    (tmp_path / "encryption.keys").write_text(entry + "\n")
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(entry, source="tests")
    monkeypatch.setenv("MICROSOFT_LOGIN_URL", emulated_microsoft.login_url)
    monkeypatch.setenv("MICROSOFT_GRAPH_URL", emulated_microsoft.graph_url)
    monkeypatch.setenv("MICROSOFT_CA_BUNDLE", str(emulated_microsoft.ca_path))
    return emulated_microsoft


def test_it_runs_a_mailbox_check_in_a_worker(
    worker_sees_emulator, worker, not_eager, redis_url, acme
):
    from microsoft_emulator.scenarios import ready_directory
    from onboarding.models import CheckRun
    from onboarding.tasks import run_mailbox_check
    from tests.onboarding.check_helpers import configure

    queue, _ = worker
    mailbox = configure(acme, ready_directory(worker_sees_emulator))
    run = CheckRun.objects.create(mailbox=mailbox, trigger="wizard")
    with app.connection_for_write(redis_url) as conn:
        app.send_task(run_mailbox_check.name, args=[str(run.pk)], queue=queue, connection=conn)
    finished = CheckRun.objects.filter(pk=run.pk, status__in=("passed", "failed"))
    assert wait_for(finished.exists), "the worker did not finish the check within 60 s"
    run.refresh_from_db()
    assert run.status == "passed", run.steps
    assert [step["name"] for step in run.steps] == [
        "token",
        "permissions",
        "read_inbox",
        "send_test",
    ]


def test_worker_processes_share_one_token_per_credential(
    worker_sees_emulator, worker_env, not_eager, redis_url, acme, tmp_path
):
    """Two worker processes, each with a cold msal cache, check mailboxes of one app at
    once: one of them asks for the token, the other reads it from the shared cache."""
    from microsoft_emulator.scenarios import ready_directory
    from onboarding.models import CheckRun, Mailbox
    from onboarding.tasks import run_mailbox_check
    from tests.onboarding.check_helpers import configure

    queue = "portal-worker-token-test"
    redis.Redis.from_url(redis_url).delete(queue)
    ready = ready_directory(worker_sees_emulator)
    first = configure(acme, ready)
    others = [
        Mailbox.objects.create(
            tenant=acme,
            address=worker_sees_emulator.add_user(
                ready.directory, f"desk{n}@contoso.onmicrosoft.com", "pw"
            ).upn,
        )
        for n in range(5)
    ]
    # A slow token endpoint: without the shared cache both processes would ask at once.
    worker_sees_emulator.set_fault("token", latency_ms=500)
    logs = [tmp_path / f"worker{n}.log" for n in range(2)]
    processes = [start_worker(queue, worker_env, log, "-P", "threads", "-c", "3") for log in logs]
    try:
        assert wait_for(lambda: all("ready." in log.read_text() for log in logs))
        runs = [CheckRun.objects.create(mailbox=m, trigger="schedule") for m in [first, *others]]
        with app.connection_for_write(redis_url) as conn:
            for run in runs:
                app.send_task(
                    run_mailbox_check.name, args=[str(run.pk)], queue=queue, connection=conn
                )
        pending = CheckRun.objects.exclude(status__in=("passed", "failed"))
        assert wait_for(lambda: not pending.exists()), "the workers did not finish in 60 s"
    finally:
        for process, log in zip(processes, logs, strict=True):
            stop_worker(process, log)
    assert set(CheckRun.objects.values_list("status", flat=True)) == {"passed"}
    # Both processes ran checks, and only one token request reached Microsoft.
    assert all("succeeded" in log.read_text() for log in logs)
    assert worker_sees_emulator.counters()["token_requests"] == {ready.app.client_id: 1}
