"""Certificates the portal makes for an app registration: an RSA key pair and a
self-signed X.509 certificate whose public part the admin uploads in Entra's
"Certificates & secrets" (the private key never leaves the portal, and the portal never
takes one from the admin). Microsoft recommends certificates over client secrets
(entra-docs certificate-credentials.md); the app then signs a client assertion
(private_key_jwt, x5t#S256) with the key instead of sending a secret.

A bottom module: it knows the cryptography package and the settings, no model.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

KEY_SIZE = 2048
# Entra takes certificates valid for longer; a year keeps a stolen key's worth short
# and is what the portal's rollover (and, until then, its reminders) plan for.
DEFAULT_VALIDITY_DAYS = 365


@dataclass(frozen=True)
class Made:
    private_key_pem: str = field(repr=False)
    certificate_pem: str
    # SHA-1, upper-case hex: the Thumbprint Entra lists for an uploaded certificate.
    thumbprint: str
    thumbprint_sha256: str
    not_before: dt.datetime
    not_after: dt.datetime


def make(*, tenant_name: str, days: int | None = None, now: dt.datetime | None = None) -> Made:
    """A new key pair and a certificate naming the portal and the tenant."""
    start = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    lifetime = dt.timedelta(days=days or settings.PORTAL_CERTIFICATE_DAYS)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Mailbox portal: {tenant_name}"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mailbox portal"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(uuid.uuid4().int >> 1)
        # A few minutes back: a clock a little ahead at Microsoft still finds it valid.
        .not_valid_before(start - dt.timedelta(minutes=10))
        .not_valid_after(start + lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),  # the vault encrypts it, bound to its row
    ).decode()
    return Made(
        private_key_pem=private_pem,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        thumbprint=certificate.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - Entra's
        thumbprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


# --- rolling a certificate over through Graph (application-addkey.md) ----------------

# The proof's audience: Azure AD Graph's app ID, not Microsoft Graph's
# (tests/recordings/graph_addkey_documented.json).
PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"
# "exp - Expiration time should be "nbf" + 10 mins"; Graph refuses a longer one.
PROOF_LIFETIME = dt.timedelta(minutes=10)


def key_value(certificate_pem: str) -> str:
    """A certificate as addKey's keyCredential `key` takes it: its DER, base64."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def proof(
    *, private_key_pem: str, certificate_pem: str, object_id: str, now: dt.datetime | None = None
) -> str:
    """The proof of possession addKey and removeKey ask for: a JWT signed with the key
    of a certificate the app already has, `iss` the application's object ID, valid ten
    minutes. RS256 with the certificate's SHA-1 thumbprint as `x5t` and `kid`, as the
    documented sample's X509SigningCredentials sends it (application-rollkey-
    prooftoken.md). PyJWT leaves out base64's '=' padding, which Graph refuses."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    sha1 = certificate.fingerprint(hashes.SHA1())  # noqa: S303 - the header names it so
    start = int((now or dt.datetime.now(dt.UTC)).timestamp())
    claims = {
        "aud": PROOF_AUDIENCE,
        "iss": object_id,
        "nbf": start,
        "exp": start + int(PROOF_LIFETIME.total_seconds()),
        "jti": str(uuid.uuid4()),
    }
    x5t = base64.urlsafe_b64encode(sha1).decode().rstrip("=")
    headers = {"x5t": x5t, "kid": sha1.hex().upper()}
    # The key is one the portal made and keeps under the vault's authenticated
    # encryption: re-validating the RSA key on every load costs ~55 ms for nothing
    # (bench/rollover_bench.py's profile: half of a rollover's time).
    key = serialization.load_pem_private_key(
        private_key_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)  # type: ignore[arg-type]
