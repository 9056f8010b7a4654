"""Fault injection per endpoint, recorded responses replayed verbatim, Microsoft's
mailbox concurrency limit, and counters.

Shares are deterministic (an accumulator, not a random draw): a share of 0.25 fails
exactly every fourth request, so tests can count on it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ENDPOINTS = (
    "discovery",
    "instance",
    "keys",
    "userrealm",
    "token",
    "authorize",
    "adminconsent",
    "graph.user",
    "graph.messages",
    "graph.sendMail",
    "graph.application",
    "graph.servicePrincipal",
    "graph.policy",
)
# Outlook's limit per app ID and mailbox (Graph throttling-limits.md).
MAILBOX_CONCURRENCY = 4


@dataclass
class Fault:
    latency_ms: int = 0
    throttle_share: float = 0.0
    retry_after: int = 5
    error_share: float = 0.0
    error_status: int = 503

    def __post_init__(self) -> None:
        for name in ("throttle_share", "error_share"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency_ms < 0 or self.retry_after < 0:
            raise ValueError("latency_ms and retry_after must not be negative")
        if self.error_status != 401 and not 500 <= self.error_status <= 599:
            raise ValueError("error_status must be 401 (Graph only) or a 5xx status")


@dataclass
class Replay:
    """A response Microsoft really gave (a recording under tests/), served as it is,
    byte for byte, to the next `times` requests to one endpoint: the emulator's own
    answer cannot hide a difference from the real one."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1

    def __post_init__(self) -> None:
        if not 100 <= int(self.status) <= 599:
            raise ValueError("status must be an HTTP status")
        if int(self.times) < 1:
            raise ValueError("times must be at least 1")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()):
            raise ValueError("headers must map names to strings")


@dataclass
class Outcome:
    """What to do to one request: wait, then answer with `status` instead (or not), or
    with a recorded response."""

    latency: float = 0.0
    status: int | None = None
    retry_after: int = 0
    replay: Replay | None = None


@dataclass
class Counters:
    requests: Counter[str] = field(default_factory=Counter)
    token_requests: Counter[str] = field(default_factory=Counter)
    grants: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    throttled_mailboxes: Counter[str] = field(default_factory=Counter)
    peak_concurrency: dict[str, int] = field(default_factory=dict)
    peak_concurrency_per_app: dict[str, int] = field(default_factory=dict)


class Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.faults: dict[str, Fault] = {}
        self.replays: dict[str, list[Replay]] = {}
        self.mailbox_limit = MAILBOX_CONCURRENCY
        self.counters = Counters()
        self._accumulated: dict[str, float] = {}
        self._in_flight: Counter[tuple[str, str]] = Counter()

    def set(self, endpoint: str, fault: Fault) -> None:
        if endpoint != "*" and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of *, {', '.join(ENDPOINTS)}")
        if fault.error_status == 401 and not endpoint.startswith("graph."):
            raise ValueError("a 401 (token rejected) is a Graph answer: set it on a graph endpoint")
        with self.lock:
            self.faults[endpoint] = fault

    def replay(self, endpoint: str, replay: Replay) -> None:
        """Answer the next `replay.times` requests to `endpoint` with the recording
        (after any recordings queued before it)."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {', '.join(ENDPOINTS)}")
        with self.lock:
            self.replays.setdefault(endpoint, []).append(replay)

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.replays.clear()
            self._accumulated.clear()
            self.mailbox_limit = MAILBOX_CONCURRENCY

    def reset_counters(self) -> None:
        with self.lock:
            self.counters = Counters()

    def decide(self, endpoint: str) -> Outcome:
        """Count the request and decide its injected fault, if any."""
        with self.lock:
            self.counters.requests[endpoint] += 1
            if queued := self.replays.get(endpoint):
                self.counters.injected[f"{endpoint}:replay"] += 1
                return Outcome(replay=self._next(endpoint, queued))
            fault = self.faults.get(endpoint) or self.faults.get("*")
            if fault is None:
                return Outcome()
            outcome = Outcome(latency=fault.latency_ms / 1000)
            if self._due(f"{endpoint}:429", fault.throttle_share):
                outcome.status, outcome.retry_after = 429, fault.retry_after
            elif self._due(f"{endpoint}:5xx", fault.error_share):
                outcome.status = fault.error_status
            if outcome.status:
                self.counters.injected[f"{endpoint}:{outcome.status}"] += 1
            return outcome

    def _next(self, endpoint: str, queued: list[Replay]) -> Replay:
        replay = queued[0]
        replay.times -= 1
        if replay.times == 0:
            queued.pop(0)
            if not queued:
                del self.replays[endpoint]
        return replay

    def _due(self, key: str, share: float) -> bool:
        if share <= 0:
            return False
        self._accumulated[key] = self._accumulated.get(key, 0.0) + share
        if self._accumulated[key] >= 1 - 1e-9:
            self._accumulated[key] -= 1
            return True
        return False

    def count_token(self, client_id: str, grant_type: str) -> None:
        with self.lock:
            self.counters.token_requests[client_id.lower()] += 1
            self.counters.grants[grant_type] += 1

    @contextmanager
    def mailbox_slot(self, app_id: str, mailbox: str) -> Iterator[bool]:
        """Hold one of the app's concurrent slots on a mailbox; False when over the limit."""
        key = (app_id.lower(), mailbox.lower())
        with self.lock:
            self._in_flight[key] += 1
            attempted = self._in_flight[key]
            peaks, per_app = self.counters.peak_concurrency, self.counters.peak_concurrency_per_app
            peaks[key[1]] = max(peaks.get(key[1], 0), attempted)
            per_app[f"{key[0]} {key[1]}"] = max(per_app.get(f"{key[0]} {key[1]}", 0), attempted)
            allowed = attempted <= self.mailbox_limit
            if not allowed:
                self._in_flight[key] -= 1
                self.counters.throttled_mailboxes[key[1]] += 1
        try:
            yield allowed
        finally:
            if allowed:
                with self.lock:
                    self._in_flight[key] -= 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "faults": {name: asdict(f) for name, f in self.faults.items()},
                "replays": {name: sum(r.times for r in q) for name, q in self.replays.items()},
                "mailbox_limit": self.mailbox_limit,
                # Not asdict(): it would rebuild each Counter from (key, count) pairs.
                "counters": {
                    f.name: dict(getattr(self.counters, f.name)) for f in fields(self.counters)
                },
            }
