"""Brute-force protection glue for django-axes (configured in settings)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil

from portal.log_redaction import redact


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The user name a failure counts against, case-folded so that ALICE@ and alice@
    share one counter (otherwise each spelling would get five more tries).

    Axes stores and logs it, so only an e-mail address is kept as typed: anything else
    (most often a password typed into the wrong field) becomes a keyed hash, which
    still counts its failures together but says nothing about what was typed."""
    if credentials and credentials.get("username"):
        raw = credentials["username"]
    else:
        raw = request.POST.get("username", "")
    username = str(raw).strip().lower()
    if not username:
        return username
    try:
        validate_email(username)
    except ValidationError:
        digest = hmac.new(
            settings.SECRET_KEY.encode(), b"lockout-username:" + username.encode(), hashlib.sha256
        )
        return f"not-an-address:{digest.hexdigest()[:32]}"
    return username


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, recording the path with its tokens masked.

    Axes writes request.axes_path_info to its tables and its log lines, and the
    invitation and password reset pages carry still-valid tokens in their paths."""

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        _mask_path(request)
        super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        _mask_path(request)
        super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        _mask_path(request)
        super().user_logged_out(sender, request, user, **kwargs)


def _mask_path(request: Any) -> None:
    if request is not None and isinstance(getattr(request, "axes_path_info", None), str):
        request.axes_path_info = redact(request.axes_path_info)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The locked-out page, saying how long to wait in words ("15 minutes")."""
    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    now = timezone.now()
    # Every failure during the lock restarts the cool-off, so the wait is the full period.
    context = {"wait": timeuntil(now + cooloff, now), "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "accounts/locked_out.html", context, status=429)
