"""Support staff's pages for the operations app's webhook endpoints: every endpoint,
one endpoint's recent deliveries, and replay / enable / disable. The work is done by
webhooks/deliveries.py; these views ask, record who did it, and show.

No signing secret is ever read here: the queries never select the secret columns.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from onboarding.audit import audit_record
from support.decorators import support_required
from support.forms import DisableEndpointForm
from webhooks import deliveries
from webhooks.models import Delivery, Endpoint, EventType

# The columns support sees; the secrets' ciphertexts never leave the database.
_SECRET_COLUMNS = ("secret_ciphertext", "previous_secret_ciphertext")


def _endpoint(endpoint_id: str) -> Endpoint:
    return get_object_or_404(
        Endpoint.objects.select_related("owner").defer(*_SECRET_COLUMNS), pk=endpoint_id
    )


def _event_labels(events: list[str]) -> list[str]:
    known = dict(EventType.choices)
    return [event if event in known else f"{event} (unknown)" for event in events]


@support_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    endpoints = deliveries.endpoints().defer(*_SECRET_COLUMNS)
    rows = [(endpoint, _event_labels(endpoint.events)) for endpoint in endpoints]
    return render(request, "support/webhook_list.html", {"rows": rows})


@support_required
def endpoint_detail(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint(endpoint_id)
    return render(
        request,
        "support/webhook_detail.html",
        {
            "endpoint": endpoint,
            "events": _event_labels(endpoint.events),
            "deliveries": list(deliveries.recent(endpoint.pk)),
            "recent": deliveries.RECENT,
            "pending": Delivery.State.PENDING,
            "delivered": Delivery.State.DELIVERED,
        },
    )


def _audit(request: HttpRequest, action: str, endpoint: Endpoint, **details: Any) -> None:
    audit_record(
        action=action,
        actor=Actor.of(request),
        obj=endpoint,
        url=endpoint.url,
        service_account=endpoint.owner.name,
        **details,
    )


@support_required
@require_POST
def delivery_replay(request: HttpRequest, endpoint_id: str, delivery_id: str) -> HttpResponse:
    endpoint = _endpoint(endpoint_id)
    delivery = get_object_or_404(Delivery, pk=delivery_id, endpoint=endpoint)
    try:
        deliveries.replay(delivery.pk)
    except deliveries.ReplayRefused as refused:
        messages.error(request, f"Not replayed. {refused}")
    else:
        _audit(request, "webhooks.delivery_replayed", endpoint, webhook_id=delivery.event_id)
        messages.success(
            request,
            f"The delivery {delivery.event_id} is queued to be sent again, with the same "
            "webhook-id.",
        )
    return redirect("support:webhook-detail", endpoint_id=endpoint.pk)


@support_required
@require_POST
def endpoint_enable(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint(endpoint_id)
    waiting = deliveries.enable(endpoint.pk)
    _audit(request, "webhooks.endpoint_enabled", endpoint, waiting=waiting)
    messages.success(
        request,
        f"The endpoint is enabled. {waiting} waiting "
        f"{'delivery is' if waiting == 1 else 'deliveries are'} sent again now.",
    )
    return redirect("support:webhook-detail", endpoint_id=endpoint.pk)


@support_required
def endpoint_disable(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    """GET asks first (with an optional reason); POST disables."""
    endpoint = _endpoint(endpoint_id)
    form = DisableEndpointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"].strip() or "Disabled by support."
        if deliveries.disable(endpoint.pk, reason):
            _audit(request, "webhooks.endpoint_disabled", endpoint, reason=reason)
            messages.success(request, "The endpoint is disabled: nothing is sent to it now.")
        else:
            messages.info(request, "The endpoint was already disabled.")
        return redirect("support:webhook-detail", endpoint_id=endpoint.pk)
    return render(
        request,
        "support/webhook_disable.html",
        {"endpoint": endpoint, "form": form},
        status=400 if form.errors else 200,
    )
