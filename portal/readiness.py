"""Readiness: whether this process can do its work now (for load balancers and compose
health checks), as opposed to /healthz/, which only says it is alive.

Each dependency is tried for real and cheaply: the database (SELECT 1), the cache (a
write read back), the broker (a connection), the keyring (an encryption decrypted
again). The answer names each one "ok" or "failed" and nothing more: the reasons go to
the log, not to an unauthenticated caller. Beat's last heartbeat (a task beat sends
every minute, which a worker runs) is reported, not judged: a web process is ready
whether or not beat runs; the operator's alert watches its age.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from portal.keyring import Binding

logger = logging.getLogger(__name__)
HEARTBEAT_KEY = "readiness:beat-heartbeat"
# How often beat sends its heartbeat (settings.CELERY_BEAT_SCHEDULE), in seconds.
HEARTBEAT_SECONDS = 60
_PROBE = Binding("readiness", "probe", "keyring")


def heartbeat(now: float | None = None) -> None:
    """Beat's heartbeat, run by a worker: the time it ran."""
    cache.set(HEARTBEAT_KEY, now if now is not None else time.time(), timeout=None)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key, value = f"readiness:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not return what was written")
    finally:
        cache.delete(key)


def _broker() -> None:
    # The project's app (portal/__init__.py makes it the current one).
    with current_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


def _keyring() -> None:
    ring = settings.ENCRYPTION_KEYRING
    if ring is None:
        raise RuntimeError("no encryption keys are configured")
    if ring.decrypt(ring.encrypt("probe", _PROBE), _PROBE) != "probe":
        raise RuntimeError("the keyring did not decrypt its own encryption")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
    "keyring": _keyring,
}


def report(now: float | None = None) -> tuple[bool, dict[str, Any]]:
    """(ready, the answer's body)."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means not ready; its reason is logged only
            logger.warning("Readiness: %s failed (%s)", name, type(exc).__name__)
            results[name] = "failed"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": results}
    try:
        last = cache.get(HEARTBEAT_KEY)
    except Exception:
        last = None
    moment = now if now is not None else time.time()
    body["beat"] = {
        "last_heartbeat_seconds_ago": round(moment - float(last)) if last is not None else None,
        "expected_every_seconds": HEARTBEAT_SECONDS,
    }
    return ready, body
