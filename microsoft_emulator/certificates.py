"""Certificate credentials: reading an uploaded certificate as Entra does, and checking a
JWT signed with one (a client assertion at the token endpoint, a proof for Graph's
addKey/removeKey).

Entra takes the public certificate only: "Upload a certificate (public key) with one of
the following file types: .cer, .pem, .crt" (the admin center's upload panel; entra-docs
how-to-add-credentials.md, tests/recordings/entra_upload_certificate.json).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from microsoft_emulator.state import AppRegistration, Certificate

# What the signature of a client assertion or a proof may use: RS256, and PS256 which
# entra-docs certificate-credentials.md recommends ("alg: Should be PS256").
ALGORITHMS = ("RS256", "PS256")
# Microsoft's token validation (Microsoft.IdentityModel's TokenValidationParameters)
# allows five minutes of clock skew by default; Entra does not document its own figure.
CLOCK_SKEW = timedelta(minutes=5)
# The emulator's words: Entra's own for these refusals are not recorded.
ALREADY_ADDED = "This certificate has already been added to the application."
NOT_A_CERTIFICATE = "The file is not a certificate (.cer, .pem or .crt)."
PRIVATE_KEY = (
    "The file holds a private key. Upload a certificate (public key) with one of the "
    "following file types: .cer, .pem, .crt"
)


def load_certificate(data: str | bytes) -> x509.Certificate:
    """A certificate from PEM or DER (a .cer is either); ValueError for anything else,
    and for a file with a private key in it, which Entra refuses to store."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if b"PRIVATE KEY" in raw:
        raise ValueError(PRIVATE_KEY)
    try:
        if b"-----BEGIN CERTIFICATE-----" in raw:
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        raise ValueError(NOT_A_CERTIFICATE) from None


def key_credential(cert: x509.Certificate, display_name: str = "") -> Certificate:
    """The key credential Entra stores for `cert`: its thumbprints, its own validity, and
    as description the subject when none is given (as the admin center fills it in)."""
    return Certificate(
        pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - Entra's
        thumbprint_sha256=cert.fingerprint(hashes.SHA256()).hex().upper(),
        end=cert.not_valid_after_utc,
        start=cert.not_valid_before_utc,
        display_name=display_name or cert.subject.rfc4514_string(),
    )


def der_base64(credential: Certificate) -> str:
    """Graph's `key` of a keyCredential: the certificate's DER, base64."""
    cert = x509.load_pem_x509_certificate(credential.pem.encode())
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _b64url_hex(value: str) -> str:
    """A base64url thumbprint (x5t, x5t#S256) as upper-case hex; "" if it is not one."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex().upper()
    except (binascii.Error, ValueError):
        return ""


@dataclass(frozen=True)
class Signer:
    """Which key a JWT's header names, as upper-case hex (SHA-1 for x5t and for the kid
    that .NET's X509SigningCredentials writes, SHA-256 for x5t#S256)."""

    sha1: str
    sha256: str

    @property
    def shown(self) -> str:
        """The thumbprint Entra's messages quote ("Thumbprint of key used by client")."""
        return self.sha1 or self.sha256

    def matches(self, credential: Certificate) -> bool:
        if self.sha256:
            return credential.thumbprint_sha256.upper() == self.sha256
        return bool(self.sha1) and credential.thumbprint.upper() == self.sha1


def signer_of(header: dict[str, Any]) -> Signer:
    sha256 = _b64url_hex(str(header.get("x5t#S256") or ""))
    sha1 = _b64url_hex(str(header.get("x5t") or ""))
    kid = str(header.get("kid") or "").upper()
    if not sha1 and len(kid) == 40 and all(ch in "0123456789ABCDEF" for ch in kid):
        sha1 = kid
    return Signer(sha1, sha256)


def registered_key(app: AppRegistration, signer: Signer, now: datetime) -> Certificate | None:
    """The app's certificate the JWT names, if it is registered and valid now."""
    for credential in app.key_credentials:
        if signer.matches(credential) and credential.start <= now < credential.end:
            return credential
    return None


def verified_claims(token: str, credential: Certificate, audience: str | list[str]) -> Any:
    """The claims after the signature and `aud` checks (PyJWTError otherwise); times
    are checked by the caller against the emulator's clock, which tests move."""
    key = x509.load_pem_x509_certificate(credential.pem.encode()).public_key()
    return jwt.decode(
        token,
        key,  # type: ignore[arg-type]
        algorithms=list(ALGORITHMS),
        audience=audience,
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )


def moment(claims: dict[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC)
