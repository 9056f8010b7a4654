"""Support's second sign-in step: enrol an authenticator app once, then a code per session."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts.models import User
from support import two_factor
from support.decorators import second_factor_member
from support.forms import TokenForm


def _wait_message(seconds: int) -> str:
    # The code was not checked at all (support.two_factor: the throttle comes first), so
    # a right code typed quickly after a wrong one must not read as wrong.
    return (
        "After a wrong code the next one is checked only after a pause, so this one was "
        f"not checked: wait {seconds} second{'s' if seconds != 1 else ''}, "
        "then enter the code your app shows at that time."
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    if getattr(request.user, "is_support", False):
        return reverse("support:tenant-list")
    return reverse("admin:index")


@sensitive_post_parameters("token")
@never_cache
@second_factor_member
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not two_factor.has_device(user):
        return redirect(f"{reverse('support:two-factor-setup')}?{request.GET.urlencode()}")
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        attempt = two_factor.verify(request=request, user=user, token=form.cleaned_data["token"])
        if attempt:
            return redirect(_next_url(request))
        if attempt.wait_seconds:
            form.add_error("token", _wait_message(attempt.wait_seconds))
        else:
            form.add_error("token", "That code is not valid. Enter the code your app shows now.")
    context = {"form": form, "next": _next_url(request)}
    return render(request, "support/two_factor_verify.html", context)


@sensitive_post_parameters("token")
@never_cache
@second_factor_member
def setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    # Once a device is confirmed, only a verified code leads in: a stolen password
    # must not be enough to enrol a second device.
    if two_factor.has_device(user):
        return redirect(f"{reverse('support:two-factor')}?{request.GET.urlencode()}")
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        attempt = two_factor.enrolment_confirm(request=request, user=user, token=token)
        if attempt:
            return redirect(_next_url(request))
        if attempt.expired:
            form.add_error(
                "token",
                "This QR code has expired. Scan the new one below and enter its code.",
            )
        elif attempt.wait_seconds:
            form.add_error("token", _wait_message(attempt.wait_seconds))
        else:
            form.add_error("token", "That code does not match. Scan the code again and retry.")
    device = two_factor.enrolment_device(request, user)
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_code": two_factor.qr_code_data_uri(device),
        "manual_key": two_factor.manual_key(device),
        "valid_minutes": int(two_factor.ENROLMENT_VALID.total_seconds() // 60),
    }
    return render(request, "support/two_factor_setup.html", context)
