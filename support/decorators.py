from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


def support_member(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Support staff, signed in with a password but maybe not yet with their second
    factor (the two-factor pages themselves). Anyone else signed in gets a plain 404,
    so the pages' existence tells a tenant admin nothing; anonymous visitors are sent
    to sign in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(request.user, "is_support", False):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def second_factor_member(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """The two-factor pages: support staff, and the superusers who use /admin/ (which
    asks for the same second factor). Anyone else signed in gets a 404; anonymous
    visitors are sent to sign in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (getattr(user, "is_support", False) or (user.is_active and user.is_superuser)):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def support_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Support staff whose session is verified with a TOTP code; the others are sent
    to the two-factor page (which leads to enrolment when they have no device yet)."""

    @support_member
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_verified():  # type: ignore[union-attr]
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('support:two-factor')}?{query}")
        return view(request, *args, **kwargs)

    return wrapped
