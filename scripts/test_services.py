"""Print shell `export` lines that point the test suite at PostgreSQL and Redis.

A service is used when reachable (the variables win, then 127.0.0.1 defaults).
Locally a missing service means SQLite and skipped Redis tests; with CI=true a
missing service stops the run, because CI must never skip them.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def main() -> int:
    in_ci = os.environ.get("CI", "").lower() == "true"
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS_URL
    missing = []
    if reachable(database_url, 5432):
        print(f"export DATABASE_URL={shlex.quote(database_url)}")
        print("echo '    PostgreSQL: yes' >&2")
    else:
        missing.append("PostgreSQL")
        print("echo '    PostgreSQL: not reachable, the suite runs on SQLite' >&2")
    if reachable(redis_url, 6379):
        print(f"export TEST_REDIS_URL={shlex.quote(redis_url)}")
        print("echo '    Redis: yes' >&2")
    else:
        missing.append("Redis")
        print("echo '    Redis: not reachable, its tests are skipped' >&2")
    if missing and in_ci:
        print(f"echo 'CI=true and not reachable: {', '.join(missing)}' >&2; exit 1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
