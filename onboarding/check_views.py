"""The check pages: a mailbox's latest check with a rate-limited "Run check again",
and the status fragment that htmx polls while a check runs (the wizard's verify step
includes the same fragment)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from onboarding.checks import STEP_LABELS, check_request, step_diagnosis
from onboarding.emails import fix_path
from onboarding.models import CheckRun, Mailbox, Tenant

# "Run check again" is refused this soon after the mailbox's last check was requested.
CHECK_AGAIN_SECONDS = 30


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _visible_mailbox(request: HttpRequest, mailbox_id: Any) -> Mailbox:
    """The mailbox, if it belongs to one of the user's tenants (or the user is support);
    404 otherwise, so that another tenant's ids reveal nothing."""
    mailbox = get_object_or_404(Mailbox.objects.select_related("tenant"), pk=mailbox_id)
    user = _user(request)
    if not (user.is_support or user.memberships.filter(tenant_id=mailbox.tenant_id).exists()):
        raise Http404
    return mailbox


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_check(request: HttpRequest, mailbox_id: Any) -> HttpResponse:
    mailbox = _visible_mailbox(request, mailbox_id)
    if request.method == "POST":
        start_check(request, mailbox)
        return redirect("checks:mailbox-check", mailbox_id=mailbox.pk)
    run = mailbox.check_runs.first()
    context = {"mailbox": mailbox, **(status_context(run) if run else {"run": None})}
    return render(request, "onboarding/check_page.html", context)


def start_check(request: HttpRequest, mailbox: Mailbox) -> None:
    """Request a check of the mailbox, unless one was requested moments ago."""
    latest = mailbox.check_runs.first()
    since = timezone.now() - timedelta(seconds=CHECK_AGAIN_SECONDS)
    if latest is not None and latest.is_finished and latest.created_at > since:
        wait = int((latest.created_at - since).total_seconds()) + 1
        messages.warning(request, f"The last check was moments ago; try again in {wait} s.")
        return
    user = _user(request)
    member = user.memberships.filter(tenant_id=mailbox.tenant_id).exists()
    trigger = CheckRun.Trigger.WIZARD if member else CheckRun.Trigger.SUPPORT
    check_request(mailbox=mailbox, trigger=trigger, requested_by=user)


@login_required
@require_GET
def check_status(request: HttpRequest, check_run_id: Any) -> HttpResponse:
    run = get_object_or_404(CheckRun.objects.select_related("mailbox"), pk=check_run_id)
    _visible_mailbox(request, run.mailbox_id)
    return render(request, "onboarding/_check_status.html", status_context(run))


def verify_checks(request: HttpRequest, tenant: Tenant) -> list[dict[str, Any]]:
    """The wizard's verify step: each mailbox with its latest check. A mailbox never
    checked since its setup changed (health unknown, nothing pending) gets one now."""
    items = []
    for mailbox in tenant.mailboxes.order_by("address"):
        run = mailbox.check_runs.first()
        if run is None or (mailbox.health == Tenant.Health.UNKNOWN and run.is_finished):
            run = check_request(
                mailbox=mailbox, trigger=CheckRun.Trigger.WIZARD, requested_by=_user(request)
            )
        items.append({"mailbox": mailbox, **status_context(run), "poll": False})
    return items


def status_context(run: CheckRun) -> dict[str, Any]:
    """What the status fragment shows: every step in order, with its diagnosis."""
    recorded = {step["name"]: step for step in run.steps}
    names = ["token", "permissions", "read_inbox", "send_test"]
    if run.mailbox.has_password or "password_sign_in" in recorded:
        names.append("password_sign_in")
    rows = []
    for name in names:
        step = recorded.get(name, {"outcome": _unrecorded(run)})
        found = step_diagnosis(step)
        rows.append(
            {
                "label": STEP_LABELS[name],
                "step": step,
                "diagnosis": found,
                "fix_url": fix_path(tenant_id=run.mailbox.tenant_id, diagnosis=found),
            }
        )
    return {"run": run, "rows": rows, "poll": True}


def _unrecorded(run: CheckRun) -> str:
    if run.is_finished:
        return "not_run"
    return "running" if run.status == CheckRun.Status.RUNNING else "waiting"
