"""Graph's application addKey and removeKey: an app rolling its own certificates, with a
proof of possession signed by one it already has (graph docs application-addkey.md,
application-removekey.md, application-rollkey-prooftoken.md; tests/recordings/
graph_addkey_*.json, graph_removekey_*.json)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any

import jwt

from microsoft_emulator import certificates, errors
from microsoft_emulator.errors import GraphError
from microsoft_emulator.state import AppRegistration, Certificate

# The proof's audience is Azure AD Graph's app ID, not Microsoft Graph's.
PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"
# "exp - Expiration time should be "nbf" + 10 mins" (application-addkey.md).
PROOF_LIFETIME = timedelta(minutes=10)
# Who may roll another app's keys; an app needs no permission for its own.
WRITE = frozenset({"Application.ReadWrite.All", "Directory.ReadWrite.All"})


def bad_request(message: str) -> GraphError:
    """The emulator's words for a keyCredential Graph would refuse: its own answers to
    these are not recorded."""
    return GraphError(400, "Request_BadRequest", message)


def check_proof(app: AppRegistration, proof: str, now: datetime) -> None:
    """The proof of possession: signed with one of the app's valid certificates, `aud`
    00000002-0000-0000-c000-000000000000, `iss` the application's object ID, `nbf` and
    `exp` at most ten minutes apart and around now. Anything else is Graph's 401
    Authentication_MissingOrMalformed, also for '=' padding in the header or payload
    (application-rollkey-prooftoken.md; tests/recordings/graph_addkey_proof_malformed)."""
    if not proof:  # tests/recordings/graph_addkey_without_proof.json
        raise errors.INSUFFICIENT_PRIVILEGES
    if "=" in proof.rpartition(".")[0]:
        raise errors.PROOF_REFUSED
    try:
        signer = certificates.signer_of(jwt.get_unverified_header(proof))
        credential = certificates.registered_key(app, signer, now)
        if credential is None:
            raise errors.PROOF_REFUSED
        claims = certificates.verified_claims(proof, credential, PROOF_AUDIENCE)
    except jwt.PyJWTError:
        raise errors.PROOF_REFUSED from None
    if str(claims.get("iss", "")).lower() != app.object_id.lower():
        raise errors.PROOF_REFUSED
    _check_lifetime(claims, now)


def _check_lifetime(claims: dict[str, Any], now: datetime) -> None:
    start, end = certificates.moment(claims, "nbf"), certificates.moment(claims, "exp")
    skew = certificates.CLOCK_SKEW
    if start is None or end is None or end - start > PROOF_LIFETIME:
        raise errors.PROOF_REFUSED
    if not start - skew <= now < end + skew:
        raise errors.PROOF_REFUSED


def new_key(app: AppRegistration, body: dict[str, Any]) -> Certificate:
    """The keyCredential to add: type AsymmetricX509Cert with usage Verify, `key` the
    certificate's DER in base64 (public key only); not one the app has already."""
    given = body.get("keyCredential")
    if not isinstance(given, dict):
        raise bad_request("The request body must contain a keyCredential.")
    if given.get("type") != "AsymmetricX509Cert" or given.get("usage") != "Verify":
        # X509CertAndPassword (usage Sign, with a passwordCredential) is for signing
        # tokens, which the emulator's apps never do.
        raise bad_request("The emulator adds keys of type AsymmetricX509Cert, usage Verify.")
    try:
        der = base64.b64decode(str(given.get("key") or ""), validate=True)
        cert = certificates.load_certificate(der)
    except (binascii.Error, ValueError):
        raise bad_request(
            "Invalid value specified for property 'key' of 'keyCredential'."
        ) from None
    entry = certificates.key_credential(cert, str(given.get("displayName") or ""))
    if any(c.thumbprint == entry.thumbprint for c in app.key_credentials):
        raise bad_request(certificates.ALREADY_ADDED)
    return entry


def key_resource(credential: Certificate, graph_base: str) -> dict[str, Any]:
    """addKey's answer: the new keyCredential (application-addkey.md), `key` left out as
    Graph leaves it out of its answers."""
    return {
        "@odata.context": f"{graph_base}/v1.0/$metadata#microsoft.graph.keyCredential",
        **credential.resource(),
    }
