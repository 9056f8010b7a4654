"""Benchmark of onboarding.vault: cipher speed and key rotation on SQLite and PostgreSQL.

    .venv/bin/python bench/vault_bench.py [--rows 100000] [--repeats 3] [--batch-size 500]
        [--cipher-rounds 20000] [--postgres postgres://postgres@127.0.0.1:5432]
        [--skip-postgres]

1. Encrypt and decrypt of a 40-character client secret: operations per second,
   median of 5 runs of --cipher-rounds (one encrypt+decrypt pair counts as one
   round trip).
2. Rotation of --rows client secrets with `vault.rotate_column`, in a temporary
   SQLite file and in a PostgreSQL database named portal_bench_vault (created here,
   and dropped once its results are printed). Each repeat rotates every row to the
   other key; the median rows per second is reported, timed without tracemalloc. A
   last rotation runs under tracemalloc for the peak of Python allocations; the
   process's peak RSS (getrusage) is reported too. Every backend runs in a child
   process of its own, because Django's settings are fixed per process.

A tiny run: --rows 50 --repeats 1 --batch-size 20 --cipher-rounds 200.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date
from pathlib import Path

import _database  # bench/_database.py: bench/ is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "portal_bench_vault"
SECRET = "abc8Q~" + "x" * 34


def cipher_speed(rounds: int = 20_000, runs: int = 5) -> dict[str, float]:
    from portal import keyring

    ring = keyring.parse_keyring(keyring.generate_entry("bench"))
    binding = keyring.Binding("onboarding.clientsecret", str(uuid.uuid4()), "value")
    blob = ring.encrypt(SECRET, binding)
    results: dict[str, list[float]] = {"encrypt": [], "decrypt": [], "round_trip": []}
    for _ in range(runs):
        results["encrypt"].append(rate(rounds, lambda: ring.encrypt(SECRET, binding)))
        results["decrypt"].append(rate(rounds, lambda: ring.decrypt(blob, binding)))
        results["round_trip"].append(
            rate(rounds, lambda: ring.decrypt(ring.encrypt(SECRET, binding), binding))
        )
    return {name: statistics.median(values) for name, values in results.items()}


def rate(count: int, operation) -> float:
    started = time.perf_counter()
    for _ in range(count):
        operation()
    return count / (time.perf_counter() - started)


def child(rows: int, repeats: int, batch_size: int) -> None:
    """Runs inside the child process, with DATABASE_URL already pointing at its database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    try:
        child_rotations(rows, repeats, batch_size)
    finally:
        _database.close_django_connections()


def child_rotations(rows: int, repeats: int, batch_size: int) -> None:
    from django.core.management import call_command

    from onboarding import vault
    from portal import keyring

    call_command("migrate", verbosity=0)
    first, second = keyring.generate_entry("k1"), keyring.generate_entry("k2")
    insert_rows(rows, keyring.parse_keyring(first))
    rings = [keyring.parse_keyring(f"{second},{first}"), keyring.parse_keyring(f"{first},{second}")]
    column = vault.SECRET_COLUMNS[0]
    speeds = []
    for repeat in range(repeats):
        started = time.perf_counter()
        rotated = run_rotation(column, rings[repeat % 2], batch_size)
        speeds.append(rotated / (time.perf_counter() - started))
    tracemalloc.start()
    run_rotation(column, rings[repeats % 2], batch_size)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "rows_per_second": statistics.median(speeds),
        "runs": speeds,
        "tracemalloc_peak_mib": peak / 2**20,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result))


def run_rotation(column, ring, batch_size: int) -> int:
    from onboarding import vault

    report = vault.rotate_column(column, ring, batch_size=batch_size)
    if report.remaining or report.failed:
        raise RuntimeError(f"Rotation left rows behind: {report}")
    return report.rotated


def insert_rows(rows: int, ring) -> None:
    from onboarding.models import AppRegistration, ClientSecret, Tenant

    tenant = Tenant.objects.create(name="Bench")
    app = AppRegistration.objects.create(tenant=tenant, client_id=uuid.uuid4(), directory="b")
    for start in range(0, rows, 5_000):
        batch = []
        for _ in range(min(5_000, rows - start)):
            secret = ClientSecret(app=app, secret_id=uuid.uuid4(), expires_on=date(2030, 1, 1))
            binding = secret_column_binding(secret.pk)
            secret.value_ciphertext = ring.encrypt(SECRET, binding)
            secret.value_key_id, secret.hint = ring.active_key_id, SECRET[:3]
            batch.append(secret)
        ClientSecret.objects.bulk_create(batch)


def secret_column_binding(pk):
    from onboarding import vault

    return vault.SECRET_COLUMNS[0].binding(pk)


def run_child(database_url: str, args: argparse.Namespace, var_dir: str) -> dict:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PORTAL_")}
    env.update(DATABASE_URL=database_url, PORTAL_VAR_DIR=var_dir, PORTAL_DEBUG="false")
    command = [sys.executable, __file__, "--child", "--rows", str(args.rows)]
    command += ["--repeats", str(args.repeats), "--batch-size", str(args.batch_size)]
    # The child's stderr goes straight to ours: a failure shows its traceback.
    output = subprocess.run(
        command, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def print_rotation(backend: str, result: dict) -> None:
    runs = ", ".join(f"{speed:,.0f}" for speed in result["runs"])
    print(
        f"  {backend:<10} median {result['rows_per_second']:>9,.0f} rows/s (runs: {runs}); "
        f"tracemalloc peak {result['tracemalloc_peak_mib']:.1f} MiB; "
        f"max RSS {result['max_rss_mib']:.0f} MiB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--cipher-rounds", type=int, default=20_000)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if min(args.rows, args.repeats, args.batch_size, args.cipher_rounds) < 1:
        parser.error("--rows, --repeats, --batch-size and --cipher-rounds must be at least 1")
    sys.path.insert(0, str(ROOT))
    if args.child:
        child(args.rows, args.repeats, args.batch_size)
        return
    speeds = cipher_speed(args.cipher_rounds)
    print(f"Cipher (AES-256-GCM, 40-character secret), median of 5 runs of {args.cipher_rounds:,}:")
    for name, value in speeds.items():
        print(f"  {name:<11} {value:>12,.0f} ops/s")
    print(f"Rotation of {args.rows:,} rows, batches of {args.batch_size}, {args.repeats} runs:")
    with tempfile.TemporaryDirectory() as var_dir:
        sqlite_url = f"sqlite:///{Path(var_dir) / 'bench.sqlite3'}"
        sqlite = run_child(sqlite_url, args, var_dir)
    print_rotation("SQLite", sqlite)
    if args.skip_postgres:
        return
    admin_url = f"{args.postgres}/postgres"
    database_url = _database.create(admin_url, BENCH_DATABASE)
    try:
        with tempfile.TemporaryDirectory() as var_dir:
            postgresql = run_child(database_url, args, var_dir)
        # Printed before the database is dropped: a failed clean-up never loses them.
        print_rotation("PostgreSQL", postgresql)
        ratio = sqlite["rows_per_second"] / postgresql["rows_per_second"]
        print(f"  SQLite/PostgreSQL speed ratio: {ratio:.2f}", flush=True)
    finally:
        _database.drop(admin_url, BENCH_DATABASE)


if __name__ == "__main__":
    main()
