"""Every script in bench/ runs once, tiny, to the end: it prints its figures, exits 0,
and leaves no database of its own behind on the PostgreSQL server.

The scripts run as they are run by hand (a child process, from the repository root),
on the server the suite uses: PostgreSQL is whatever the suite's DATABASE_URL points
at (scripts/test_services.py), skipped locally without it, a failure in CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
# Generous: each run takes a few seconds; only a hung bench should ever reach it.
TIMEOUT = 120
NUMBER = r"[\d,]+(?:\.\d+)?"


@pytest.fixture
def postgres_server() -> str:
    """The suite's PostgreSQL server as the benches take it: a URL without a database."""
    require_service("PostgreSQL", connection.vendor == "postgresql")
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST']}:{db['PORT'] or 5432}"


def admin(server: str) -> psycopg.Connection:
    return psycopg.connect(f"{server}/postgres", autocommit=True)


def database_exists(server: str, name: str) -> bool:
    with admin(server) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def bench_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment without the portal's own settings: each bench sets its own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PORTAL_", "BENCH_"))
        and name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    # Nothing lands in the repository's var/ (encryption keys, mail, cache).
    return {**env, "PORTAL_VAR_DIR": str(tmp_path), **extra}


def run_bench(script: str, *args: str, env: dict[str, str]) -> str:
    process = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    # Shown by pytest when an assertion fails.
    print(f"--- stdout\n{process.stdout}\n--- stderr\n{process.stderr}")
    assert process.returncode == 0, f"bench/{script} exited {process.returncode}"
    return process.stdout


def figures(pattern: str, output: str) -> list[Any]:
    """Every match in the output: a string per line, or a tuple of its groups."""
    return re.findall(pattern, output, flags=re.MULTILINE)


def number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.postgres
def test_it_runs_the_support_bench_and_drops_its_database(postgres_server, tmp_path):
    output = run_bench(
        "support_bench.py",
        *("--tenants", "20", "--requests", "2", "--postgres", postgres_server),
        env=bench_env(tmp_path),
    )
    result = json.loads(output[output.index("{\n") :])
    pages = {"list", "list filtered", "list search", "overview"}
    assert result["tenants"] == [10, 20]
    for size in ("10", "20"):
        assert set(result[size]) == pages
        for timing in result[size].values():
            assert 0 < timing["median_ms"] <= timing["p95_ms"]
    assert set(result["ratio_of_medians"]) == pages
    assert all(ratio > 0 for ratio in result["ratio_of_medians"].values())
    assert not database_exists(postgres_server, "portal_bench_support")


@pytest.mark.postgres
def test_it_runs_the_reminders_bench_and_drops_its_database(postgres_server, tmp_path):
    env = bench_env(tmp_path, BENCH_POSTGRES_URL=f"{postgres_server}/postgres")
    output = run_bench("reminders_bench.py", "--sizes", "50", "100", "--runs", "1", env=env)
    assert "PostgreSQL, median of 1 scans (and of 1 send rounds):" in output
    rows = figures(rf"^\s*(\d+)\s+(\d+)\s+({NUMBER})\s+(\d+)\s+({NUMBER})\s+({NUMBER})$", output)
    assert [int(row[0]) for row in rows] == [50, 100]
    for _, due, scan_seconds, queries, _, _ in rows:
        assert int(due) >= 0
        assert number(scan_seconds) >= 0
        assert int(queries) > 0
    assert figures(rf"^ratio 2x secrets -> ({NUMBER})x scan time$", output)
    assert not database_exists(postgres_server, "portal_bench_reminders")


@pytest.mark.postgres
def test_it_runs_the_vault_bench_and_drops_its_database(postgres_server, tmp_path):
    output = run_bench(
        "vault_bench.py",
        *("--rows", "50", "--repeats", "1", "--batch-size", "20", "--cipher-rounds", "200"),
        *("--postgres", postgres_server),
        env=bench_env(tmp_path),
    )
    ciphers = dict(figures(rf"^  (encrypt|decrypt|round_trip)\s+({NUMBER}) ops/s$", output))
    assert set(ciphers) == {"encrypt", "decrypt", "round_trip"}
    assert all(number(rate) > 0 for rate in ciphers.values())
    rotations = dict(figures(rf"^  (SQLite|PostgreSQL)\s+median\s+({NUMBER}) rows/s", output))
    assert set(rotations) == {"SQLite", "PostgreSQL"}
    assert all(number(rate) > 0 for rate in rotations.values())
    assert figures(rf"^  SQLite/PostgreSQL speed ratio: ({NUMBER})$", output)
    assert not database_exists(postgres_server, "portal_bench_vault")


@pytest.fixture
def scratch_database(postgres_server) -> Iterator[str]:
    """The checks bench flushes the database it is given rather than making its own."""
    name = "portal_bench_checks_test"
    statement = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    with admin(postgres_server) as conn:
        conn.execute(statement)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with admin(postgres_server) as conn:  # only if the test failed before its own drop
        conn.execute(sql.SQL("{} WITH (FORCE)").format(statement))


@pytest.mark.postgres
@pytest.mark.redis
def test_it_runs_the_checks_bench_and_leaves_no_session_behind(
    postgres_server, scratch_database, redis_url, tmp_path
):
    env = bench_env(
        tmp_path,
        DATABASE_URL=f"{postgres_server}/{scratch_database}",
        REDIS_URL=redis_url,
    )
    output = run_bench(
        "checks_bench.py",
        *("--directories", "1", "--per-directory", "2", "--latency-ms", "5"),
        *("--workers", "1", "--concurrency", "2", "--runs", "1"),
        env=env,
    )
    assert figures(r"^run 1: checks=2\.00, failed=0\.00, ", output)
    table = figures(rf"^1 x 2 \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER})$", output)
    assert len(table) == 1
    rate, bound, ratio, _ = (number(value) for value in table[0])
    assert rate > 0
    assert bound > 0
    assert ratio > 0
    # A plain DROP (no FORCE) fails while any session of the bench or its workers is left.
    with admin(postgres_server) as conn:
        conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(scratch_database)))
    assert not database_exists(postgres_server, scratch_database)


def test_it_runs_the_emulator_throughput_bench(tmp_path):
    output = run_bench(
        "emulator_throughput.py",
        *("--runs", "1", "--seconds", "0.2", "--threads", "1"),
        env=bench_env(tmp_path),
    )
    workloads = r"token|graph inbox|1 token \+ 4 graph"
    rates = figures(rf"^\s*({workloads}): median\s+({NUMBER}) req/s", output)
    assert [name for name, _ in rates] == ["token", "graph inbox", "1 token + 4 graph"]
    assert all(number(rate) > 0 for _, rate in rates)


def test_it_runs_the_verify_latency_bench(tmp_path):
    output = run_bench("verify_latency_bench.py", "--runs", "2", env=bench_env(tmp_path))
    rows = figures(
        rf"^(before|after) \| ({NUMBER}) / ({NUMBER}) \| ({NUMBER}) / ({NUMBER})$", output
    )
    assert [row[0] for row in rows] == ["before", "after"]
    for _, *timings in rows:
        answer_median, answer_p90, click_median, click_p90 = (number(t) for t in timings)
        assert 0 <= answer_median <= answer_p90
        assert 0 < click_median <= click_p90
    assert figures(r"\(2/2 passed\)$", output) == ["(2/2 passed)", "(2/2 passed)"]


def test_it_runs_the_api_bench_with_one_token_request_per_credential(tmp_path):
    output = run_bench(
        "api_bench.py",
        *("--directories", "2", "--per-directory", "2", "--callers", "1,2", "--calls", "5"),
        *("--workers", "1", "--threads", "2"),
        env=bench_env(tmp_path),
    )
    rows = figures(
        rf"^(\d+) \| (\d+) \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \| (\d+)"
        rf" \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER})$",
        output,
    )
    assert [(row[0], row[1], row[6]) for row in rows] == [("1", "5", "0"), ("2", "10", "0")]
    for _, _, rate, p50, p95, p99, _, bare_rate, bare_p95, ratio in rows:
        assert number(rate) > 0
        assert 0 < number(p50) <= number(p95) <= number(p99)
        assert number(bare_rate) > 0
        assert number(bare_p95) > 0
        assert number(ratio) == pytest.approx(number(rate) / number(bare_rate), abs=0.01)
    assert "token requests at the emulator: 2 for 2 credentials (at most 1 per" in output


def test_it_runs_the_certificate_bench(tmp_path):
    output = run_bench(
        "certificate_bench.py",
        *("--certificates", "3", "--tokens", "3", "--runs", "1"),
        env=bench_env(tmp_path),
    )
    (made,) = figures(rf"^generation of 3 certificates: ({NUMBER}) s in all", output)
    assert number(made) > 0
    medians = figures(rf"^median (secret|certificate): ({NUMBER}) ms CPU per token", output)
    assert [name for name, _ in medians] == ["secret", "certificate"]
    assert all(number(cpu) > 0 for _, cpu in medians)
    assert figures(rf"^certificate / secret, CPU per token: ({NUMBER})$", output)


def test_it_runs_the_rollover_bench_through_every_stage(tmp_path):
    output = run_bench("rollover_bench.py", "--certificates", "3", env=bench_env(tmp_path))
    (rolled,) = figures(rf"^({NUMBER}) certificates rolled over, one worker", output)
    assert rolled == "3"
    (total,) = figures(rf"^all stages \(med ms: sum of medians\)\s+({NUMBER})", output)
    assert number(total) > 0
    outcome = json.loads(output.strip().splitlines()[-1])["outcome"]
    assert outcome == {
        "rollovers": {"done": 3},
        "checks": {"passed": 3},
        "apps_with_only_the_new_key": 3,
    }
