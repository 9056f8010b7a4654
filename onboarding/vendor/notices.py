"""E-mails to support about the vendor app's credential, each sent once: the one writer
of VendorNotice, whose unique (thumbprint, topic) is the claim."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction

from onboarding.models import VendorNotice
from portal.mail import send_templated

logger = logging.getLogger(__name__)


def notify(*, thumbprint: str, topic: str, subject: str, lines: list[str]) -> bool:
    """Send support one message about this certificate and topic, unless one was sent.
    The claim is committed first, so that a crash after it loses one e-mail rather than
    sending it twice every hour. True when this call sent it."""
    try:
        with transaction.atomic():
            VendorNotice.objects.create(thumbprint=thumbprint, topic=topic[:160])
    except IntegrityError:
        return False
    try:
        context = {"subject": subject, "lines": lines, "thumbprint": thumbprint}
        send_templated("vendor_credential", to=settings.SUPPORT_EMAIL, context=context)
    except Exception:
        logger.exception("The vendor credential notice %s could not be sent", topic)
        VendorNotice.objects.filter(thumbprint=thumbprint, topic=topic[:160]).delete()
        return False
    return True
