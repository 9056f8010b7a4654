"""Certificates the portal makes (issue 18): key generation, and the cost of signing in
with a certificate against a client secret.

    .venv/bin/python bench/certificate_bench.py [--certificates 1000] [--tokens 200] [--runs 3]

1. Generation of --certificates key pairs and self-signed certificates with
   onboarding.certificates.make (RSA 2048): total seconds, median milliseconds per
   certificate, the peak of Python allocations (tracemalloc) and the process's peak RSS.
2. Token acquisition through msal against the emulator (started here, in its own
   process, so that client and server each get a core): --tokens app-only tokens for
   one app with a client secret, then with a certificate (msal signs a PS256 client
   assertion for each request), every one a request to the token endpoint (msal's
   cache emptied before each). Reported: the client's CPU seconds per token
   (time.process_time) and tokens per second, the median of --runs, and the ratio
   certificate / secret of the medians, all from this one run.

A tiny run: --certificates 3 --tokens 5 --runs 1.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import msal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from emulator_throughput import seed, session, start_emulator

from onboarding import certificates


def generation(count: int) -> dict[str, float]:
    per: list[float] = []
    tracemalloc.start()
    started = time.perf_counter()
    for _ in range(count):
        one = time.perf_counter()
        certificates.make(tenant_name="Bench", days=365)
        per.append((time.perf_counter() - one) * 1000)
    total = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": total,
        "median_ms": statistics.median(per),
        "peak_python_mib": peak / 2**20,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def tokens(app: Any, scope: list[str], count: int) -> tuple[float, float]:
    """(CPU seconds per token, tokens per second) for `count` token requests."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        app.token_cache.deserialize(None)  # every call asks the token endpoint
        result = app.acquire_token_for_client(scope)
        assert "access_token" in result, result
    return (time.process_time() - cpu) / count, count / (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    made = generation(args.certificates)
    print(
        f"generation of {args.certificates} certificates: {made['seconds']:.1f} s in all, "
        f"median {made['median_ms']:.1f} ms each; peak Python allocations "
        f"{made['peak_python_mib']:.1f} MiB, peak RSS {made['peak_rss_mib']:.0f} MiB"
    )
    with tempfile.TemporaryDirectory() as var_dir:
        process, base, ca = start_emulator(Path(var_dir))
        try:
            client = session(ca)
            seeded = seed(client, base, mailboxes=1)
            cert = certificates.make(tenant_name="Bench", days=365)
            uploaded = client.post(
                f"{base}/_emulator/apps/{seeded['client_id']}/certificates",
                json={"certificate": cert.certificate_pem},
            )
            uploaded.raise_for_status()
            authority = f"{base}/{seeded['tenant']}"
            common = {
                "authority": authority,
                "http_client": client,
                "instance_discovery": False,
                "token_cache": msal.SerializableTokenCache(),
            }
            by_secret = msal.ConfidentialClientApplication(
                seeded["client_id"], client_credential=seeded["secret"], **common
            )
            by_certificate = msal.ConfidentialClientApplication(
                seeded["client_id"],
                client_credential={
                    "private_key": cert.private_key_pem,
                    "public_certificate": cert.certificate_pem,
                },
                **{**common, "token_cache": msal.SerializableTokenCache()},
            )
            scope = [f"{base}/graph/.default"]
            figures: dict[str, list[tuple[float, float]]] = {"secret": [], "certificate": []}
            for run in range(args.runs):
                for name, app in (("secret", by_secret), ("certificate", by_certificate)):
                    cpu, rate = tokens(app, scope, args.tokens)
                    figures[name].append((cpu, rate))
                    print(
                        f"run {run + 1} {name}: {cpu * 1000:.2f} ms CPU per token, "
                        f"{rate:.1f} tokens/s"
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)
    medians = {
        name: (statistics.median(c for c, _ in runs), statistics.median(r for _, r in runs))
        for name, runs in figures.items()
    }
    for name, (cpu, rate) in medians.items():
        print(f"median {name}: {cpu * 1000:.2f} ms CPU per token, {rate:.1f} tokens/s")
    ratio = medians["certificate"][0] / medians["secret"][0]
    print(f"certificate / secret, CPU per token: {ratio:.2f}")


if __name__ == "__main__":
    main()
