"""What support does with deliveries: see an endpoint's recent ones, replay one, and
enable (or disable) an endpoint. For the support dashboard to call; nothing here
checks who asks (the dashboard's views do)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from webhooks import sending, tasks
from webhooks.models import Delivery, Endpoint

RECENT = 50


class ReplayRefused(Exception):
    """The delivery cannot be replayed now; the message says why, for support."""


def endpoints() -> QuerySet[Endpoint]:
    """Every endpoint with its service account, the disabled first (they need support)."""
    return Endpoint.objects.select_related("owner").order_by("enabled", "owner__name", "created_at")


def recent(endpoint_id: Any, *, limit: int = RECENT) -> QuerySet[Delivery]:
    """The endpoint's newest deliveries with their events: state, attempts, last status
    and error, delivered_at. Never a secret (none is stored with a delivery)."""
    return (
        Delivery.objects.filter(endpoint_id=endpoint_id)
        .select_related("event")
        .order_by("-created_at", "-sequence")[:limit]
    )


def replay(delivery_id: Any) -> Delivery:
    """Send a delivery again, now, with the same webhook-id and body.

    Receivers that drop duplicates by webhook-id will drop a replay of a delivery they
    already took; that is the point of the stable id. A replayed delivery takes its
    place in its connection's order again (later events of the connection wait)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery_id)
        )
        now = timezone.now()
        if not delivery.endpoint.enabled:
            raise ReplayRefused("The endpoint is disabled: enable it first.")
        if delivery.claimed_until is not None and delivery.claimed_until > now:
            raise ReplayRefused("The delivery is being sent right now.")
        delivery.state = Delivery.State.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.claimed_until = None
        delivery.delivered_at = None
        delivery.save()
        tasks.enqueue([str(delivery.pk)])
    return delivery


def enable(endpoint_id: Any) -> int:
    """Enable an endpoint again; its waiting deliveries start over, in order, now.

    Returns how many deliveries were waiting."""
    now = timezone.now()
    with transaction.atomic():
        Endpoint.objects.filter(pk=endpoint_id).update(
            enabled=True,
            disabled_at=None,
            disabled_reason="",
            consecutive_failures=0,
            failing_since=None,
        )
        waiting = Delivery.objects.filter(endpoint_id=endpoint_id, state=Delivery.State.PENDING)
        count = waiting.update(attempts=0, next_attempt_at=now, claimed_until=None)
        lines = set(waiting.values_list("connection_id", flat=True))
        for connection_id in lines:
            tasks.enqueue(sending.next_in_line(endpoint_id, connection_id, now=now))
    return count


def disable(endpoint_id: Any, reason: str = "Disabled by support.") -> bool:
    return sending.disable(endpoint_id, reason[:300])
