"""msal token caches shared by every worker process, so that a credential needs one
token request per token lifetime however many processes check its mailboxes.

A cache is msal's own serialization (`SerializableTokenCache`, the persistence msal
documents), encrypted with the vault's keyring because it holds bearer tokens, and kept
in Django's cache (Redis in production, a folder in the embedded setup) until the token
would expire. Keys are HMACs of the credential, never the secret itself.

`fetch_lock` keeps two processes from requesting the same credential's first token at
once: the first one in takes it, the others wait until its token is stored (or the
lock lapses) and then read it. The lock is `cache.add`, atomic in Redis.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache

from onboarding import vault

_PREFIX = "msal-token-cache"
# Longer than one token request can take (the HTTP timeout), so a lock never lapses
# while its holder is still asking; short enough that a crashed holder costs little.
LOCK_SECONDS = 30.0
_POLL_SECONDS = 0.05


def credential_key(*parts: str) -> str:
    """A stable name for one credential: an HMAC, so the cache key reveals nothing."""
    message = "\x00".join(parts).encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"{_PREFIX}:{digest}"


def _binding(key: str) -> vault.Binding:
    return vault.Binding("msal.TokenCache", key, "serialized")


def load(key: str) -> str | None:
    """The stored cache, or None when absent or unreadable (a rotated key, say)."""
    blob = cache.get(key)
    if not isinstance(blob, bytes):
        return None
    try:
        return vault.current_keyring().decrypt(blob, _binding(key))
    except vault.DecryptionError:
        return None


def save(key: str, serialized: str, seconds: float) -> None:
    """Store the cache for `seconds` (the token's remaining life)."""
    if seconds <= 0:
        return
    blob = vault.current_keyring().encrypt(serialized, _binding(key))
    cache.set(key, blob, timeout=seconds)


def drop(key: str) -> None:
    cache.delete(key)


@contextlib.contextmanager
def fetch_lock(key: str, wait: float = LOCK_SECONDS) -> Iterator[bool]:
    """Hold the right to request this credential's token. Yields True when held; False
    when another process held it for `wait` seconds (then the caller goes ahead: a
    second token request is better than no check)."""
    lock = f"{key}:lock"
    deadline = time.monotonic() + wait
    while not cache.add(lock, 1, timeout=LOCK_SECONDS):
        if time.monotonic() >= deadline:
            yield False
            return
        time.sleep(_POLL_SECONDS)
    try:
        yield True
    finally:
        cache.delete(lock)
