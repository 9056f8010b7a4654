"""The token call's rows, kept in this process's memory while the shared version of the
connections (onboarding.changes) stays the same.

A token call read a key with its account, the account's tenants, the mailbox and the
tenant's secret with its app: five queries, about 9 ms of this machine's CPU, for rows
that change a few times a day. Here they cost one shared-cache read per call (the
version), and every change anywhere makes every process read them again on its next
call. Entries also end after MAX_AGE, so that a writer that forgot to announce its
change (a bug) would be seen within that time rather than never.

Only found rows are kept: an unknown key or id goes to the database every time (so
guessing cannot fill the memory), and so do refusals.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from time import monotonic
from typing import Any, TypeVar

from api.models import ServiceAccount, ServiceKey
from onboarding import changes

T = TypeVar("T")

MAX_AGE = 60.0
MAX_ENTRIES = 20_000

_ATTRIBUTE = "_connections_version"


def version(request: Any) -> str:
    """The version for this request: read once, kept on the Django request."""
    raw = getattr(request, "_request", request)  # DRF's Request wraps Django's
    found = getattr(raw, _ATTRIBUTE, None)
    if found is None:
        found = changes.version()
        setattr(raw, _ATTRIBUTE, found)
    return str(found)


class Memo:
    """key -> value under a version; a dict, so reads need no lock (the GIL)."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[str, float, Any]] = {}

    def get(self, key: Hashable, version: str, load: Callable[[], T | None]) -> T | None:
        now = monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version and entry[1] > now:
            return entry[2]
        value = load()
        if value is not None:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()  # far more rows than connections: start over
            self._entries[key] = (version, now + MAX_AGE, value)
        return value


# Keys and accounts are kept too: their saves, deletes and tenant lists announce
# themselves like the connections' rows (api/keys.py's UPDATEs call changed()).
changes.announce_writes(ServiceAccount, ServiceKey)
changes.announce_changes_of(ServiceAccount.tenants.through)
