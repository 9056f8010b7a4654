"""Signed tokens: RS256 access and ID tokens, JWKS, authorization codes, refresh tokens.

Access tokens look like the v1 tokens Graph receives from Microsoft (aud, iss at
sts.windows.net, tid, appid, roles or scp); ID tokens are v2 with the nonce echoed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from microsoft_emulator.state import GRAPH_APP_ID, GRAPH_RESOURCE, User

GRAPH_AUDIENCES = (GRAPH_RESOURCE, f"{GRAPH_RESOURCE}/", GRAPH_APP_ID)
CODE_LIFETIME = timedelta(minutes=10)
# A refresh token unused this long is refused with AADSTS700082; used, it lives on
# ("inactive for 90.00:00:00": tests/recordings/token_refresh_inactive.json).
REFRESH_INACTIVITY = timedelta(days=90)
# Microsoft's default access token lifetime: "a random value ranging between 60-90 minutes
# (75 minutes on average)", which spreads renewals over time (entra-docs access-tokens.md,
# tests/recordings/token_lifetime_random.json). A client must never count on 3599.
DEFAULT_LIFETIME_SECONDS = (3600, 5399)
VERIFIED_TOKENS = 4096


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def client_info(user: User, tenant_id: str) -> str:
    return b64url(json.dumps({"uid": user.id, "utid": tenant_id}).encode())


def token_lifetime(fixed: int = 0) -> int:
    """The lifetime in seconds of an access token about to be issued: `fixed` when the
    state sets one (State.token_lifetime_seconds > 0), else Microsoft's default, drawn at
    random for each token."""
    if fixed > 0:
        return fixed
    low, high = DEFAULT_LIFETIME_SECONDS
    return low + secrets.randbelow(high - low + 1)


def pkce_s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    user_id: str
    tenant_id: str
    scopes: list[str]
    nonce: str
    code_challenge: str
    code_challenge_method: str
    expires: datetime
    redeemed: bool = False


@dataclass
class RefreshGrant:
    client_id: str
    user_id: str
    tenant_id: str
    scopes: list[str]
    issued: datetime
    last_used: datetime


@dataclass
class Issued:
    """One token response's claims and tokens, before it is turned into JSON."""

    access_token: str
    expires_in: int
    extra: dict[str, Any] = field(default_factory=dict)


class TokenIssuer:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = b64url(
            hashlib.sha1(  # noqa: S324 - a key id, as Microsoft's x5t is
                self.key.public_key().public_numbers().n.to_bytes(256, "big")
            ).digest()
        )
        self.lock = threading.Lock()
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshGrant] = {}
        # Entra's TokensValidFrom per user: refresh tokens issued before it are refused
        # (AADSTS50173), set by a password change or an admin's revocation.
        self.valid_from: dict[str, datetime] = {}
        self.verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "x5t": self.kid})
        return {"keys": [jwk]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid}
        )

    def access_token(
        self,
        *,
        audience: str,
        tenant_id: str,
        app: Any,
        now: datetime,
        lifetime: int,
        roles: list[str] | None = None,
        user: User | None = None,
        scopes: list[str] | None = None,
        principal_id: str = "",
        credential: str = "1",
    ) -> str:
        issued = int(now.timestamp())
        lifetime = token_lifetime(lifetime)  # 0: Microsoft's default, never a dead token
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "app_displayname": app.name,
            "appid": app.client_id,
            "appidacr": credential,
            "idtyp": "user" if user else "app",
            "tid": tenant_id,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "1.0",
        }
        if user is None:
            claims.update({"oid": principal_id, "sub": principal_id})
            if roles:
                claims["roles"] = sorted(roles)
        else:
            claims.update(
                {
                    "oid": user.id,
                    "sub": user.id,
                    "upn": user.upn,
                    "unique_name": user.upn,
                    "name": user.display_name or user.upn,
                    "scp": " ".join(sorted(scopes or [])),
                    "amr": ["pwd", "mfa"] if user.mfa_required else ["pwd"],
                }
            )
        return self.sign(claims)

    def id_token(
        self,
        *,
        issuer: str,
        client_id: str,
        tenant_id: str,
        user: User,
        now: datetime,
        nonce: str = "",
    ) -> str:
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "aud": client_id,
            "iss": issuer,
            "iat": issued,
            "nbf": issued,
            "exp": issued + 3600,
            "auth_time": issued,
            "name": user.display_name or user.upn,
            "oid": user.id,
            "preferred_username": user.upn,
            "sub": b64url(hashlib.sha256(f"{user.id}:{client_id}".encode()).digest()),
            "tid": tenant_id,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        return self.sign(claims)

    def decode(self, token: str) -> dict[str, Any]:
        """Verify the signature only; audience and lifetime are checked by the caller
        against the emulator's clock (which tests can move).

        Verified tokens are remembered: PyJWT checks base64 one character at a time,
        which cost more than the rest of a Graph request.
        """
        with self.lock:
            if token in self.verified:
                self.verified.move_to_end(token)
                return self.verified[token]
        claims: dict[str, Any] = jwt.decode(
            token,
            self.key.public_key(),
            algorithms=["RS256"],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
        with self.lock:
            self.verified[token] = claims
            while len(self.verified) > VERIFIED_TOKENS:
                self.verified.popitem(last=False)
        return claims

    # --- codes and refresh tokens -----------------------------------------------
    def issue_code(self, code: AuthCode) -> str:
        value = secrets.token_urlsafe(48)
        with self.lock:
            self.codes[value] = code
        return value

    def take_code(self, value: str) -> AuthCode | None:
        """The code's grant; marked redeemed so a second use can be told apart."""
        with self.lock:
            code = self.codes.get(value)
            if code is None:
                return None
            already = code.redeemed
            code.redeemed = True
        return AuthCode(**{**code.__dict__, "redeemed": already})

    def issue_refresh_token(self, grant: RefreshGrant) -> str:
        value = f"1.{uuid.uuid4().hex}.{secrets.token_urlsafe(48)}"
        with self.lock:
            self.refresh_tokens[value] = grant
        return value

    def refresh_grant(self, value: str) -> RefreshGrant | None:
        with self.lock:
            return self.refresh_tokens.get(value)

    def tokens_valid_from(self, user_id: str) -> datetime | None:
        with self.lock:
            return self.valid_from.get(user_id)

    def revoke_user(self, user_id: str, now: datetime) -> None:
        """Every refresh token of the user issued until now stops working."""
        with self.lock:
            self.valid_from[user_id] = now
