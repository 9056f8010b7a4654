"""Requests per second the Microsoft emulator serves: token, Graph inbox read, and a mix.

Starts `python -m microsoft_emulator` in its own process (so client and server each get
a core of this 2-core machine), seeds it through the control API, then runs client
threads with keep-alive sessions and no injected latency. Prints every run and the
median per workload.

    .venv/bin/python bench/emulator_throughput.py [--runs 5] [--seconds 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def start_emulator(var_dir: Path, threads: int = 16) -> tuple[subprocess.Popen[str], str, str]:
    command = [sys.executable, "-m", "microsoft_emulator", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--var-dir", str(var_dir), "--threads", str(threads)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    base = process.stdout.readline().split(" on ")[1].strip()
    return process, base, str(var_dir / "emulator" / "ca.pem")


def session(ca: str) -> requests.Session:
    client = requests.Session()
    client.trust_env = False
    client.verify = ca
    return client


def seed(client: requests.Session, base: str, mailboxes: int) -> dict[str, object]:
    def api(path: str, body: dict[str, object]) -> dict[str, object]:
        response = client.post(f"{base}/_emulator{path}", json=body)
        response.raise_for_status()
        created: dict[str, object] = response.json()
        return created

    directory = api("/directories", {"name": "Bench", "domains": ["bench.onmicrosoft.com"]})
    upns = [f"mailbox{i}@bench.onmicrosoft.com" for i in range(mailboxes)]
    for upn in upns:
        api("/directories/bench.onmicrosoft.com/users", {"upn": upn, "password": "pw"})
        api(f"/users/{upn}/messages", {"subject": "Hello"})
    app = api("/apps", {"directory": directory["id"], "permissions": ["Mail.Read", "Mail.Send"]})
    secret = api(f"/apps/{app['client_id']}/secrets", {"days": 30})
    api(f"/apps/{app['client_id']}/consent", {"directory": directory["id"]})
    return {
        "tenant": directory["id"],
        "client_id": app["client_id"],
        "secret": secret["value"],
        "upns": upns,
    }


def token_call(client: requests.Session, base: str, seeded: dict[str, object]) -> str:
    response = client.post(
        f"{base}/{seeded['tenant']}/oauth2/v2.0/token",
        data={
            "client_id": seeded["client_id"],
            "client_secret": seeded["secret"],
            "grant_type": "client_credentials",
            "scope": f"{base}/graph/.default",
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def inbox_call(client: requests.Session, base: str, upn: str, token: str) -> None:
    response = client.get(
        f"{base}/graph/v1.0/users/{upn}/mailFolders/inbox/messages",
        params={"$top": "1", "$select": "id,subject,receivedDateTime"},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()


def run(
    threads: int, seconds: float, work: Callable[[int, requests.Session], int], ca: str
) -> float:
    """Requests per second over all threads, each looping `work` (which returns calls made)."""
    counts = [0] * threads
    clients = [session(ca) for _ in range(threads)]
    for index, client in enumerate(clients):
        work(index, client)  # open the keep-alive connection before timing
    stop = time.perf_counter() + seconds
    barrier = threading.Barrier(threads + 1)

    def loop(index: int) -> None:
        barrier.wait()
        while time.perf_counter() < stop:
            counts[index] += work(index, clients[index])

    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        process, base, ca = start_emulator(Path(var_dir))
        try:
            seeded = seed(session(ca), base, arguments.threads)
            token = token_call(session(ca), base, seeded)
            upns: list[str] = seeded["upns"]  # type: ignore[assignment]

            def tokens(index: int, client: requests.Session) -> int:
                token_call(client, base, seeded)
                return 1

            def inbox(index: int, client: requests.Session) -> int:
                inbox_call(client, base, upns[index], token)
                return 1

            def mixed(index: int, client: requests.Session) -> int:
                fresh = token_call(client, base, seeded)
                for _ in range(4):
                    inbox_call(client, base, upns[index], fresh)
                return 5

            workloads = {"token": tokens, "graph inbox": inbox, "1 token + 4 graph": mixed}
            print(f"emulator {base}; {arguments.threads} client threads, keep-alive, no latency")
            for name, work in workloads.items():
                rates = [
                    run(arguments.threads, arguments.seconds, work, ca)
                    for _ in range(arguments.runs)
                ]
                shown = ", ".join(f"{rate:.0f}" for rate in rates)
                print(f"{name:>18}: median {statistics.median(rates):6.0f} req/s  (runs: {shown})")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
