"""Benchmark: the daily expiry scan and reminder sending over many client secrets.

    .venv/bin/python bench/reminders_bench.py                  # PostgreSQL, 10,000 and 100,000
    .venv/bin/python bench/reminders_bench.py --sqlite         # the same on a SQLite file
    .venv/bin/python bench/reminders_bench.py --sizes 1000 --runs 3
    .venv/bin/python bench/reminders_bench.py --sqlite --no-analyze --sizes 10000
    .venv/bin/python bench/reminders_bench.py --sizes 50 --runs 1   # a tiny run

PostgreSQL: creates the database portal_bench_reminders on BENCH_POSTGRES_URL
(default postgres://postgres@127.0.0.1:5432/postgres) and drops it at the end,
after the results table is printed.

Each tenant has one active secret, expiring uniformly between 30 days ago and two
years ahead, and one admin. Yesterday's scan has run (and its reminders are
recorded), so today's scan finds the ~1% that cross a threshold today, as in steady
state. Every timed run happens in a transaction that is rolled back, so each run
does the same work. Sending uses Django's in-memory e-mail backend: it measures
the portal's side (claim, render, record), not an SMTP server.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import _database  # bench/_database.py: bench/ is first on sys.path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "portal_bench_reminders"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
BATCH = 5000


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_VAR_DIR=var_dir,
        # DEBUG would keep every query in memory.
        PORTAL_DEBUG="false",
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    logging.getLogger("onboarding.reminders.scan").setLevel(logging.WARNING)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(size: int, today) -> None:
    from accounts.models import User
    from onboarding.models import AppRegistration, ClientSecret, Membership, Tenant

    rng = random.Random(size)
    for start in range(0, size, BATCH):
        count = min(BATCH, size - start)
        tenants = [
            Tenant(name=f"Tenant {start + i}", time_zone=rng.choice(ZONES)) for i in range(count)
        ]
        Tenant.objects.bulk_create(tenants)
        users = [User(email=f"admin{start + i}@bench.example", password="!") for i in range(count)]
        User.objects.bulk_create(users)
        Membership.objects.bulk_create(
            Membership(tenant=t, user=u) for t, u in zip(tenants, users, strict=True)
        )
        apps = [AppRegistration(tenant=t, client_id=uuid.uuid4(), directory="x") for t in tenants]
        AppRegistration.objects.bulk_create(apps)
        ClientSecret.objects.bulk_create(
            ClientSecret(
                app=app,
                secret_id=uuid.uuid4(),
                value_ciphertext=b"bench",
                value_key_id="bench",
                hint="abc",
                expires_on=today + timedelta(days=rng.randint(-30, 730)),
                status=ClientSecret.Status.ACTIVE,
            )
            for app in apps
        )


def reset() -> None:
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def rolled_back(work):
    """Run `work()` in a transaction that is rolled back; returns (seconds, result)."""
    from django.db import transaction

    with transaction.atomic():
        started = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, result


def send_all(now):
    from onboarding.reminders import dispatch, scan

    claimed = scan.scan(now).claimed
    started = time.perf_counter()
    for dispatch_id in claimed:
        dispatch.send(dispatch_id)
    return len(claimed), time.perf_counter() - started


def measure(size: int, runs: int, analyze: bool) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from onboarding.reminders import scan

    now = timezone.now()
    reset()
    started = time.perf_counter()
    populate(size, now.date())
    scan.scan(now - timedelta(days=1))  # yesterday's scan, committed
    if analyze:
        # As PostgreSQL's autovacuum would have by the next morning. SQLite gathers no
        # statistics by itself, and without them it plans the "replaced by a newer
        # secret" subquery on the expiry index: quadratic (see docs/reminders.md).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    setup_seconds = time.perf_counter() - started
    scans = [rolled_back(lambda: scan.scan(now)) for _ in range(runs)]
    with CaptureQueriesContext(connection) as queries:
        rolled_back(lambda: scan.scan(now))
    sends = [rolled_back(lambda: send_all(now))[1] for _ in range(max(1, runs // 2))]
    claimed = len(scans[0][1].claimed)
    return {
        "secrets": size,
        "setup_s": setup_seconds,
        "due": claimed,
        "scan_median_s": statistics.median(seconds for seconds, _ in scans),
        "scan_queries": len(queries),
        "send_per_s": statistics.median(count / seconds for count, seconds in sends if seconds),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after filling")
    args = parser.parse_args()
    if args.runs < 1 or min(args.sizes) < 1:
        parser.error("--sizes and --runs must be at least 1")
    engine = "SQLite" if args.sqlite else "PostgreSQL"
    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    with tempfile.TemporaryDirectory() as var_dir:
        if args.sqlite:
            database_url = f"sqlite:///{var_dir}/bench.sqlite3"
        else:
            database_url = _database.create(admin_url, BENCH_DB)
        try:
            setup_django(database_url, var_dir)
            results = [measure(size, args.runs, not args.no_analyze) for size in args.sizes]
            # Printed before the database is dropped: a failed clean-up never loses them.
            report(results, engine, args.runs)
        finally:
            _database.close_django_connections()
            if not args.sqlite:
                _database.drop(admin_url, BENCH_DB)
    return 0


def report(results: list[dict[str, float]], engine: str, runs: int) -> None:
    print(f"{engine}, median of {runs} scans (and of {max(1, runs // 2)} send rounds):")
    print(f"{'secrets':>9} {'due':>6} {'scan s':>8} {'queries':>8} {'sends/s':>8} {'setup s':>8}")
    for r in results:
        print(
            f"{r['secrets']:>9,} {r['due']:>6,} {r['scan_median_s']:>8.3f} "
            f"{r['scan_queries']:>8} {r['send_per_s']:>8.0f} {r['setup_s']:>8.1f}"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"ratio {last['secrets'] / first['secrets']:.0f}x secrets -> "
            f"{last['scan_median_s'] / first['scan_median_s']:.1f}x scan time"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
