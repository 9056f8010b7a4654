"""How soon the live verify page turns green: from the emulator's last answer of a check
to the moment a poll of the page returns the finished status, as in `make run`.

The embedded setup end to end: SQLite and kombu's filesystem broker in a scratch state
folder, the Microsoft emulator in its own process, one real Celery worker process
(`make run`'s), and this script as the web server and the browser: it asks for a check
as "Run check again" does (a CheckRun, enqueued on commit), then polls the run as the
page's htmx does, rendering the same status fragment each time, at the page's interval
(with a random phase: the page's timer started when it was loaded).

Per setting, N checks of one mailbox; printed per setting, median and p90 of
  - answer -> green: the run's finished_at (written the moment the emulator's last answer
    is in: onboarding.checks.run._finish) to the poll that first shows it finished;
  - click -> green: the request to that poll (the broker's pick-up included).

Settings: "before" polls the broker every 1 s and the page every 1 s (the old
intervals); "after" uses the new ones (portal.celery.FILE_BROKER_POLLING_SECONDS, and
onboarding.checks.results.poll_ms while the run is pending).

    .venv/bin/python bench/verify_latency_bench.py [--runs 30]

A tiny run (about 20 s): --runs 2.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FINISHED = ("passed", "failed")
OLD_INTERVAL_SECONDS = 1.0  # the old broker polling and the old `every 1s` of the page

# bench/ is the script's own folder, first on sys.path.
from checks_bench import Control, save_tenant, seed_directory  # noqa: E402
from emulator_throughput import start_emulator  # noqa: E402

# A worker whose file broker polls at the interval given (None: the portal's default).
WORKER = """
import sys
from portal.celery import app
interval = sys.argv[1]
if interval != "default":
    @app.on_after_configure.connect
    def _old(sender, **kwargs):
        options = dict(sender.conf.broker_transport_options or {})
        options["polling_interval"] = float(interval)
        sender.conf.broker_transport_options = options
app.worker_main(["--quiet", "worker", "-P", "solo", "--loglevel", "WARNING", "--without-gossip",
                 "--without-mingle", "--without-heartbeat"])
"""


def start_worker(broker_polling: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WORKER, broker_polling], cwd=ROOT, env=env)


def one_check(old_page: bool) -> dict[str, float]:
    from django.db import transaction
    from django.template.loader import render_to_string

    from onboarding.checks.claim import check_request
    from onboarding.checks.results import poll_ms, status_context
    from onboarding.models import CheckRun, Mailbox
    from onboarding.tasks import enqueue_requested

    mailbox = Mailbox.objects.get()
    clicked = time.time()
    with transaction.atomic():
        requested = check_request(mailbox=mailbox, trigger=CheckRun.Trigger.WIZARD)
        enqueue_requested(requested)
    run_id = requested.run.pk
    interval = OLD_INTERVAL_SECONDS if old_page else poll_ms(requested.run) / 1000
    time.sleep(random.uniform(0, interval))  # the page timer's phase
    deadline = clicked + 60
    while True:
        run = CheckRun.objects.select_related("mailbox").get(pk=run_id)
        render_to_string("onboarding/_check_status.html", status_context(run))  # the poll
        seen = time.time()
        if run.status in FINISHED:
            break
        if seen > deadline:
            sys.exit("A check did not finish within 60 s: is the worker running?")
        interval = OLD_INTERVAL_SECONDS if old_page else poll_ms(run) / 1000
        time.sleep(interval)
    assert run.finished_at is not None
    answered = run.finished_at.timestamp()
    return {
        "answer_to_green_ms": (seen - answered) * 1000,
        "click_to_green_ms": (seen - clicked) * 1000,
        "passed": float(run.status == "passed"),
    }


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def measure(name: str, runs: int, env: dict[str, str]) -> dict[str, Any]:
    old = name == "before"
    worker = start_worker(str(OLD_INTERVAL_SECONDS) if old else "default", env)
    try:
        one_check(old)  # warm-up: the worker started, msal's token cached, not counted
        results = [one_check(old) for _ in range(runs)]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    summary: dict[str, Any] = {"runs": runs}
    for key in ("answer_to_green_ms", "click_to_green_ms"):
        values = [result[key] for result in results]
        summary[key] = {"median": statistics.median(values), "p90": p90(values)}
    summary["passed"] = sum(result["passed"] for result in results)
    print(
        f"{name}: answer -> green median {summary['answer_to_green_ms']['median']:.0f} ms, "
        f"p90 {summary['answer_to_green_ms']['p90']:.0f} ms; click -> green median "
        f"{summary['click_to_green_ms']['median']:.0f} ms, "
        f"p90 {summary['click_to_green_ms']['p90']:.0f} ms "
        f"({summary['passed']:.0f}/{runs} passed)",
        flush=True,
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30, help="checks per setting")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory() as var:
        emulator, base, ca = start_emulator(Path(var), threads=4)
        env = {
            name: value
            for name, value in os.environ.items()
            # `make run`'s embedded setup: SQLite and the file broker in the scratch folder.
            if name not in {"DATABASE_URL", "REDIS_URL"}
        } | {
            "MICROSOFT_LOGIN_URL": base,
            "MICROSOFT_GRAPH_URL": f"{base}/graph",
            "MICROSOFT_CA_BUNDLE": ca,
            "PORTAL_VAR_DIR": var,
            "PORTAL_EMAIL_BACKEND": "file",
            "PORTAL_DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
        os.environ.clear()
        os.environ.update(env)
        try:
            seed(Control(base, ca))
            started = datetime.now(UTC)
            results = {name: measure(name, args.runs, env) for name in ("before", "after")}
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)
    print(f"\n{args.runs} checks per setting, started {started:%Y-%m-%d %H:%M} UTC")
    print("setting | answer -> green median / p90 ms | click -> green median / p90 ms")
    for name, summary in results.items():
        answer, click = summary["answer_to_green_ms"], summary["click_to_green_ms"]
        print(
            f"{name} | {answer['median']:.0f} / {answer['p90']:.0f} | "
            f"{click['median']:.0f} / {click['p90']:.0f}"
        )


def seed(control: Control) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    for folder in ("broker/queue", "broker/processed", "broker/control", "mail", "cache"):
        Path(os.environ["PORTAL_VAR_DIR"], folder).mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    save_tenant(seed_directory(control, 0, 1), 0)


if __name__ == "__main__":
    main()
