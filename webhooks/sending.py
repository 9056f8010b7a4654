"""Sending deliveries: claim one, sign and POST it, record what happened.

At least once: a delivery is pending until an endpoint answered 2xx or every attempt
of the schedule failed, and its event's id is the `webhook-id` of every attempt. In
order: a delivery waits while an earlier event of the same connection is still pending
for the same endpoint. Nothing is lost when a worker dies: the sweeper (`due()`) finds
pending deliveries whose task never ran or whose sender died mid-send (the claim is a
lease that runs out), so a delivery may be sent twice, never not at all.

These functions enqueue nothing: they return what to enqueue (webhooks/tasks.py does).
No secret, header or response body is logged or stored; `last_error` says what went
wrong in words.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.keyring import DecryptionError, KeyringError
from webhooks import http
from webhooks.models import Delivery, Endpoint
from webhooks.signing import signature_headers

logger = logging.getLogger(__name__)

_jitter = random.SystemRandom()
SWEEP_BATCH = 200


@dataclass
class Result:
    """What an attempt leaves to enqueue."""

    attempted: bool = False
    delivered: bool = False
    # This delivery's next attempt, in seconds.
    retry_in: float | None = None
    # Deliveries free to go now that this one is done (the next of its connection).
    ready: list[str] = field(default_factory=list)
    # An endpoint this attempt disabled: support is to hear of it.
    disabled_endpoint: str | None = None


def max_attempts() -> int:
    return len(settings.WEBHOOK_RETRY_SCHEDULE) + 1


def backoff(attempts_made: int) -> float:
    """Seconds before the next attempt, after `attempts_made` failed ones (jittered ±10%)."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    base = schedule[min(attempts_made, len(schedule)) - 1]
    return float(base) * _jitter.uniform(0.9, 1.1)


def lease() -> timedelta:
    # Longer than a task may run: a live sender is never overtaken by the sweeper.
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


def encode(payload: Any) -> bytes:
    """The body as sent: the same bytes on every attempt (keys sorted, no spaces)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def _sendable(now: datetime) -> Q:
    """The endpoint is enabled and its service account still usable: a revoked or
    expired account hears nothing more, even of events queued before."""
    return Q(endpoint__enabled=True, endpoint__owner__revoked_at__isnull=True) & (
        Q(endpoint__owner__expires_at__isnull=True) | Q(endpoint__owner__expires_at__gt=now)
    )


def _waits_for_earlier(delivery: Delivery) -> bool:
    return Delivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        connection_id=delivery.connection_id,
        state=Delivery.State.PENDING,
        sequence__lt=delivery.sequence,
    ).exists()


def attempt(delivery_id: str) -> Result:
    """One attempt of a delivery, if it is due, unclaimed, first in line and enabled."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return Result()
    now = timezone.now()
    body = encode(delivery.event.payload)
    try:
        headers = signature_headers(
            delivery.endpoint, message_id=delivery.event_id, body=body.decode(), now=now
        )
    except (DecryptionError, KeyringError):
        outcome = http.Outcome(
            False, None, "The signing secret cannot be decrypted: rotate the endpoint's secret."
        )
    else:
        outcome = http.post(delivery.endpoint.url, body=body, headers=headers)
    return _finish(delivery, outcome)


def _claim(delivery_id: str) -> Delivery | None:
    now = timezone.now()
    delivery = (
        Delivery.objects.select_related("endpoint", "event")
        .filter(pk=delivery_id, state=Delivery.State.PENDING)
        .filter(_sendable(now), _unclaimed(now))
        .first()
    )
    if delivery is None or (delivery.next_attempt_at and delivery.next_attempt_at > now):
        return None
    if _waits_for_earlier(delivery):
        return None
    # Conditional on the row being as read: of two workers, one claims it.
    claimed = (
        Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts)
        .filter(_unclaimed(now), state=Delivery.State.PENDING)
        .update(claimed_until=now + lease(), attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if not claimed:
        return None
    delivery.attempts += 1
    return delivery


def _finish(claimed: Delivery, outcome: http.Outcome) -> Result:
    now = timezone.now()
    result = Result(attempted=True, delivered=outcome.ok)
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event")
            .filter(pk=claimed.pk)
        ).first()
        if delivery is None:  # the endpoint was deleted meanwhile
            return result
        delivery.claimed_until = None
        delivery.last_status_code = outcome.status
        delivery.last_error = outcome.error[:300]
        if outcome.ok:
            delivery.state = Delivery.State.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.save()
            Endpoint.objects.filter(pk=delivery.endpoint_id).update(
                consecutive_failures=0, failing_since=None
            )
            result.ready = next_in_line(delivery.endpoint_id, delivery.connection_id, now=now)
            return result
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(
            consecutive_failures=F("consecutive_failures") + 1,
            failing_since=Coalesce("failing_since", now),
        )
        endpoint = Endpoint.objects.get(pk=delivery.endpoint_id)
        reason = ""
        if delivery.attempts >= max_attempts():
            delivery.state = Delivery.State.FAILED
            delivery.next_attempt_at = None
            reason = (
                f"All {delivery.attempts} attempts to deliver event {delivery.event_id} "
                f"failed; the last: {outcome.error}"
            )
        else:
            delay = backoff(delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            result.retry_in = delay
            hours = settings.WEBHOOK_DISABLE_AFTER_HOURS
            since = endpoint.failing_since
            if (
                endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
                and since is not None
                and since <= now - timedelta(hours=hours)
            ):
                reason = (
                    f"{endpoint.consecutive_failures} attempts in a row failed over "
                    f"{hours} hours; the last: {outcome.error}"
                )
        delivery.save()
        if reason and disable(endpoint.pk, reason[:300], now=now):
            result.disabled_endpoint = str(endpoint.pk)
            result.retry_in = None
    logger.info(
        "webhooks: delivery %s of %s attempt %d failed: %s",
        delivery.pk,
        delivery.event_id,
        delivery.attempts,
        outcome.error,
    )
    return result


def disable(endpoint_id: Any, reason: str, *, now: datetime | None = None) -> bool:
    """Disable an enabled endpoint; True if this call did. Its deliveries wait."""
    now = now or timezone.now()
    return bool(
        Endpoint.objects.filter(pk=endpoint_id, enabled=True).update(
            enabled=False, disabled_at=now, disabled_reason=reason
        )
    )


def next_in_line(endpoint_id: Any, connection_id: Any, *, now: datetime) -> list[str]:
    """The first pending delivery of a connection for an endpoint, if it is due."""
    first = (
        Delivery.objects.filter(
            endpoint_id=endpoint_id, connection_id=connection_id, state=Delivery.State.PENDING
        )
        .order_by("sequence")
        .values_list("pk", "next_attempt_at")
        .first()
    )
    if first is None or (first[1] is not None and first[1] > now):
        return []
    return [str(first[0])]


def due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[str]:
    """Deliveries overdue by the grace period: their task was lost, or their sender died.

    Only the first pending one of each connection and endpoint: the others follow it."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    candidates = (
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=cutoff)
        .filter(_sendable(now), _unclaimed(now))
        .order_by("next_attempt_at", "sequence")
    )
    found: list[str] = []
    seen: set[tuple[Any, Any]] = set()
    for delivery in candidates[: limit * 2]:
        line = (delivery.endpoint_id, delivery.connection_id)
        if line in seen or _waits_for_earlier(delivery):
            continue
        seen.add(line)
        found.append(str(delivery.pk))
        if len(found) >= limit:
            break
    return found
