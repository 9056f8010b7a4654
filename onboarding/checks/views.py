"""The check pages: a mailbox's latest check with a rate-limited "Run check again",
and the status fragment that htmx polls while a check runs (the wizard's verify step
shows the same fragment)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from onboarding import tasks
from onboarding.access import staff_verified, user_of, visible_mailbox_or_404
from onboarding.checks.claim import TOO_SOON, check_again
from onboarding.checks.results import status_context, test_message
from onboarding.models import CheckRun


def second_factor_for_staff(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff whose session has no verified TOTP code are sent to the two-factor page
    first, as on /support/ (visible_mailbox_or_404 refuses them in any case)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = user_of(request.user)
        if not staff_verified(user):
            if not (user.is_support or user.is_superuser):
                raise Http404  # staff who have no second-factor page to go to
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('support:two-factor')}?{query}")
        return view(request, *args, **kwargs)

    return wrapped


@login_required
@second_factor_for_staff
@require_http_methods(["GET", "POST"])
def mailbox_check(request: HttpRequest, mailbox_id: Any) -> HttpResponse:
    mailbox = visible_mailbox_or_404(request.user, mailbox_id)
    if request.method == "POST":
        requested = check_again(mailbox=mailbox, user=user_of(request.user))
        if isinstance(requested, int):
            messages.warning(request, TOO_SOON.format(seconds=requested))
        else:
            tasks.enqueue_requested(requested)
        return redirect("checks:mailbox-check", mailbox_id=mailbox.pk)
    run = mailbox.check_runs.first()
    context = {
        "mailbox": mailbox,
        "test_message": test_message(mailbox),  # stated before the first check, too
        **(status_context(run) if run else {"run": None}),
    }
    return render(request, "onboarding/check_page.html", context)


@login_required
@second_factor_for_staff
@require_GET
def check_status(request: HttpRequest, check_run_id: Any) -> HttpResponse:
    run = get_object_or_404(CheckRun.objects.select_related("mailbox"), pk=check_run_id)
    visible_mailbox_or_404(request.user, run.mailbox_id)
    return render(request, "onboarding/_check_status.html", status_context(run))
