"""Forgetting old events: the outbox keeps what support may want to see or replay, and
then lets go, so the tables do not grow forever."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from webhooks.models import Delivery, OutboxEvent

BATCH = 1000


def prune(*, now: datetime | None = None) -> int:
    """Delete events older than WEBHOOK_RETENTION_DAYS with no pending delivery (their
    deliveries go with them); returns how many. A pending one is never dropped."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    pending = Delivery.objects.filter(event=OuterRef("pk"), state=Delivery.State.PENDING)
    removed = 0
    while True:
        ids = list(
            OutboxEvent.objects.filter(created_at__lt=cutoff)
            .exclude(Exists(pending))
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return removed
        OutboxEvent.objects.filter(pk__in=ids).delete()
        removed += len(ids)
