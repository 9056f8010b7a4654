"""The e-mail to support when an endpoint was disabled (facts in; the templates say it)."""

from __future__ import annotations

from django.conf import settings

from portal.mail import send_templated
from webhooks.models import Delivery, Endpoint


def endpoint_disabled(endpoint_id: str) -> bool:
    """Tell support; False if the endpoint is gone or was enabled again meanwhile."""
    endpoint = Endpoint.objects.select_related("owner").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.enabled:
        return False
    waiting = endpoint.deliveries.filter(state=Delivery.State.PENDING).count()
    send_templated(
        "webhook_endpoint_disabled",
        to=settings.SUPPORT_EMAIL,
        context={
            "endpoint": endpoint,
            "account_name": endpoint.owner.name,
            "waiting": waiting,
            "hours": settings.WEBHOOK_DISABLE_AFTER_HOURS,
        },
    )
    return True
