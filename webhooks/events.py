"""The six events, each with its one payload shape: what onboarding calls when a
connection changes. Plain values in (ids, health names, dates), never a model or a
secret; each call records in the caller's transaction (webhooks.outbox.record).

A connection is a mailbox: `connection_id` is the mailbox's id, as in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from webhooks.models import EventType, OutboxEvent
from webhooks.outbox import record

# The health names of onboarding's Tenant.Health, as plain strings: this app cannot
# import onboarding. Failing and expired both mean the operations app cannot read mail.
HEALTHY = "healthy"
UNKNOWN = "unknown"
ALARMING = frozenset({"failing", "expired"})


def health_changed(
    *, tenant_id: Any, connection_id: Any, old: str, new: str, diagnosis_code: str = ""
) -> OutboxEvent | None:
    """The event a health change means, if any: into failing or expired (failing), out
    of them to healthy (recovered), or from unknown to healthy (verified)."""
    if new in ALARMING and old not in ALARMING:
        event_type = EventType.CONNECTION_FAILING
    elif new == HEALTHY and old in ALARMING:
        event_type = EventType.CONNECTION_RECOVERED
    elif new == HEALTHY and old == UNKNOWN:
        # A change the admin saves (a replaced secret, say) resets the health to unknown
        # without an event; if the operations app was last told "failing", this is, to
        # it, a recovery.
        told = _last_told(connection_id)
        failing = EventType.CONNECTION_FAILING
        event_type = (
            EventType.CONNECTION_RECOVERED if told == failing else EventType.CONNECTION_VERIFIED
        )
    else:
        return None
    return record(
        event_type,
        tenant_id=tenant_id,
        connection_id=connection_id,
        data={"health": new, "previous_health": old, "diagnosis_code": diagnosis_code},
    )


def _last_told(connection_id: Any) -> str | None:
    """The last health event recorded for the connection (None: none)."""
    health_events = (
        EventType.CONNECTION_VERIFIED,
        EventType.CONNECTION_FAILING,
        EventType.CONNECTION_RECOVERED,
    )
    return (
        OutboxEvent.objects.filter(connection_id=connection_id, type__in=health_events)
        .order_by("-sequence")
        .values_list("type", flat=True)
        .first()
    )


def credential_expiring(
    *,
    tenant_id: Any,
    connection_ids: Iterable[Any],
    secret_id: Any,
    expires_on: date,
    days_left: int,
) -> list[OutboxEvent]:
    """A client secret reached a reminder threshold: one event per connection using it."""
    data = {
        "secret_id": str(secret_id),
        "expires_on": expires_on.isoformat(),
        "days_left": days_left,
    }
    return [
        record(
            EventType.CREDENTIAL_EXPIRING,
            tenant_id=tenant_id,
            connection_id=connection_id,
            data=data,
        )
        for connection_id in connection_ids
    ]


def credential_renewed(
    *,
    tenant_id: Any,
    connection_ids: Iterable[Any],
    secret_id: Any,
    expires_on: date | None,
    retired_secret_ids: Iterable[Any] = (),
) -> list[OutboxEvent]:
    """A renewed client secret was proved and is in use: one event per connection."""
    data = {
        "secret_id": str(secret_id),
        "expires_on": expires_on.isoformat() if expires_on else None,
        "retired_secret_ids": [str(retired) for retired in retired_secret_ids],
    }
    return [
        record(
            EventType.CREDENTIAL_RENEWED,
            tenant_id=tenant_id,
            connection_id=connection_id,
            data=data,
        )
        for connection_id in connection_ids
    ]


def connection_removed(*, tenant_id: Any, connection_id: Any, address: str) -> OutboxEvent:
    """The customer removed the mailbox: its id answers 404 from now on."""
    return record(
        EventType.CONNECTION_REMOVED,
        tenant_id=tenant_id,
        connection_id=connection_id,
        data={"address": address},
    )
