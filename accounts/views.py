"""The sign-out view: Django's, with a message on the page it leads to."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

SIGNED_OUT = "You are signed out. Sign in again whenever you need to."


class SignOutView(auth_views.LogoutView):
    """POST only (Django's rule). Without the message, the sign-in page that follows
    looks as if the click did nothing, or as if the session had expired."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            # Added after the session is flushed, so it lives in the new, empty session.
            messages.info(request, SIGNED_OUT)
        return response
