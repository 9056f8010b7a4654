"""The legacy hand-off: the guide's five values, sealed to the operations app's RSA
public key (JWE compact, RSA-OAEP-256 with A256GCM), for an app that cannot take tokens.

Off unless PORTAL_API_CREDENTIAL_EXPORT is set. The plaintext exists only in this
function's locals and inside the JWE; nothing here logs. The public key is registered
on the service account (a public JWK: kty RSA, at least 2048 bits, no private part).
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from jwcrypto import jwe, jwk

from api.tokens import credential_for
from onboarding import vault
from onboarding.models import Mailbox

ALG = "RSA-OAEP-256"
ENC = "A256GCM"
MIN_RSA_BITS = 2048
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


class InvalidPublicKey(ValueError):
    pass


def public_key(data: Any) -> jwk.JWK:
    """A registered key as jwcrypto's JWK, refusing anything but a public RSA key."""
    if not isinstance(data, dict) or data.get("kty") != "RSA":
        raise InvalidPublicKey("The public key must be an RSA JWK (kty RSA).")
    if _PRIVATE_MEMBERS & set(data):
        raise InvalidPublicKey("Register the public key only: this JWK holds a private key.")
    try:
        key = jwk.JWK(**data)
    except Exception:  # jwcrypto's errors vary by what is wrong
        raise InvalidPublicKey("The public key is not a valid RSA JWK.") from None
    if key.get_op_key("encrypt").key_size < MIN_RSA_BITS:
        raise InvalidPublicKey(f"The RSA key must have at least {MIN_RSA_BITS} bits.")
    return key


class CertificateOnly(Exception):
    """The connection signs in with a certificate (its own, or the vendor's app's):
    there is no secret to hand off."""


def seal(mailbox: Mailbox, public_jwk: Any) -> tuple[str, str]:
    """(JWE compact, kid): the five values of the guide for this connection.

    Raises api.tokens.Unusable when the secret cannot be used (as the token endpoint),
    InvalidPublicKey for a bad registered key.
    """
    key = public_key(public_jwk)
    app, secret, credential = credential_for(mailbox)
    if secret is None or secret.is_certificate:
        # The guide's values are a client secret's; a certificate's private key never
        # leaves the portal (issue 18): the token call serves such a connection.
        raise CertificateOnly
    try:
        password = mailbox.reveal_password()
    except vault.DecryptionError:
        password = None  # the guide's fifth value is optional; the rest still helps
    payload = {
        "client_id": str(app.client_id),
        "client_secret": credential.secret,
        "client_secret_id": str(secret.secret_id),
        "mailbox_username": mailbox.sign_in_name,
        "mailbox_password": password,
        "directory": app.directory,
        "connection_id": str(mailbox.pk),
        "exported_at": timezone.now().isoformat(),
    }
    kid = str(public_jwk.get("kid", ""))
    header = {"alg": ALG, "enc": ENC, "cty": "application/json", **({"kid": kid} if kid else {})}
    token = jwe.JWE(json.dumps(payload).encode(), protected=json.dumps(header))
    token.add_recipient(key)
    return token.serialize(compact=True), kid
