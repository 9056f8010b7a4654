"""Who is asking: the tenant in the URL, the app and its credential, the scopes requested.

Shared by the token endpoint and the interactive pages; every refusal is an AadError
with the code Microsoft uses.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from microsoft_emulator import certificates
from microsoft_emulator.errors import AadError, aad
from microsoft_emulator.state import (
    CONSUMERS_TENANT_ID,
    GRAPH_APP_ID,
    GRAPH_RESOURCE,
    AppRegistration,
    Certificate,
    Directory,
    ServicePrincipal,
)
from microsoft_emulator.store import DNS_NAME, GUID, Store

META_TENANTS = ("common", "organizations", "consumers")
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
PUBLIC, SECRET, CERTIFICATE = "0", "1", "2"  # the access token's appidacr


def resolve_tenant(store: Store, tenant: str) -> Directory | str:
    """A directory, or one of "common", "organizations", "consumers"."""
    lowered = tenant.lower()
    if lowered in META_TENANTS:
        return lowered
    if lowered == CONSUMERS_TENANT_ID:
        return "consumers"
    if not (GUID.match(tenant) or DNS_NAME.match(tenant)):
        raise aad(900023, tenant=tenant)
    directory = store.directory(tenant)
    if directory is None:
        raise aad(90002, tenant=tenant)
    return directory


def app_in(
    store: Store, directory: Directory, client_id: str
) -> tuple[AppRegistration, ServicePrincipal]:
    """The app and its service principal in this directory: AADSTS7000229 for an app
    registered here whose service principal was deleted, AADSTS700016 for a client ID
    this directory does not know at all (MICROSOFT.md §0)."""
    app = store.app(client_id)
    sp = store.service_principal(directory.id, client_id) if app else None
    if app is not None and sp is None and app.directory_id == directory.id:
        raise aad(7000229, client_id=app.client_id, tenant_id=directory.id)
    if app is None or sp is None:
        raise aad(700016, client_id=client_id, directory=directory.name)
    return app, sp


def authenticate(
    app: AppRegistration,
    form: dict[str, str],
    *,
    now: datetime,
    token_url: str,
    confidential: bool = False,
) -> str:
    """Check the client's credential; returns the appidacr value for the access token."""
    secret, assertion = form.get("client_secret", ""), form.get("client_assertion", "")
    if secret or assertion:
        if app.public_client and not app.secrets and not app.certificates:
            raise aad(700025)
        if secret:
            check_secret(app, secret, now)
            return SECRET
        check_assertion(app, assertion, now=now, token_url=token_url)
        return CERTIFICATE
    if confidential:
        raise aad(7000216)
    if not app.public_client:
        raise aad(7000218)
    return PUBLIC


def check_secret(app: AppRegistration, value: str, now: datetime) -> None:
    for secret in app.secrets:
        if hmac.compare_digest(secret.value.encode(), value.encode()):
            if secret.end <= now:
                raise aad(7000222, client_id=app.client_id)
            return
    # Also the answer when the Secret ID (a GUID) was pasted instead of the value.
    raise aad(7000215, client_id=app.client_id)


def thumbprints(certificate: Certificate) -> tuple[str, str]:
    """The base64url SHA-1 and SHA-256 thumbprints msal puts in x5t / x5t#S256."""
    cert = x509.load_pem_x509_certificate(certificate.pem.encode())
    return tuple(  # type: ignore[return-value]
        base64.urlsafe_b64encode(cert.fingerprint(h)).rstrip(b"=").decode()
        for h in (hashes.SHA1(), hashes.SHA256())  # noqa: S303 - x5t is SHA-1 by definition
    )


def token_audiences(token_url: str) -> list[str]:
    """The `aud` a client assertion may carry: the token endpoint it is sent to
    (entra-docs certificate-credentials.md: "https://login.microsoftonline.com/{tenantId}/
    oauth2/v2.0/token"), or the v1 endpoint of the same tenant."""
    return [token_url, token_url.replace("/oauth2/v2.0/token", "/oauth2/token")]


def check_assertion(app: AppRegistration, assertion: str, *, now: datetime, token_url: str) -> None:
    """A client assertion, checked in this order (Entra does not document its own): the
    JWT, the key it names, the signature, `aud`, `iss` and `sub`, then its time range.
    It is not single use: msal reuses one for nine minutes (tests/recordings/
    token_assertion_reused.json)."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise aad(50027) from None  # tests/recordings/token_assertion_errors_documented
    signer = certificates.signer_of(header)
    credential = certificates.registered_key(app, signer, now)
    if credential is None:  # tests/recordings/token_assertion_key_not_found*.json
        raise _invalid_signature(app, signer, "The key was not found.", None)
    try:
        claims = certificates.verified_claims(assertion, credential, token_audiences(token_url))
    except (jwt.InvalidAudienceError, jwt.MissingRequiredClaimError):
        raise aad(700023) from None  # tests/recordings/token_assertion_errors_documented
    except jwt.PyJWTError:  # tests/recordings/token_assertion_bad_signature.json
        reason = "Key was found, but use of the key to verify the signature failed."
        raise _invalid_signature(app, signer, reason, credential) from None
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise aad(700021)  # tests/recordings/token_assertion_errors_documented
    check_time_range(claims, now)


def _invalid_signature(
    app: AppRegistration, signer: certificates.Signer, reason: str, found: Certificate | None
) -> AadError:
    """AADSTS700027 with Entra's bracketed detail: the reason, the thumbprint the header
    named (left out when it named none), the key found, where to see the app's keys."""
    detail = f"Thumbprint of key used by client: '{signer.shown}', " if signer.shown else ""
    if found is not None:
        detail += f"Found key 'Start={_key_time(found.start)}, End={_key_time(found.end)}', "
    lead = (
        "Client assertion contains an invalid signature."
        if found is not None
        else "The certificate with identifier used to sign the client assertion is not "
        "registered on application."
    )
    return aad(700027, lead=lead, reason=reason, detail=detail, client_id=app.client_id)


def _key_time(moment: datetime) -> str:
    """As Entra's messages show a key's dates: 08/18/2024 19:33:23."""
    return moment.astimezone(UTC).strftime("%m/%d/%Y %H:%M:%S")


def check_time_range(claims: dict[str, Any], now: datetime) -> None:
    """AADSTS700024 past `exp`, or before `nbf`, by more than the clock skew allowed
    (tests/recordings/token_assertion_expired.json). A missing `nbf` reads as 1970."""
    expiry = certificates.moment(claims, "exp")
    valid_from = certificates.moment(claims, "nbf") or datetime.fromtimestamp(0, UTC)
    skew = certificates.CLOCK_SKEW
    if expiry is None or expiry + skew <= now or valid_from - skew > now:
        raise aad(
            700024,
            now=entra_time(now),
            valid_from=entra_time(valid_from),
            expiry=entra_time(expiry or datetime.fromtimestamp(0, UTC)),
        )


def entra_time(moment: datetime) -> str:
    """A time as Entra writes it in these messages: 2021-01-05T05:09:31.5970000Z."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


@dataclass(frozen=True)
class Scopes:
    """A parsed `scope` parameter: Graph permission names, OIDC scopes, the raw strings."""

    graph: frozenset[str]
    reserved: frozenset[str]
    default: bool
    raw: tuple[str, ...]


def graph_resource(resource: str, own_graph_urls: frozenset[str]) -> bool:
    return resource.rstrip("/").lower() in {
        GRAPH_RESOURCE,
        GRAPH_APP_ID,
        *(url.lower() for url in own_graph_urls),
    }


def parse_user_scopes(raw: str, own_graph_urls: frozenset[str], directory: Directory) -> Scopes:
    names: set[str] = set()
    reserved: set[str] = set()
    default = False
    for scope in raw.split():
        if scope in RESERVED_SCOPES:
            reserved.add(scope)
            continue
        resource, _, name = scope.rpartition("/")
        if resource and not graph_resource(resource, own_graph_urls):
            raise aad(500011, resource=resource, directory=directory.name)
        if name == ".default":
            default = True
        else:
            names.add(name)
    return Scopes(frozenset(names), frozenset(reserved), default, tuple(raw.split()))


def app_only_audience(scope: str, store: Store, directory: Directory, own: frozenset[str]) -> str:
    """The `aud` for a client-credentials `scope` ("{resource}/.default")."""
    scopes = scope.split()
    if not scopes:
        raise aad(900144, name="scope")
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise aad(1002012, scope=scope)
    resource = scopes[0][: -len("/.default")]
    if graph_resource(resource, own):
        return GRAPH_RESOURCE
    app_id = resource.removeprefix("api://")
    if store.app(app_id) is not None:
        return resource
    raise aad(500011, resource=resource, directory=directory.name)
