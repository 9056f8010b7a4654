"""The link a mailbox's owner opens to connect it with their own Microsoft sign-in,
without a portal account: signed and dated, naming the mailbox and a fingerprint of
its address and current sign-in, so that a change of either voids it. Its single use
is recorded (ConsentUse) when a sign-in from it is stored."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from onboarding.callback_state import use_key
from onboarding.models import ConsentUse, Mailbox, MailboxSignIn

SALT = "onboarding.delegated.owner"
MAX_AGE = timedelta(days=7)


class LinkRejected(Exception):
    """The link is altered, expired, used, or for a mailbox that changed."""


def owner_token(mailbox: Mailbox) -> str:
    return signing.TimestampSigner(salt=SALT).sign(f"{mailbox.pk.hex}.{_fingerprint(mailbox)}")


def owner_url(mailbox: Mailbox) -> str:
    return settings.PORTAL_BASE_URL + reverse(
        "onboarding:connect-owner", args=[owner_token(mailbox)]
    )


def mailbox_for(token: str) -> Mailbox:
    """The mailbox an unused, unexpired link is for. Raises LinkRejected otherwise."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE)
    except signing.BadSignature:
        raise LinkRejected("link altered or expired") from None
    mailbox_hex, _, fingerprint = value.partition(".")
    mailbox = Mailbox.objects.select_related("tenant").filter(pk=mailbox_hex).first()
    if mailbox is None or not constant_time_compare(_fingerprint(mailbox), fingerprint):
        raise LinkRejected("the mailbox changed since the link was made")
    if ConsentUse.objects.filter(key=use_key(token), kind=ConsentUse.Kind.OWNER_LINK).exists():
        raise LinkRejected("link used before")
    return mailbox


def _fingerprint(mailbox: Mailbox) -> str:
    sign_in = MailboxSignIn.objects.filter(mailbox=mailbox).values_list("connected_at", flat=True)
    connected = sign_in.first()
    stamp = connected.isoformat() if connected else ""
    text = f"{mailbox.sign_in_name.lower()}/{stamp}".encode()
    return hashlib.sha256(text).hexdigest()[:16]
