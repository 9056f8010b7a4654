"""Every e-mail the portal sends: one function per e-mail.

Each e-mail has three templates under templates/emails/: `<name>_subject.txt`,
`<name>_body.txt` and `<name>_body.html`. Links are absolute, built on
PORTAL_BASE_URL, never on the Host header of whichever request triggered them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from onboarding.models import ClientSecret, Invitation

if TYPE_CHECKING:
    from onboarding.reminders import Digest


def _send(name: str, *, to: str | list[str], context: dict[str, Any]) -> None:
    context = {"support_email": settings.SUPPORT_EMAIL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to] if isinstance(to, str) else to)
    message.attach_alternative(html, "text/html")
    message.send()


def _absolute_url(name: str, *args: object) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def invitation(*, invitation: Invitation, link: str) -> None:
    """The single-use link that lets a tenant admin set up their account."""
    _send(
        "invitation",
        to=invitation.email,
        context={"invitation": invitation, "tenant": invitation.tenant, "link": link},
    )


def invitation_accepted(*, invitation: Invitation, notify: User) -> None:
    """Tells the person who sent an invitation that it was accepted."""
    _send(
        "invitation_accepted",
        to=notify.email,
        context={"invitation": invitation, "tenant": invitation.tenant, "notify": notify},
    )


def password_reset(*, user: User, link: str) -> None:
    """The link that lets a user choose a new password."""
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    _send("password_reset", to=user.email, context={"user": user, "link": link, "hours": hours})


def secret_expiry_reminder(*, to: list[str], secret: ClientSecret, days_left: int) -> None:
    """Tells a tenant's admins, in one message, that a client secret expires soon or has."""
    tenant = secret.app.tenant
    _send(
        "secret_expiry",
        to=to,
        context={
            "tenant": tenant,
            "app": secret.app,
            "secret": secret,
            "days_left": days_left,
            "days_ago": -days_left,
            "expired": days_left < 0,
            "renew_url": _absolute_url("onboarding:renew-secret", tenant.pk),
        },
    )


def reminder_digest(*, to: list[str], content: Digest, today: date) -> None:
    """Support's daily list of reminders sent, failed, and secrets about to expire."""
    _send("reminder_digest", to=to, context={"digest": content, "today": today})
