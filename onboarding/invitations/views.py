"""The page behind an invitation link: a new admin sets their name and password,
an existing account confirms with its password, and a bad link says why."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts import rate_limits
from accounts.actors import Actor
from accounts.client_ip import client_ip
from accounts.forms import ExistingAccountForm, NewAdminForm
from accounts.models import User
from onboarding import tasks
from onboarding.invitations import services as invitations
from onboarding.invitations.services import InvitationError
from onboarding.models import Invitation

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Unknown tokens are counted per client IP; past the limit no token is looked up.
GUESSES = "invitation-guess"
TOO_MANY_GUESSES = (
    "Too many invalid invitation links were opened from your network. "
    "Try again in an hour, or ask the person who invited you for a new link.\n"
)


def _invalid(request: HttpRequest, problem: str) -> HttpResponse:
    # A link we never issued is "not found"; one we issued that is spent is "gone".
    status = 404 if problem == "unknown" else 410
    context = {"problem": problem, "support_email": settings.SUPPORT_EMAIL}
    return render(request, "invitations/invalid.html", context, status=status)


def _spent(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    """The invitation changed between showing the form and sending it: say how it stands now."""
    invitation.refresh_from_db()
    status = invitations.invitation_status(invitation)
    if status == "pending":  # an account appeared meanwhile: show the page for it
        return redirect(request.path)
    return _invalid(request, status)


def _welcome(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    tasks.enqueue_accepted_notice(invitation)
    messages.success(request, f"Welcome! You are now an admin of {invitation.tenant.name}.")
    return redirect("home")


@sensitive_post_parameters("password", "password1", "password2")
@never_cache
def accept(request: HttpRequest, token: str) -> HttpResponse:
    ip = client_ip(request) or "unknown"
    limit = settings.INVITATION_GUESSES_PER_IP_HOUR
    if rate_limits.exhausted(GUESSES, ip, limit=limit):
        return HttpResponse(TOO_MANY_GUESSES, status=429, content_type="text/plain; charset=utf-8")
    invitation = invitations.invitation_from_token(token)
    if invitation is None:
        rate_limits.hit(GUESSES, ip, limit=limit)
        return _invalid(request, "unknown")
    status = invitations.invitation_status(invitation)
    if status != "pending":
        return _invalid(request, status)
    if request.user.is_authenticated:
        return _accept_signed_in(request, invitation)
    if User.objects.filter(email__iexact=invitation.email).exists():
        return _accept_existing(request, invitation)
    return _accept_new(request, invitation)


def _accept_signed_in(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if user.email.lower() != invitation.email:
        context = {"invitation": invitation, "mode": "wrong_user"}
        return render(request, "invitations/accept.html", context)
    if request.method == "POST":
        try:
            invitations.invitation_accept(invitation=invitation, user=user, actor=Actor.of(request))
        except InvitationError:
            return _spent(request, invitation)
        return _welcome(request, invitation)
    return render(request, "invitations/accept.html", {"invitation": invitation, "mode": "join"})


def _accept_existing(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    form = ExistingAccountForm(
        request.POST if request.method == "POST" else None, request=request, email=invitation.email
    )
    if request.method == "POST" and form.is_valid() and form.user is not None:
        try:
            invitations.invitation_accept(
                invitation=invitation, user=form.user, actor=Actor.of(request)
            )
        except InvitationError:
            return _spent(request, invitation)
        login(request, form.user, backend=MODEL_BACKEND)
        return _welcome(request, invitation)
    context = {"invitation": invitation, "mode": "existing", "form": form}
    return render(request, "invitations/accept.html", context)


def _accept_new(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    form = NewAdminForm(request.POST if request.method == "POST" else None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.invitation_accept_as_new_user(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                actor=Actor.of(request),
            )
        except InvitationError:
            return _spent(request, invitation)
        login(request, user, backend=MODEL_BACKEND)
        return _welcome(request, invitation)
    context = {"invitation": invitation, "mode": "new", "form": form}
    return render(request, "invitations/accept.html", context)
