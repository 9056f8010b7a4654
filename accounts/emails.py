"""The e-mails of accounts: one function each (templates under templates/emails/)."""

from __future__ import annotations

from django.conf import settings

from accounts.models import User
from portal.mail import send_templated


def password_reset(*, user: User, link: str) -> None:
    """The link that lets a user choose a new password."""
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    send_templated(
        "password_reset", to=user.email, context={"user": user, "link": link, "hours": hours}
    )
