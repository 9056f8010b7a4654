"""What both round trips to Microsoft (admin consent, the mailbox owner's sign-in) do
with the `state` they keep in the session and the parameters Microsoft sends back.

A state is believed only when it was made in this session less than `ttl` ago and is
used for the first time. Two requests with one session cookie read the same session,
so its single use is also recorded in the database (ConsentUse, a unique hash): of any
number of concurrent callbacks with one state exactly one is believed. Every refusal
raises the caller's own exception, naming a rule, never a received value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding.models import ConsentUse

_AADSTS = re.compile(r"\bAADSTS(\d{4,9})\b")
# What Microsoft sends back to an authorization code flow's redirect URI: the code and
# its state, or an error (entra-docs v2-oauth2-auth-code-flow.md).
AUTH_CODE_PARAMS = (
    "state",
    "code",
    "session_state",
    "client_info",
    "error",
    "error_subcode",
    "error_description",
    "error_uri",
)


def use_key(value: str) -> str:
    """The hash a state or link is recorded under: never the value itself."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class States:
    """The states one round trip keeps in the session, under `session_key`."""

    session_key: str
    ttl: timedelta
    pattern: re.Pattern[str]
    max_pending: int
    error: type[Exception]

    def remember(self, session: SessionBase, state: str, entry: dict[str, Any]) -> None:
        """Keep a new state (the oldest go beyond `max_pending`), stamped with the time."""
        pending = self._live(session)
        while len(pending) >= self.max_pending:
            pending.pop(min(pending, key=lambda key: pending[key]["at"]))
        pending[state] = {**entry, "at": timezone.now().timestamp()}
        session[self.session_key] = pending

    def pop(self, session: SessionBase, state: str) -> dict[str, Any]:
        """The state's entry, removed from the session; the error unless it was made in
        this session within `ttl`."""
        if not self.pattern.match(state):
            raise self.error("state missing or malformed")
        pending = session.get(self.session_key)
        if not isinstance(pending, dict) or state not in pending:
            raise self.error("state unknown in this session (forged, foreign or used)")
        entry = pending.pop(state)
        session[self.session_key] = pending
        age = timezone.now().timestamp() - float(entry.get("at", 0))
        if not 0 <= age <= self.ttl.total_seconds():
            raise self.error("state expired")
        return dict(entry)

    def _live(self, session: SessionBase) -> dict[str, dict[str, Any]]:
        pending = session.get(self.session_key)
        if not isinstance(pending, dict):
            return {}
        oldest = (timezone.now() - self.ttl).timestamp()
        return {state: entry for state, entry in pending.items() if entry.get("at", 0) > oldest}


def use_once(kind: str, key: str, *, ttl: timedelta, error: type[Exception]) -> None:
    """Record the first use of a state or link (its hashed `key`); refuse any later one.
    The unique key decides between concurrent requests (committed at once, so a request
    that fails afterwards still used it up). Uses older than any live value are dropped."""
    try:
        with transaction.atomic():
            ConsentUse.objects.create(key=key, kind=kind)
    except IntegrityError:
        raise error(f"{kind} used before") from None
    ConsentUse.objects.filter(kind=kind, used_at__lt=timezone.now() - 2 * ttl).delete()


def single_params(
    query: Any, names: tuple[str, ...], *, max_length: int, error: type[Exception]
) -> dict[str, str]:
    """The parameters Microsoft sends back that the flow reads, each at most once and
    plausible; anything else is ignored."""
    params = {}
    for name in names:
        values = query.getlist(name)
        if len(values) > 1:
            raise error(f"{name} given more than once")
        if values:
            if len(values[0]) > max_length or "\x00" in values[0]:
                raise error(f"{name} is not a plausible value")
            params[name] = values[0]
    return params


def error_code_and_words(params: Mapping[str, str]) -> tuple[str, str, bool]:
    """An error redirect's code (the AADSTS number in error_description, else `error`),
    Microsoft's first line without the code, and whether the code came from the text."""
    description = params.get("error_description", "")
    match = _AADSTS.search(description)
    code = f"AADSTS{match.group(1)}" if match else params["error"][:64]
    first_line = description.replace("\r", "\n").split("\n", 1)[0]
    message = _AADSTS.sub("", first_line).lstrip(": ").strip()[:500]
    return code, message, match is not None
