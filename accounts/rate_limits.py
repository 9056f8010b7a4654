"""Counting attempts in fixed windows, in Django's cache (Redis in production, a
folder in development): support's checks per mailbox, password-reset requests per
address and per client IP, invitation-token guesses per client IP.

Fixed windows: the key names the window (the hour since the epoch, for an hour), so a
counter starts with `cache.add` and grows with `cache.incr`, both atomic in Redis, and
concurrent requests never both slip under a limit. Its TTL is the rest of the window,
set again after each `incr` because Django's file and database caches implement incr
as get + set with the default timeout. Keys hold a keyed hash of what they count (an
address, an IP), never the value itself; `fingerprint` gives the same hash for logs.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

HOUR = 3600


def fingerprint(value: str) -> str:
    """A short keyed hash of `value` (an address, an IP) to log or key on instead of it."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def _now() -> float:
    return time.time()


def _key(scope: str, value: str, window: int) -> tuple[str, int]:
    """The counter's key for the current window, and the seconds left in it."""
    now = int(_now())
    bucket, elapsed = divmod(now, window)
    return f"rate-limit:{scope}:{window}:{bucket}:{fingerprint(value)}", window - elapsed


def hit(scope: str, value: str, *, limit: int, window: int = HOUR) -> bool:
    """Count one attempt for `value` in `scope`; True while the count is within `limit`
    for the current window of `window` seconds."""
    key, ttl = _key(scope, value, window)
    if cache.add(key, 1, timeout=ttl):
        return limit >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: the window just ended
        cache.add(key, 1, timeout=ttl)
        return limit >= 1
    cache.touch(key, ttl)
    return count <= limit


def exhausted(scope: str, value: str, *, limit: int, window: int = HOUR) -> bool:
    """Whether `value` has already used up `limit` attempts in the current window
    (reads the counter without counting)."""
    count = cache.get(_key(scope, value, window)[0], 0)
    return isinstance(count, int) and count >= limit
