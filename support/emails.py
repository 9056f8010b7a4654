"""The e-mails of support: one function each (templates under templates/emails/)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from portal.mail import send_templated


def two_factor_enrolled(*, user: User, device_name: str, enrolled_at: datetime) -> None:
    """The owner hears of every new second factor: a stranger's would be a stolen password."""
    when = date_format(timezone.localtime(enrolled_at), "j F Y, H:i T")
    send_templated(
        "two_factor_enrolled",
        to=user.email,
        context={"user": user, "device_name": device_name, "when": when},
    )
