"""Sign-ins end after PORTAL_SESSION_IDLE_MINUTES without activity, and in any case
PORTAL_SESSION_HOURS after they began.

Django's own expiry (SESSION_COOKIE_AGE) starts again at every save of the session, so
it is not an absolute limit once anything writes to it; both limits are kept here, in
the session itself, from the moment of sign-in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

SIGNED_IN_AT = "portal_signed_in_at"
LAST_SEEN = "portal_last_seen"
# The last-seen time is written at most this often, so that pages do not each write
# the session; the idle limit is then exact to within this many seconds.
TOUCH_EVERY = 60


@receiver(user_logged_in, dispatch_uid="accounts.sessions.start")
def _start(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_SEEN] = now


def _counts_as_activity(request: HttpRequest) -> bool:
    """Pages refresh from the browser by themselves (htmx polls of a check's status):
    those are not someone at the keyboard."""
    return not (request.method == "GET" and request.headers.get("HX-Request") == "true")


class SessionTimeoutMiddleware:
    """Signs out a session that has been idle, or signed in, for too long. Placed after
    AuthenticationMiddleware, before anything that reads request.user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            signed_in_at = session.setdefault(SIGNED_IN_AT, now)
            last_seen = session.setdefault(LAST_SEEN, now)
            idle_limit: int = settings.SESSION_IDLE_TIMEOUT
            if now - last_seen > idle_limit or now - signed_in_at > settings.SESSION_COOKIE_AGE:
                logout(request)
            elif _counts_as_activity(request) and now - last_seen >= TOUCH_EVERY:
                session[LAST_SEEN] = now
        return self.get_response(request)
