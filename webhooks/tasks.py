"""Thin Celery tasks for webhooks, with fixed names (queued messages and beat name them).

Tasks take ids only. They are acknowledged late (a worker that dies mid-task leaves the
message to another), and the sweeper, run by beat every minute, re-sends whatever is
overdue anyway: a task that was never queued, or lost with its worker, costs a minute's
delay, never the delivery.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.db import transaction

from webhooks import notices, retention, sending

logger = logging.getLogger(__name__)


@shared_task(name="webhooks.tasks.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: str) -> bool:
    """One attempt of a delivery; then queue its retry or the next of its connection."""
    try:
        result = sending.attempt(delivery_id)
    except Exception as exc:  # the last line of defence
        # The claim's lease runs out and the sweeper tries again. Only the type is
        # logged: an exception's text could quote a URL's query or a header.
        logger.error("webhooks: delivery %s raised %s", delivery_id, type(exc).__name__)
        return False
    follow_up(delivery_id, result)
    return result.delivered


def follow_up(delivery_id: str, result: sending.Result) -> None:
    if result.retry_in is not None:
        transaction.on_commit(
            partial(deliver.apply_async, (delivery_id,), countdown=result.retry_in)
        )
    for ready_id in result.ready:
        transaction.on_commit(partial(deliver.delay, ready_id))
    if result.disabled_endpoint is not None:
        transaction.on_commit(partial(notify_endpoint_disabled.delay, result.disabled_endpoint))


def enqueue(delivery_ids: list[str]) -> None:
    """Queue each delivery once the caller's transaction has committed."""
    for delivery_id in delivery_ids:
        transaction.on_commit(partial(deliver.delay, delivery_id))


@shared_task(name="webhooks.tasks.sweep", ignore_result=True)
def sweep() -> int:
    """Queue the deliveries that are overdue: their task was lost or their worker died."""
    overdue = sending.due()
    for delivery_id in overdue:
        deliver.delay(delivery_id)
    return len(overdue)


@shared_task(name="webhooks.tasks.prune", ignore_result=True)
def prune() -> int:
    return retention.prune()


# The disable is committed first; a mail server that is down is retried.
@shared_task(
    name="webhooks.tasks.notify_endpoint_disabled",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
def notify_endpoint_disabled(endpoint_id: str) -> bool:
    return notices.endpoint_disabled(endpoint_id)
