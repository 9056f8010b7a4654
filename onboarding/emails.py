"""Every e-mail the portal sends: one function per e-mail.

Each e-mail has three templates under templates/emails/: `<name>_subject.txt`,
`<name>_body.txt` and `<name>_body.html`. Links are absolute, built on
PORTAL_BASE_URL, never on the Host header of whichever request triggered them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.models import User
from onboarding.models import Invitation


def _send(name: str, *, to: str, context: dict[str, Any]) -> None:
    context = {"support_email": settings.SUPPORT_EMAIL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()


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
