"""SQLite as `make run` uses it: the web server, the worker and beat write the same
file at once, and none of them may lose its work to "database is locked"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Two threads, each in a transaction that reads and then writes, overlapping: with
# SQLite's default deferred transactions in WAL mode the second writer fails at once
# (its snapshot is stale), whatever the timeout.
SCRIPT = r"""
import json, sys, threading, time
import django
django.setup()
from django.db import connection, connections, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS work (id INTEGER PRIMARY KEY, who TEXT)")
connection.close()
barrier = threading.Barrier(2)
errors = []

def write(who):
    try:
        barrier.wait()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM work")
            time.sleep(0.3)
            cursor.execute("INSERT INTO work (who) VALUES (%s)", [who])
    except Exception as exc:
        errors.append(f"{who}: {exc}")
    finally:
        connections.close_all()

threads = [threading.Thread(target=write, args=(who,)) for who in ("web", "worker")]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT who FROM work ORDER BY who")
    rows = [row[0] for row in cursor.fetchall()]
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()[0]
print(json.dumps({"rows": rows, "errors": errors, "journal_mode": mode}))
"""


def test_two_writers_at_once_both_succeed(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == []
    assert outcome["rows"] == ["web", "worker"]
    assert outcome["journal_mode"] == "wal"
