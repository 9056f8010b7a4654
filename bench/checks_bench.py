"""Mailbox checks per second through the real task code, real Celery workers on Redis,
and real msal against the Microsoft emulator with added latency per request.

Starts the emulator in its own process, seeds D directories of M mailboxes (each with
an app, a consented secret, and a message), adds the latency to every endpoint, starts
W worker processes (thread pool of C each), then per run requests a check of every
mailbox and waits until all have finished. Prints each run and the medians: checks per
second (over the workers' span, first claim to last result; the rate including the
time this script takes to enqueue is printed too), the ratio to the bound
(W*C / (requests per check * latency)), token requests per credential, and the highest
concurrency per mailbox the emulator saw. A list of thread counts measures each in turn
(the same seeded data, new worker processes) and ends with a table.

Needs a scratch PostgreSQL database (it is flushed!) and a Redis database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/checks_bench.py \\
        [--directories 100] [--per-directory 10] [--latency-ms 50] [--workers 2] \\
        [--concurrency 16 | 2,4,8,16] [--runs 3]

A tiny run (about 6 s): --directories 1 --per-directory 2 --latency-ms 5 --workers 1
--concurrency 2 --runs 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FINISHED = ("passed", "failed")

# bench/ is the script's own folder, first on sys.path.
from emulator_throughput import start_emulator  # noqa: E402


class Control:
    def __init__(self, base: str, ca: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = ca

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, f"{self.base}/_emulator{path}", json=body)
        response.raise_for_status()
        return response.json()


def seed_directory(control: Control, number: int, mailboxes: int) -> dict[str, Any]:
    domain = f"bench{number}.onmicrosoft.com"
    directory = control.call(
        "POST", "/directories", {"name": f"Bench {number}", "domains": [domain]}
    )
    upns = [f"mailbox{i}@{domain}" for i in range(mailboxes)]
    for upn in upns:
        control.call("POST", f"/directories/{domain}/users", {"upn": upn, "password": "pw"})
        control.call("POST", f"/users/{upn}/messages", {"subject": "Hello"})
    body = {"directory": directory["id"], "permissions": ["Mail.Read", "Mail.Send"]}
    app = control.call("POST", "/apps", body)
    secret = control.call("POST", f"/apps/{app['client_id']}/secrets", {"days": 30})
    control.call("POST", f"/apps/{app['client_id']}/consent", {"directory": directory["id"]})
    return {"directory": directory["id"], "app": app, "secret": secret, "upns": upns}


def save_tenant(seeded: dict[str, Any], number: int) -> None:
    from datetime import date, timedelta

    from onboarding.models import AppRegistration, ClientSecret, Mailbox, Tenant

    tenant = Tenant.objects.create(name=f"Bench {number}")
    app = AppRegistration.objects.create(
        tenant=tenant, client_id=seeded["app"]["client_id"], directory=seeded["directory"]
    )
    secret = ClientSecret(
        app=app,
        secret_id=seeded["secret"]["key_id"],
        expires_on=date.today() + timedelta(days=30),
        status=ClientSecret.Status.ACTIVE,
    )
    secret.set_value(seeded["secret"]["value"])
    secret.save()
    Mailbox.objects.bulk_create(Mailbox(tenant=tenant, address=upn) for upn in seeded["upns"])


def start_workers(count: int, concurrency: int, env: dict[str, str]) -> list[subprocess.Popen]:
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "threads"]
    command += [
        "-c",
        str(concurrency),
        "--loglevel",
        os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
        "--without-gossip",
    ]
    return [
        subprocess.Popen([*command, "-n", f"bench{index}@%h"], cwd=ROOT, env=env)
        for index in range(count)
    ]


def cpu_seconds(processes: list[subprocess.Popen]) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def one_run(
    control: Control, workers: list[subprocess.Popen], emulator: subprocess.Popen
) -> dict[str, float]:
    from django.db import transaction
    from django.db.models import Max, Min

    from onboarding.checks.claim import check_request
    from onboarding.models import CheckRun, Mailbox
    from onboarding.tasks import enqueue_requested

    control.call("DELETE", "/counters")
    mailboxes = list(Mailbox.objects.all())
    cpu_before = cpu_seconds(workers), cpu_seconds([emulator])
    started = time.perf_counter()
    with transaction.atomic():
        requested = [check_request(mailbox=m, trigger="schedule") for m in mailboxes]
        enqueue_requested(requested)
    enqueued = time.perf_counter() - started
    ids = [one.run.pk for one in requested]
    pending = CheckRun.objects.exclude(status__in=FINISHED)
    while pending.exists():
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    # The workers' own span, first claim to last result: what they did, without the
    # time this script took to create and enqueue the runs.
    span = CheckRun.objects.filter(pk__in=ids).aggregate(
        first=Min("started_at"), last=Max("finished_at")
    )
    worker_seconds = (span["last"] - span["first"]).total_seconds()
    worker_cpu = cpu_seconds(workers) - cpu_before[0]
    emulator_cpu = cpu_seconds([emulator]) - cpu_before[1]
    counters = control.call("GET", "/counters")
    failed = CheckRun.objects.filter(pk__in=ids, status="failed").count()
    requests_total = sum(counters["requests"].values())
    print(f"requests by endpoint: {dict(sorted(counters['requests'].items()))}")
    return {
        "checks": len(ids),
        "failed": failed,
        "enqueue_seconds": enqueued,
        "seconds": elapsed,
        "worker_seconds": worker_seconds,
        "checks_per_second": len(ids) / worker_seconds,
        "checks_per_second_with_enqueue": len(ids) / elapsed,
        "requests_per_check": requests_total / len(ids),
        "token_requests": sum(counters["token_requests"].values()),
        "token_requests_per_credential_max": max(counters["token_requests"].values(), default=0),
        "peak_per_mailbox": max(counters["peak_concurrency"].values(), default=0),
        "worker_cpu_ms_per_check": worker_cpu * 1000 / len(ids),
        "emulator_cpu_ms_per_check": emulator_cpu * 1000 / len(ids),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--directories", type=int, default=100)
    parser.add_argument("--per-directory", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--concurrency",
        default="16",
        help="threads per worker process; a comma-separated list measures each in turn",
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    if min(args.directories, args.per_directory, args.workers, args.runs, *levels) < 1:
        parser.error("every count must be at least 1")
    if args.latency_ms < 1:
        # The bound is W*C / (requests per check * latency): none without latency.
        parser.error("--latency-ms must be at least 1")
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (a scratch database: it is flushed) and REDIS_URL.")
    with tempfile.TemporaryDirectory() as var:
        # Microsoft serves any number of requests at once: the emulator's pool must not be
        # what limits the workers (each request holds a thread for the added latency).
        threads = 2 * args.workers * max(levels)
        emulator, base, ca = start_emulator(Path(var), threads=threads)
        env = os.environ | {
            "MICROSOFT_LOGIN_URL": base,
            "MICROSOFT_GRAPH_URL": f"{base}/graph",
            "MICROSOFT_CA_BUNDLE": ca,
            "PORTAL_VAR_DIR": var,
            "PORTAL_EMAIL_BACKEND": "file",
            # As in production: DEBUG keeps every query in memory and wraps each cursor.
            "PORTAL_DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
        os.environ.update(env)
        try:
            control = Control(base, ca)
            seed(args, control)
            summary = [measure(args, level, control, env, emulator) for level in levels]
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)
    print("\nworkers x threads | checks/s (median) | bound | ratio | worker CPU ms/check")
    for line in summary:
        print(line)


def seed(args: argparse.Namespace, control: Control) -> None:
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    from portal.celery import app

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    cache.clear()  # token caches of an earlier run
    app.control.purge()
    for number in range(args.directories):
        save_tenant(seed_directory(control, number, args.per_directory), number)
    control.call("PUT", "/faults/*", {"latency_ms": args.latency_ms})


def measure(
    args: argparse.Namespace,
    threads: int,
    control: Control,
    env: dict[str, str],
    emulator: subprocess.Popen,
) -> str:
    from portal.celery import app

    print(f"== {args.workers} worker processes x {threads} threads")
    workers = start_workers(args.workers, threads, env)
    try:
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=1) or []) < args.workers:
            if time.monotonic() > deadline:
                sys.exit("The workers did not answer within 60 s.")
        results = [one_run(control, workers, emulator) for _ in range(args.runs)]
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=30)
    for index, result in enumerate(results, 1):
        print(f"run {index}: " + ", ".join(f"{k}={v:.2f}" for k, v in result.items()))
    return report(args, threads, results)


def report(args: argparse.Namespace, threads: int, results: list[dict[str, float]]) -> str:
    def median(key: str) -> float:
        return statistics.median(result[key] for result in results)

    rate, per_check = median("checks_per_second"), median("requests_per_check")
    concurrency = args.workers * threads
    bound = concurrency / (per_check * args.latency_ms / 1000)
    print(
        f"median: {rate:.1f} checks/s; bound {bound:.1f} checks/s "
        f"({concurrency} / ({per_check:.2f} requests x {args.latency_ms} ms)); "
        f"ratio {rate / bound:.2f}"
    )
    print(
        f"token requests per credential: "
        f"{[round(r['token_requests'] / args.directories, 2) for r in results]} per run (max "
        f"{max(r['token_requests_per_credential_max'] for r in results):.0f}); "
        f"highest concurrency per mailbox: {max(r['peak_per_mailbox'] for r in results):.0f}"
    )
    cpu = median("worker_cpu_ms_per_check")
    return f"{args.workers} x {threads} | {rate:.1f} | {bound:.1f} | {rate / bound:.2f} | {cpu:.1f}"


if __name__ == "__main__":
    main()
