"""The client's IP address, the one answer for the lockout (django-axes) and the audit log.

Behind reverse proxies every request comes from the last proxy's address, so the
client's is read from X-Forwarded-For, but only as far as the proxies are trusted:
with PORTAL_TRUSTED_PROXY_COUNT=N the Nth address from the right (the one the
outermost trusted proxy saw and appended) is the client; whatever the client wrote
to the left of it is ignored. With N=0 (the default) the header is not read at all
and REMOTE_ADDR is the client.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent the request, as far as it can be trusted."""
    remote_addr = request.META.get("REMOTE_ADDR") or None
    trusted: int = getattr(settings, "PORTAL_TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return remote_addr
    # ipware counts the proxies named in the header; the last proxy is REMOTE_ADDR, not
    # in it. Not strict: a longer chain (the client's own entries) is cut off at the left.
    ip, _routable = get_client_ip(
        request,
        proxy_count=trusted - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    # A chain shorter than the trusted proxies did not come through them all.
    return ip or remote_addr
