"""Support's second sign-in step: enrol an authenticator app once, then a code per session."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from accounts.models import User
from support import two_factor
from support.decorators import support_member
from support.forms import TokenForm


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("support:tenant-list")


@never_cache
@support_member
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not two_factor.has_device(user):
        return redirect(f"{reverse('support:two-factor-setup')}?{request.GET.urlencode()}")
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request=request, user=user, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error("token", "That code is not valid. Enter the code your app shows now.")
    context = {"form": form, "next": _next_url(request)}
    return render(request, "support/two_factor_verify.html", context)


@never_cache
@support_member
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
        if two_factor.enrolment_confirm(request=request, user=user, token=token):
            return redirect(_next_url(request))
        form.add_error("token", "That code does not match. Scan the code again and retry.")
    device = two_factor.enrolment_device(user)
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_code": two_factor.qr_code_data_uri(device),
        "manual_key": two_factor.manual_key(device),
    }
    return render(request, "support/two_factor_setup.html", context)
