"""Project-wide middleware."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NeverCachePrivatePagesMiddleware:
    """`Cache-Control: no-store` on every page of a signed-in user and on every response
    that sets the session cookie.

    Those pages carry a tenant's configuration, the support dashboard, CSV exports or
    a session: neither a shared proxy nor the browser's disk cache (nor its back
    button after sign-out) may keep a copy. Placed above SessionMiddleware, so that it
    sees the cookie that middleware sets.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or (
            settings.SESSION_COOKIE_NAME in response.cookies
        ):
            add_never_cache_headers(response)
        return response
