"""Mail tokens per second through the API: gunicorn on this machine, real msal against
the Microsoft emulator, N connections, 1/10/50 concurrent callers.

Starts the emulator in its own process, seeds D directories of M mailboxes each (one
app and secret per directory: a credential), saves them in the portal with a service
key, starts gunicorn (W workers x T threads), then for each caller count runs C calls
per caller of POST /api/v1/connections/{id}/token, spread over every connection. Prints
tokens/s and p50/p95/p99 latency per caller count, beside the rate of the same callers
against GET /healthz/ (a bare request: the machine's ceiling), and the token requests
the emulator saw (the target: exactly one per credential per token lifetime, whatever
the callers).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_api \\
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/api_bench.py \\
        [--directories 100] [--per-directory 10] [--callers 1,10,50] [--calls 200] \\
        [--workers 4] [--threads 8]

DATABASE_URL is a scratch database (it is flushed!); without it a SQLite file in a
temporary folder is used, and without REDIS_URL Django's file cache there (shared by
the gunicorn workers, slower than Redis). A tiny run (a few seconds): --directories 2
--per-directory 2 --callers 1,2 --calls 5 --workers 1 --threads 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/ is the script's own folder, first on sys.path.
from checks_bench import Control, save_tenant, seed_directory  # noqa: E402
from emulator_throughput import start_emulator  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed(args: argparse.Namespace, control: Control) -> tuple[str, list[str]]:
    """Directories in the emulator and the portal; a key; the connection ids."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    from api import keys
    from onboarding.models import Mailbox

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    cache.clear()  # token caches of an earlier run
    for number in range(args.directories):
        save_tenant(seed_directory(control, number, args.per_directory), number)
    key = keys.create_account(name="Bench", scopes=["tokens:issue"]).value
    return key, [str(pk) for pk in Mailbox.objects.order_by("pk").values_list("pk", flat=True)]


def start_gunicorn(args: argparse.Namespace, port: int, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
    command += ["--threads", str(args.threads), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz/", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    sys.exit("gunicorn did not answer within 60 s.")


def run_callers(
    base: str, key: str, ids: list[str], callers: int, calls: int, *, bare: bool = False
) -> tuple[float, list[float], int]:
    """(seconds, latencies in ms, failures) of `callers` threads making `calls` each: token
    calls, or with `bare` GET /healthz/ (one query, no API code: this machine's ceiling)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    start = threading.Barrier(callers + 1)

    def caller(index: int) -> None:
        http = requests.Session()
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {key}"
        mine: list[float] = []
        bad = 0
        start.wait()
        for call in range(calls):
            connection = ids[(index * calls + call) % len(ids)]
            began = time.perf_counter()
            if bare:
                response = http.get(f"{base}/healthz/", timeout=30)
            else:
                response = http.post(f"{base}/api/v1/connections/{connection}/token", timeout=30)
            mine.append((time.perf_counter() - began) * 1000)
            bad += response.status_code != 200
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, failures[0]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--directories", type=int, default=100)
    parser.add_argument("--per-directory", type=int, default=10)
    parser.add_argument("--callers", default="1,10,50")
    parser.add_argument("--calls", type=int, default=200, help="calls per caller")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    args = parser.parse_args()
    levels = [int(level) for level in args.callers.split(",")]
    counts = (args.directories, args.per_directory, args.calls, args.workers, args.threads)
    if min(*counts, *levels) < 1:
        parser.error("every count must be at least 1")
    # A SIGTERM (a timeout, a test) still stops gunicorn and the emulator.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as var:
        emulator, emulator_url, ca = start_emulator(Path(var), threads=16)
        env = os.environ | {
            "MICROSOFT_LOGIN_URL": emulator_url,
            "MICROSOFT_GRAPH_URL": f"{emulator_url}/graph",
            "MICROSOFT_CA_BUNDLE": ca,
            "PORTAL_VAR_DIR": var,
            "PORTAL_EMAIL_BACKEND": "file",
            # As in production: DEBUG keeps every query in memory.
            "PORTAL_DEBUG": "false",
            "PORTAL_API_RATE_PER_KEY": "100000000/min",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
        os.environ.update(env)
        gunicorn = None
        try:
            control = Control(emulator_url, ca)
            key, ids = seed(args, control)
            control.call("DELETE", "/counters")
            port = free_port()
            gunicorn = start_gunicorn(args, port, env)
            base = f"http://127.0.0.1:{port}"
            # Each gunicorn process builds its msal app per credential (discovery) and
            # reads the shared token once: a warm-up pass over every connection, from as
            # many callers as gunicorn has threads, keeps that out of the figures.
            warm = args.workers * args.threads
            seconds, _, failed = run_callers(base, key, ids, warm, max(1, len(ids) // warm + 1))
            print(f"warm-up: {seconds:.1f} s, {failed} failed")
            print(
                f"{len(ids)} connections, {args.directories} credentials; gunicorn "
                f"{args.workers} workers x {args.threads} threads; database "
                f"{'PostgreSQL' if 'postgres' in os.environ.get('DATABASE_URL', '') else 'SQLite'}"
                f", cache {'Redis' if os.environ.get('REDIS_URL') else 'files'}"
            )
            # Each level is followed by the same callers against the cheapest page there is
            # (GET /healthz/: one query, no API code), so that the ratio says how much of
            # this machine's capacity (shared with the callers themselves) a token takes.
            print(
                "callers | calls | tokens/s | p50 ms | p95 ms | p99 ms | failed | "
                "bare requests/s | bare p95 ms | tokens/bare"
            )
            for callers in levels:
                seconds, latencies, failed = run_callers(base, key, ids, callers, args.calls)
                bare_s, bare, bare_failed = run_callers(
                    base, key, ids, callers, args.calls, bare=True
                )
                rate, bare_rate = len(latencies) / seconds, len(bare) / bare_s
                print(
                    f"{callers} | {len(latencies)} | {rate:.1f} | "
                    f"{statistics.median(latencies):.1f} | {percentile(latencies, 0.95):.1f} | "
                    f"{percentile(latencies, 0.99):.1f} | {failed + bare_failed} | "
                    f"{bare_rate:.1f} | {percentile(bare, 0.95):.1f} | {rate / bare_rate:.2f}"
                )
            counters: dict[str, Any] = control.call("GET", "/counters")
            per_credential = counters["token_requests"]
            print(
                f"token requests at the emulator: {sum(per_credential.values())} for "
                f"{args.directories} credentials (at most "
                f"{max(per_credential.values(), default=0)} per credential)"
            )
        finally:
            if gunicorn is not None:
                gunicorn.terminate()
                gunicorn.wait(timeout=30)
            emulator.terminate()
            emulator.wait(timeout=30)


if __name__ == "__main__":
    main()
