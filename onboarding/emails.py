"""One function per e-mail. Each renders three templates from templates/emails/:
NAME_subject.txt, NAME_body.txt and NAME_body.html."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

if TYPE_CHECKING:
    from onboarding.models import ClientSecret
    from onboarding.reminders import Digest


def absolute_url(name: str, *args: object) -> str:
    """A link for an e-mail: e-mails have no request to take the host from."""
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def _send(name: str, *, to: list[str], context: dict[str, Any]) -> int:
    subject = render_to_string(f"emails/{name}_subject.txt", context)
    message = EmailMultiAlternatives(
        # A header must be one line, whatever the template's whitespace.
        " ".join(subject.split()),
        render_to_string(f"emails/{name}_body.txt", context),
        to=to,
    )
    message.attach_alternative(render_to_string(f"emails/{name}_body.html", context), "text/html")
    return message.send()


def send_secret_expiry_reminder(*, to: list[str], secret: ClientSecret, days_left: int) -> int:
    """Tell a tenant's admins that a client secret expires soon, or has expired."""
    tenant = secret.app.tenant
    return _send(
        "secret_expiry",
        to=to,
        context={
            "tenant": tenant,
            "app": secret.app,
            "secret": secret,
            "days_left": days_left,
            "days_ago": -days_left,
            "expired": days_left < 0,
            "renew_url": absolute_url("onboarding:renew-secret", tenant.pk),
        },
    )


def send_reminder_digest(*, to: list[str], content: Digest, today: date) -> int:
    """Support's daily list of reminders sent, failed, and secrets about to expire."""
    return _send("reminder_digest", to=to, context={"digest": content, "today": today})
