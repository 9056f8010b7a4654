"""`Authorization: Bearer mbp_live_...`: the one way into the API.

Malformed, unknown, wrong, expired and revoked keys all get the same 401 with the same
body (api/problems.py), in about the same time (api/keys.py compares in constant time
and hashes even a malformed key), so an answer tells nothing about which keys exist.
The key is never logged: only its public key id, and only once it matched.
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api import keys, memo
from api.models import ServiceAccount, ServiceKey

# One message for every bad key, whatever was wrong with it.
INVALID_KEY = "Send a valid service key as 'Authorization: Bearer <key>'."


class ServiceKeyAuthentication(authentication.BaseAuthentication):
    """request.user: the ServiceAccount; request.auth: the ServiceKey."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ServiceAccount, ServiceKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # then the permission check answers 401 with the same body
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        key = keys.authenticate(value.strip(), memo.version(request))
        if key is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        return key.account, key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) and tells the caller which scheme to use.
        return 'Bearer realm="api"'


def service_key(request: Any) -> ServiceKey | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ServiceKey) else None
