"""Recording an event: the outbox row and its deliveries, in the caller's transaction.

    with transaction.atomic():
        ...change the mailbox...
        outbox.record("connection.failing", tenant_id=..., connection_id=..., data={...})

The event exists exactly when the change commits: a rollback takes it back, and a
worker that dies after the commit leaves it in the outbox for the sweeper. The
deliveries are queued on commit. `data` holds plain facts (ids, codes, dates), never a
secret: it is sent as is to every subscribed endpoint.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from webhooks import tasks
from webhooks.models import EVENT_TYPES, ConnectionSequence, Delivery, Endpoint, OutboxEvent

WEBHOOKS_SCOPE = "webhooks:manage"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_message_id() -> str:
    """`msg_` and a ULID: sortable by time, 80 random bits, unique across processes."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    characters = []
    for _ in range(26):
        characters.append(_CROCKFORD[value & 31])
        value >>= 5
    return "msg_" + "".join(reversed(characters))


def record(
    event_type: str, *, tenant_id: Any, connection_id: Any, data: dict[str, Any]
) -> OutboxEvent:
    """Write an event and its deliveries; call inside transaction.atomic()."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}.")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "webhooks.outbox.record() must be called inside transaction.atomic(), with the "
            "change that causes the event."
        )
    tenant, connection = UUID(str(tenant_id)), UUID(str(connection_id))
    now = timezone.now()
    sequence = _next_sequence(connection)
    event = OutboxEvent.objects.create(
        id=new_message_id(),
        type=event_type,
        tenant_id=tenant,
        connection_id=connection,
        sequence=sequence,
        created_at=now,
        payload={
            "type": event_type,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {
                **data,
                "tenant_id": str(tenant),
                "connection_id": str(connection),
                "sequence": sequence,
            },
        },
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            event=event,
            endpoint=endpoint,
            connection_id=connection,
            sequence=sequence,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in subscribers(event_type, tenant, now=now)
    )
    tasks.enqueue([str(delivery.pk) for delivery in deliveries])
    return event


def subscribers(event_type: str, tenant_id: UUID, *, now: Any = None) -> list[Endpoint]:
    """Enabled endpoints for the event whose account may see the tenant and is usable."""
    now = now or timezone.now()
    candidates = (
        Endpoint.objects.filter(enabled=True)
        .filter(owner__revoked_at__isnull=True)
        .filter(Q(owner__expires_at__isnull=True) | Q(owner__expires_at__gt=now))
        # An account limited to some tenants hears only of those.
        .filter(Q(owner__tenants__isnull=True) | Q(owner__tenants__id=tenant_id))
        .select_related("owner")
        .distinct()
        .order_by("created_at")
    )
    # JSON lists are filtered here: SQLite has no JSON `contains`.
    return [
        endpoint
        for endpoint in candidates
        if event_type in endpoint.events and WEBHOOKS_SCOPE in (endpoint.owner.scopes or [])
    ]


def _next_sequence(connection_id: UUID) -> int:
    # The UPDATE locks the counter row until the caller commits: two transactions for one
    # connection take their numbers in turn, never the same one.
    if not ConnectionSequence.objects.filter(pk=connection_id).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                ConnectionSequence.objects.create(connection_id=connection_id, last=1)
            return 1
        except IntegrityError:  # another transaction created it first
            ConnectionSequence.objects.filter(pk=connection_id).update(last=F("last") + 1)
    return ConnectionSequence.objects.get(pk=connection_id).last
