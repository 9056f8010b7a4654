"""Benchmark of the support dashboard's list and overview pages on PostgreSQL.

    .venv/bin/python bench/support_bench.py [--tenants 10000] [--requests 40]
        [--postgres postgres://postgres@127.0.0.1:5432]

Creates a database named portal_bench_support, migrates it, fills it with 10
tenants, times each page, then grows it to --tenants tenants (at least 10; with app
registrations, active secrets, mailboxes and diagnoses in realistic proportions),
runs ANALYZE and times the pages again. Each page is requested through Django's
test Client in this process by a support user whose session is verified with TOTP:
the figure is server time (view, template, database), not network. Three warm-up
requests, then --requests timed ones; median and p95 in ms, printed as JSON. The
database is dropped at the end, after the results are printed (tiny run:
--tenants 20 --requests 2).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import _database  # bench/_database.py: bench/ is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "portal_bench_support"
PAGES = {
    "list": "/support/",
    "list filtered": "/support/?expiring=30&sort=expiry",
    "list search": "/support/?q=tenant%2004",
    "overview": "/support/overview/",
}
SECRET = "abc8Q~" + "x" * 34


def setup_django(database_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings

    from portal import keyring

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(keyring.generate_entry("bench"))


def add_tenants(start: int, count: int, rng: random.Random) -> None:
    from django.utils import timezone

    from onboarding.models import AppRegistration, ClientSecret, Mailbox, Tenant
    from onboarding.steps import STEP_COUNT

    today, now = timezone.localdate(), timezone.now()
    healths = [choice for choice, _ in Tenant.Health.choices]
    tenants = [
        Tenant(
            name=f"Tenant {number:05d}",
            onboarding_step=rng.randint(1, STEP_COUNT),
            health=rng.choice(healths),
            created_at=now - timedelta(days=rng.randint(0, 400)),
        )
        for number in range(start, start + count)
    ]
    Tenant.objects.bulk_create(tenants)
    apps = [
        AppRegistration(
            tenant=tenant,
            client_id=uuid.uuid4(),
            directory=f"t{tenant.name[-5:]}.onmicrosoft.com",
            directory_id=uuid.uuid4(),
            consent_granted_at=now if rng.random() < 0.7 else None,
        )
        for tenant in tenants
        if rng.random() < 0.8
    ]
    AppRegistration.objects.bulk_create(apps)
    secrets = []
    for app in apps:
        secret = ClientSecret(
            app=app,
            secret_id=uuid.uuid4(),
            hint=SECRET[:3],
            expires_on=today + timedelta(days=rng.randint(-30, 400)),
            status=ClientSecret.Status.ACTIVE,
        )
        secret.set_value(SECRET)
        secrets.append(secret)
    ClientSecret.objects.bulk_create(secrets, batch_size=2000)
    mailboxes = [
        Mailbox(
            tenant=tenant,
            address=f"ops@{tenant.name[-5:]}.example",
            health=rng.choice(healths),
            diagnosis_code=rng.choice(["", "", "app_not_found", "directory_not_found"]),
            last_success_at=now - timedelta(hours=rng.randint(1, 500))
            if rng.random() < 0.7
            else None,
        )
        for tenant in tenants
        if rng.random() < 0.9
    ]
    Mailbox.objects.bulk_create(mailboxes, batch_size=2000)


def support_client():
    from django.contrib.auth.models import Group
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import SUPPORT_GROUP, User

    user = User.objects.create_user("bench@vendor.example", "x" * 20, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def time_page(client, path: str, requests: int) -> dict[str, float]:
    for _ in range(3):
        client.get(path)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        # Nearest rank: the same element as before for 20 or 40 requests, and never
        # below the median for a handful.
        "p95_ms": round(times[math.ceil(len(times) * 0.95) - 1], 1),
    }


def measure(client, requests: int) -> dict[str, dict[str, float]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {name: time_page(client, path, requests) for name, path in PAGES.items()}


def run(args: argparse.Namespace, database_url: str) -> dict:
    setup_django(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rng = random.Random(8)
    client = support_client()
    add_tenants(0, 10, rng)
    small = measure(client, args.requests)
    add_tenants(10, args.tenants - 10, rng)
    large = measure(client, args.requests)
    ratios = {name: round(large[name]["median_ms"] / small[name]["median_ms"], 2) for name in PAGES}
    return {
        "tenants": [10, args.tenants],
        "10": small,
        str(args.tenants): large,
        "ratio_of_medians": ratios,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    if args.tenants < 10:
        parser.error("--tenants must be at least 10 (the small measurement has 10)")
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    admin_url = f"{args.postgres}/postgres"
    database_url = _database.create(admin_url, BENCH_DATABASE)
    try:
        result = run(args, database_url)
        # Printed before the database is dropped: a failed clean-up never loses them.
        print(json.dumps(result, indent=2), flush=True)
    finally:
        _database.close_django_connections()
        _database.drop(admin_url, BENCH_DATABASE)


if __name__ == "__main__":
    main()
