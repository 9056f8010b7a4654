"""The portal rolling certificates over by itself (onboarding.renewal.rollover): N
certificate tenants taken through every stage to DONE against the Microsoft emulator.

    nice .venv/bin/python bench/rollover_bench.py [--certificates 1000]
    nice .venv/bin/python bench/rollover_bench.py --certificates 3      # a tiny run
    nice .venv/bin/python bench/rollover_bench.py --no-tracemalloc      # timings alone

Set-up (not timed): the emulator runs in its own process (bench/emulator_throughput.py's
start_emulator, so that client and server each get a core) and is seeded through its
control API with N directories, each with a mailbox user (one inbox message), an app
with Mail.Read + Mail.Send consented, and the tenant's current certificate uploaded.
One certificate (made once, so that the set-up does not cost N key generations) is the
current one of every app: it only signs the client assertions and addKey's proof, which
cost the same whichever key signs them; every new key the rollover makes is its own.
The portal's side is written in bulk to a throwaway SQLite file in a temporary
PORTAL_VAR_DIR (with its vault keys and file cache): per tenant an app registration with
its object ID, the certificate credential (active, expiring in 20 days, so inside
PORTAL_CERTIFICATE_ROLLOVER_DAYS) and one mailbox.

Timed: one worker doing what the beat and the workers do, stage by stage over all N
rows: `rollover.scan(now)` and then `rollover.advance(id)` of every row it returns:

1. CLAIMED -> KEY_MADE: the new RSA key pair and certificate (key generation);
2. KEY_MADE -> KEY_ADDED: a token with the current certificate, Graph addKey with a
   proof signed by it;
3. KEY_ADDED -> PROVING: the proving check requested; then the check itself, a real
   one through the emulator (token with the new certificate, inbox read, test message
   sent), run synchronously by calling the task onboarding.tasks.run_mailbox_check for
   each Requested that `advance` returned (Celery eager, should it retry);
4. PROVING -> SWITCHED: the passed check made the new credential the active one;
5. SWITCHED -> DONE: removeKey of the old certificate, proved by the new one.

The waits are skipped by moving the clock, not by changing the code or the settings:
the whole run is inside time_machine.travel(tick=True), shifted forward by
PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS + 1 s before stage 3, by the rollover's
CHECK_POLL + 1 s before stage 4, and by PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS + 1 min
before stage 5; the emulator's own clock is moved by the same amounts through its
control API (POST /_emulator/clock), so the proofs and tokens the portal signs at its
shifted time are judged at the same time. The shifts happen between stages and are
not timed.

Reported from this one run: per stage its seconds in all (its scan included), the
client's CPU seconds, the median milliseconds of one row's advance (of one check for
the check), its share of the total, and the peak of Python allocations during the stage
(tracemalloc, started after the set-up; --no-tracemalloc leaves it off, as it slows
every Python allocation); then the total, certificates per second, the process's peak
RSS (ru_maxrss, set-up included) and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import _database  # bench/_database.py: bench/ is first on sys.path
import requests
import time_machine
from emulator_throughput import session, start_emulator

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Mailbox-pass-1"
EXPIRES_IN_DAYS = 20


def setup_django(var_dir: str, base: str, ca: str) -> None:
    os.environ.update(
        DATABASE_URL=f"sqlite:///{var_dir}/bench.sqlite3",
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_VAR_DIR=var_dir,
        PORTAL_DEBUG="false",  # DEBUG would keep every query in memory
        PORTAL_LOG_LEVEL="WARNING",
        PORTAL_TASKS_EAGER="true",  # a check's retry, if any, runs at once
        MICROSOFT_CLOUD="emulator",
        MICROSOFT_LOGIN_URL=base,
        MICROSOFT_GRAPH_URL=f"{base}/graph",
        MICROSOFT_CA_BUNDLE=ca,
    )
    for name in ("REDIS_URL", "PORTAL_ENCRYPTION_KEYS", "PORTAL_ENCRYPTION_KEYS_FILE"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- set-up -------------------------------------------------------------------------


def seed_emulator(
    client: requests.Session, base: str, count: int, certificate_pem: str
) -> list[dict[str, str]]:
    """N directories, each with a mailbox, a consented app and the current certificate."""

    def api(path: str, body: dict[str, object]) -> dict[str, Any]:
        response = client.post(f"{base}/_emulator{path}", json=body)
        response.raise_for_status()
        created: dict[str, Any] = response.json()
        return created

    seeded = []
    for i in range(count):
        domain = f"bench{i}.onmicrosoft.com"
        directory = api("/directories", {"name": f"Bench {i}", "domains": [domain]})
        upn = f"dispatch@{domain}"
        api(f"/directories/{domain}/users", {"upn": upn, "password": PASSWORD})
        api(f"/users/{upn}/messages", {"subject": "Welcome"})
        app = api(
            "/apps",
            {"directory": directory["id"], "permissions": ["Mail.Read", "Mail.Send"]},
        )
        api(f"/apps/{app['client_id']}/consent", {"directory": directory["id"]})
        key = api(f"/apps/{app['client_id']}/certificates", {"certificate": certificate_pem})
        seeded.append(
            {
                "directory": str(directory["id"]),
                "client_id": str(app["client_id"]),
                "object_id": str(app["object_id"]),
                "key_id": str(key["key_id"]),
                "upn": upn,
            }
        )
    return seeded


def seed_portal(seeded: list[dict[str, str]], current: Any) -> None:
    """The portal's side of each tenant, as the wizard leaves it with a certificate."""
    from django.utils import timezone

    from onboarding.models import AppRegistration, ClientSecret, Mailbox, Tenant

    earlier = timezone.now() - timedelta(days=30)
    tenants = [Tenant(name=f"Bench tenant {i}") for i in range(len(seeded))]
    Tenant.objects.bulk_create(tenants)
    apps = [
        AppRegistration(
            tenant=tenant,
            client_id=one["client_id"],
            directory=one["directory"],
            directory_id=one["directory"],
            object_id=one["object_id"],
            authentication_confirmed_at=earlier,
            consent_granted_at=earlier,
            consent_confirmed_at=earlier,
        )
        for tenant, one in zip(tenants, seeded, strict=True)
    ]
    AppRegistration.objects.bulk_create(apps)
    credentials = []
    for app, one in zip(apps, seeded, strict=True):
        credential = ClientSecret(
            app=app,
            secret_id=one["key_id"],
            expires_on=date.today() + timedelta(days=EXPIRES_IN_DAYS),
            status=ClientSecret.Status.ACTIVE,
            created_at=earlier,
        )
        credential.set_private_key(
            current.private_key_pem,
            certificate_pem=current.certificate_pem,
            thumbprint=current.thumbprint,
        )
        credentials.append(credential)
    ClientSecret.objects.bulk_create(credentials)
    Mailbox.objects.bulk_create(
        Mailbox(tenant=tenant, address=one["upn"], created_at=earlier)
        for tenant, one in zip(tenants, seeded, strict=True)
    )


# --- the rollover -------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    per_ms: list[float] = field(default_factory=list)
    peak_python_mib: float | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.per_ms) if self.per_ms else 0.0


@contextmanager
def measured(stage: Stage, traced: bool) -> Iterator[None]:
    if traced:
        tracemalloc.reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    stage.seconds = time.perf_counter() - wall
    stage.cpu_seconds = time.process_time() - cpu
    if traced:
        stage.peak_python_mib = tracemalloc.get_traced_memory()[1] / 2**20


def roll_over(count: int, move_emulator_clock: Callable[[float], None], traced: bool) -> Any:
    from django.conf import settings
    from django.utils import timezone

    from onboarding.models import CertificateRollover
    from onboarding.renewal import rollover
    from onboarding.tasks import run_mailbox_check

    expected = CertificateRollover.Stage
    stages: list[Stage] = []
    checks: list[Any] = []
    unexpected: dict[str, int] = {}

    def advance_all(name: str, wanted: str) -> None:
        stage = Stage(name)
        stages.append(stage)
        with measured(stage, traced):
            ready = rollover.scan()
            for rollover_id in ready:
                one = time.perf_counter()
                advanced = rollover.advance(rollover_id)
                stage.per_ms.append((time.perf_counter() - one) * 1000)
                checks.extend(advanced.checks)
                if advanced.stage != wanted:
                    unexpected[f"{name}: {advanced.stage}"] = (
                        unexpected.get(f"{name}: {advanced.stage}", 0) + 1
                    )
        if len(ready) != count:
            unexpected[f"{name}: {len(ready)} rows ready"] = 1

    def run_checks() -> None:
        stage = Stage("proving check (real, via emulator)")
        stages.append(stage)
        with measured(stage, traced):
            for requested in checks:
                if not requested.is_new:
                    continue
                one = time.perf_counter()
                run_mailbox_check.run(str(requested.run.pk))
                stage.per_ms.append((time.perf_counter() - one) * 1000)
        checks.clear()

    with time_machine.travel(timezone.now(), tick=True) as traveller:

        def shift(seconds: float) -> None:
            traveller.shift(timedelta(seconds=seconds))
            move_emulator_clock(seconds)

        advance_all("claimed -> key_made (key generation)", expected.KEY_MADE)
        advance_all("key_made -> key_added (addKey)", expected.KEY_ADDED)
        shift(settings.PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS + 1)
        advance_all("key_added -> proving (check queued)", expected.PROVING)
        run_checks()
        shift(rollover.CHECK_POLL.total_seconds() + 1)
        advance_all("proving -> switched", expected.SWITCHED)
        shift(settings.PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS * 3600 + 60)
        advance_all("switched -> done (removeKey)", expected.DONE)
    return stages, unexpected


def outcome(client: requests.Session, base: str, seeded: list[dict[str, str]]) -> dict[str, Any]:
    """What the rows and the emulated apps show afterwards."""
    from django.db.models import Count

    from onboarding.models import CertificateRollover, CheckRun, ClientSecret

    rows = dict(CertificateRollover.objects.values_list("stage").annotate(n=Count("pk")).order_by())
    runs = dict(CheckRun.objects.values_list("status").annotate(n=Count("pk")).order_by())
    active = set(
        ClientSecret.objects.filter(status=ClientSecret.Status.ACTIVE).values_list(
            "thumbprint", flat=True
        )
    )
    state = client.get(f"{base}/_emulator/state")
    state.raise_for_status()
    ours = {one["client_id"] for one in seeded}
    only_new = sum(
        1
        for app in state.json()["apps"]
        if app["client_id"] in ours
        and [key["thumbprint"] for key in app["key_credentials"]]
        and all(key["thumbprint"] in active for key in app["key_credentials"])
        and len(app["key_credentials"]) == 1
    )
    return {"rollovers": rows, "checks": runs, "apps_with_only_the_new_key": only_new}


# --- reporting ----------------------------------------------------------------------


def report(count: int, seed_seconds: float, stages: list[Stage], after: dict[str, Any]) -> None:
    total = sum(stage.seconds for stage in stages)
    cpu = sum(stage.cpu_seconds for stage in stages)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peaks = [stage.peak_python_mib for stage in stages if stage.peak_python_mib is not None]
    print(f"{count} certificates rolled over, one worker; set-up {seed_seconds:.1f} s (untimed)")
    print(f"{'stage':<40} {'s':>8} {'cpu s':>8} {'med ms':>8} {'share':>6} {'peak MiB':>9}")
    for stage in stages:
        peak = f"{stage.peak_python_mib:9.1f}" if stage.peak_python_mib is not None else "      n/a"
        print(
            f"{stage.name:<40} {stage.seconds:8.2f} {stage.cpu_seconds:8.2f} "
            f"{stage.median_ms:8.1f} {stage.seconds / total:6.1%} {peak}"
        )
    medians = sum(stage.median_ms for stage in stages)
    print(
        f"{'all stages (med ms: sum of medians)':<40} {total:8.2f} {cpu:8.2f} {medians:8.1f} "
        f"{1:6.0%} {max(peaks) if peaks else float('nan'):9.1f}"
    )
    print(
        f"{count / total:.2f} certificates/s, {total / count * 1000:.1f} ms per certificate "
        f"on average; key generation {stages[0].seconds:.1f} s "
        f"= {stages[0].seconds / total:.1%} of the rollover; peak RSS {rss:.0f} MiB"
    )
    print(f"afterwards: {after}")
    line = {
        "bench": "rollover",
        "certificates": count,
        "setup_s": round(seed_seconds, 2),
        "total_s": round(total, 3),
        "total_cpu_s": round(cpu, 3),
        "mean_ms_per_certificate": round(total / count * 1000, 2),
        "sum_of_stage_medians_ms": round(medians, 2),
        "certificates_per_s": round(count / total, 2),
        "key_generation_s": round(stages[0].seconds, 3),
        "key_generation_share": round(stages[0].seconds / total, 4),
        "stages": {
            stage.name: {
                "s": round(stage.seconds, 3),
                "cpu_s": round(stage.cpu_seconds, 3),
                "median_ms": round(stage.median_ms, 2),
                "share": round(stage.seconds / total, 4),
                "peak_python_mib": None
                if stage.peak_python_mib is None
                else round(stage.peak_python_mib, 2),
            }
            for stage in stages
        },
        "peak_python_mib": round(max(peaks), 2) if peaks else None,
        "peak_rss_mib": round(rss, 1),
        "outcome": after,
    }
    print(json.dumps(line))
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--no-tracemalloc", action="store_true", help="timings without it")
    args = parser.parse_args()
    if args.certificates < 1:
        parser.error("--certificates must be at least 1")
    with tempfile.TemporaryDirectory() as var_dir:
        process, base, ca = start_emulator(Path(var_dir))
        try:
            client = session(ca)
            setup_django(var_dir, base, ca)
            logging.getLogger("onboarding").setLevel(logging.WARNING)
            from onboarding import certificates

            started = time.perf_counter()
            current = certificates.make(tenant_name="Bench")
            seeded = seed_emulator(client, base, args.certificates, current.certificate_pem)
            seed_portal(seeded, current)
            seed_seconds = time.perf_counter() - started

            def move_emulator_clock(seconds: float) -> None:
                moved = client.post(f"{base}/_emulator/clock", json={"advance_seconds": seconds})
                moved.raise_for_status()

            traced = not args.no_tracemalloc
            if traced:
                tracemalloc.start()
            stages, unexpected = roll_over(args.certificates, move_emulator_clock, traced)
            if traced:
                tracemalloc.stop()
            after = outcome(client, base, seeded)
            if unexpected:
                after["unexpected"] = unexpected
            report(args.certificates, seed_seconds, stages, after)
        finally:
            _database.close_django_connections()
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
