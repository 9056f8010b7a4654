"""Registering, re-keying and removing endpoints (the API's webhook views call these).

Input is checked here, so every caller refuses the same URLs and events the same way:
`EndpointRefused` carries a code, the field and a message safe to show.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction

from webhooks.addresses import UnsafeURL, check_url
from webhooks.models import EVENT_TYPES, Endpoint
from webhooks.signing import new_secret, rotate_secret, seal_secret


class EndpointRefused(ValueError):
    def __init__(self, field: str, code: str, message: str) -> None:
        self.field = field
        self.code = code
        self.message = message
        super().__init__(message)


def clean_url(url: Any) -> str:
    if not isinstance(url, str):
        raise EndpointRefused("url", "invalid_url", "Give the endpoint's URL as text.")
    try:
        check_url(url.strip())
    except UnsafeURL as refused:
        raise EndpointRefused("url", refused.code, refused.message) from None
    return url.strip()


def clean_events(events: Any) -> list[str]:
    known = ", ".join(sorted(EVENT_TYPES))
    if not isinstance(events, list) or not events:
        raise EndpointRefused("events", "invalid_events", f"List one or more of: {known}.")
    if not all(isinstance(event, str) for event in events):
        raise EndpointRefused("events", "invalid_events", f"List one or more of: {known}.")
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown:
        raise EndpointRefused(
            "events",
            "unknown_event",
            f"Unknown event type {unknown[0][:60]!r}; use any of: {known}.",
        )
    return sorted(set(events))


def create(owner_id: Any, *, url: Any, events: Any) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret, which only this call ever returns."""
    cleaned_url, cleaned_events = clean_url(url), clean_events(events)
    with transaction.atomic():
        # Count under a lock on nothing: a race may pass the limit by one, which is harmless.
        existing = Endpoint.objects.filter(owner_id=owner_id).count()
        if existing >= settings.WEBHOOK_MAX_ENDPOINTS_PER_ACCOUNT:
            raise EndpointRefused(
                "url",
                "too_many_endpoints",
                f"An account may have at most {settings.WEBHOOK_MAX_ENDPOINTS_PER_ACCOUNT} "
                "webhook endpoints; delete one first.",
            )
        endpoint = Endpoint(owner_id=owner_id, url=cleaned_url, events=cleaned_events)
        secret = new_secret()
        # The primary key exists before the save (a UUID default): the blob binds to it.
        seal_secret(endpoint, secret)
        endpoint.save()
    return endpoint, secret


def rotate(endpoint: Endpoint) -> str:
    """A new signing secret (returned once); the old one signs too for the overlap."""
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        secret = rotate_secret(locked)
        locked.save()
    return secret


def delete(endpoint: Endpoint) -> None:
    """Remove it with its deliveries; the outbox events stay for the other endpoints."""
    endpoint.delete()


def owned_by(owner_id: Any) -> Iterable[Endpoint]:
    return Endpoint.objects.filter(owner_id=owner_id).order_by("created_at")
