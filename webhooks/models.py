"""Webhook endpoints, the outbox of events, and one delivery per event and endpoint.

The outbox row is written in the same transaction as the change that causes it
(webhooks.outbox.record), so an event exists exactly when its change does; deliveries
are sent afterwards, as often as it takes (at least once, with the event's stable id).
Tenants and connections are plain ids: this app sits below onboarding and knows
nothing of its models.
"""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class EventType(models.TextChoices):
    CONNECTION_VERIFIED = "connection.verified", "A connection was verified"
    CONNECTION_FAILING = "connection.failing", "A connection is failing"
    CONNECTION_RECOVERED = "connection.recovered", "A failing connection works again"
    CREDENTIAL_EXPIRING = "credential.expiring", "A client secret expires soon"
    CREDENTIAL_RENEWED = "credential.renewed", "A client secret was renewed"
    CONNECTION_REMOVED = "connection.removed", "A connection was removed"


EVENT_TYPES = frozenset(EventType.values)


class Endpoint(models.Model):
    """A URL of the operations app that receives the events it subscribed to.

    The signing secret (`whsec_…`) is shown once and stored encrypted with the vault's
    keyring (webhooks/signing.py), bound to this row and field like every secret column.
    During a rotation the previous secret signs too, until `previous_secret_expires_at`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # By string: the API sits above this app, which never imports it.
    owner = models.ForeignKey(
        "api.ServiceAccount", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    secret_ciphertext = models.BinaryField(null=True, editable=False)
    secret_key_id = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    previous_secret_ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    previous_secret_key_id = models.CharField(
        max_length=32, blank=True, db_index=True, editable=False
    )
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Failed attempts in a row (any event), and when the current run of them began.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Webhook endpoint {self.pk}"


class ConnectionSequence(models.Model):
    """The last sequence number given to an event of a connection.

    A counter row, updated in the caller's transaction: the update locks the row, so
    two transactions recording events for one connection take numbers in turn."""

    connection_id = models.UUIDField(primary_key=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Connection {self.connection_id}: {self.last} events"


class OutboxEvent(models.Model):
    """One event, exactly as it is sent: its id is the `webhook-id` of every delivery
    and every retry of it, so receivers can drop duplicates."""

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    tenant_id = models.UUIDField(db_index=True)
    connection_id = models.UUIDField()
    # Per connection, from 1: the order in which its events are delivered.
    sequence = models.PositiveBigIntegerField()
    # The whole JSON body: {"type", "timestamp", "data"} (Standard Webhooks' shape).
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection_id", "sequence"], name="webhook_event_connection_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.pk}"


class Delivery(models.Model):
    """One event for one endpoint: its attempts and their outcome (never a secret)."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Given up"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    # Copies of the event's, so the order check is one indexed query.
    connection_id = models.UUIDField()
    sequence = models.PositiveBigIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender holds the delivery until then; after that (a worker died mid-send) the
    # sweeper may hand it to another.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "connection_id", "state", "sequence"],
                name="webhook_delivery_order",
            ),
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"Delivery of {self.event_id} to {self.endpoint_id}"
