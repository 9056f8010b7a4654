"""Signing secrets: made, sealed at rest with the vault's keyring, and used to sign.

Secrets are Standard Webhooks' `whsec_` + base64 of 32 random bytes. They are stored
like every secret column of the portal (onboarding.vault's format and binding: the
lower-case model label, the row's primary key and the field name), so the vault's key
rotation can re-encrypt them once `webhooks.Endpoint.secret` and `.previous_secret` are
listed in its SECRET_COLUMNS. The keyring is the vault's own (portal.keyring.current_keyring).
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from portal.keyring import (
    Binding,
    DecryptionError,
    current_keyring,
)
from webhooks.models import Endpoint

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MODEL_LABEL = "webhooks.endpoint"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _binding(endpoint: Endpoint, field: str) -> Binding:
    return Binding(MODEL_LABEL, str(endpoint.pk), field)


def seal_secret(endpoint: Endpoint, secret: str) -> None:
    """Put a new secret in place (the caller saves the row)."""
    ring = current_keyring()
    endpoint.secret_ciphertext = ring.encrypt(secret, _binding(endpoint, "secret"))
    endpoint.secret_key_id = ring.active_key_id


def rotate_secret(endpoint: Endpoint, *, now: datetime | None = None) -> str:
    """A new secret; the current one keeps signing for WEBHOOK_SECRET_OVERLAP_HOURS.

    The old blob is re-encrypted under its new field name: a blob is bound to its field,
    so it cannot simply be moved. The caller saves the row and shows the secret once."""
    now = now or timezone.now()
    overlap = timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    ring = current_keyring()
    if overlap and endpoint.secret_ciphertext is not None:
        current = _reveal(endpoint, "secret")
        binding = _binding(endpoint, "previous_secret")
        endpoint.previous_secret_ciphertext = ring.encrypt(current, binding)
        endpoint.previous_secret_key_id = ring.active_key_id
        endpoint.previous_secret_expires_at = now + overlap
    else:
        endpoint.previous_secret_ciphertext = None
        endpoint.previous_secret_key_id = ""
        endpoint.previous_secret_expires_at = None
    secret = new_secret()
    seal_secret(endpoint, secret)
    return secret


def _reveal(endpoint: Endpoint, field: str) -> str:
    binding = _binding(endpoint, field)
    blob = getattr(endpoint, f"{field}_ciphertext")
    try:
        if blob is None:
            raise DecryptionError(binding, "no ciphertext stored")
        return current_keyring().decrypt(bytes(blob), binding)
    except DecryptionError as error:
        # The error names the row and the reason, never the secret.
        logger.error("ALERT webhooks: %s", error)
        raise


def signing_secrets(endpoint: Endpoint, *, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous during its overlap."""
    found = [_reveal(endpoint, "secret")]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_ciphertext is not None and expires is not None and expires > now:
        found.append(_reveal(endpoint, "previous_secret"))
    return found


def signature_headers(
    endpoint: Endpoint, *, message_id: str, body: str, now: datetime
) -> dict[str, str]:
    """Standard Webhooks' three headers; one `v1,` signature per secret in force."""
    timestamp = int(now.timestamp())
    # standardwebhooks replaces the datetime's zone with UTC: give it a UTC one.
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    signatures = [
        Webhook(secret).sign(msg_id=message_id, timestamp=moment, data=body)
        for secret in signing_secrets(endpoint, now=now)
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }
