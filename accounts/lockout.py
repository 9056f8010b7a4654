"""Brute-force protection glue for django-axes (configured in settings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The user name a failure counts against, case-folded so that ALICE@ and alice@
    share one counter (otherwise each spelling would get five more tries)."""
    if credentials and credentials.get("username"):
        raw = credentials["username"]
    else:
        raw = request.POST.get("username", "")
    return str(raw).strip().lower()


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
