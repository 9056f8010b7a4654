from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse


def support_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Support staff only. Anyone else signed in gets a plain 404, so the pages'
    existence tells a tenant admin nothing; anonymous visitors are sent to sign in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(request.user, "is_support", False):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
