"""Support's "run a check now": queue a check of a tenant's mailbox and show its
result as it arrives (htmx polls a fragment while the check is queued or running).

Each check sends a test message from the customer's mailbox, so requests are limited:
not moments after the last check (onboarding.checks.claim.CHECK_AGAIN_SECONDS) and at
most SUPPORT_CHECKS_PER_HOUR per mailbox (accounts.rate_limits). A refused request
creates no check, enqueues nothing and is not audited."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import rate_limits
from accounts.actors import Actor
from accounts.models import User
from onboarding import tasks
from onboarding.audit import audit_record
from onboarding.checks.claim import TOO_SOON, check_again_wait, check_request
from onboarding.checks.results import status_context
from onboarding.diagnosis import CATALOGUE
from onboarding.models import CheckRun, Mailbox
from support.decorators import support_required

OVER_LIMIT = (
    "This mailbox has been checked {limit} times in the last hour, the most allowed: "
    "each check sends a test message from the customer's mailbox. Try again later."
)


@support_required
@require_POST
def check_run(request: HttpRequest, tenant_id: str, mailbox_id: str) -> HttpResponse:
    mailbox = get_object_or_404(
        Mailbox.objects.select_related("tenant"), pk=mailbox_id, tenant_id=tenant_id
    )
    user = request.user
    assert isinstance(user, User)
    wait = check_again_wait(mailbox)
    if wait:
        return _refused(request, mailbox, TOO_SOON.format(seconds=wait))
    limit = settings.SUPPORT_CHECKS_PER_HOUR
    if not rate_limits.hit("support-check", str(mailbox.pk), limit=limit):
        return _refused(request, mailbox, OVER_LIMIT.format(limit=limit))
    requested = check_request(mailbox=mailbox, trigger=CheckRun.Trigger.SUPPORT, requested_by=user)
    tasks.enqueue_requested(requested)
    run = requested.run
    audit_record(
        action="check.requested",
        actor=Actor.of(request, user),
        tenant=mailbox.tenant,
        obj=run,
        mailbox=mailbox.address,
    )
    if request.htmx:  # type: ignore[attr-defined]
        return _fragment(request, run)
    return redirect("support:tenant-detail", tenant_id=mailbox.tenant_id)


@support_required
def check_status(request: HttpRequest, tenant_id: str, run_id: str) -> HttpResponse:
    run = get_object_or_404(
        CheckRun.objects.select_related("mailbox"), pk=run_id, mailbox__tenant_id=tenant_id
    )
    return _fragment(request, run)


def _refused(request: HttpRequest, mailbox: Mailbox, message: str) -> HttpResponse:
    """No check: say why, in the results' place (htmx) or on the tenant's page."""
    if request.htmx:  # type: ignore[attr-defined]
        context = {"mailbox": mailbox, "message": message}
        return render(request, "support/_check_refused.html", context)
    messages.warning(request, message)
    return redirect("support:tenant-detail", tenant_id=mailbox.tenant_id)


def _fragment(request: HttpRequest, run: CheckRun) -> HttpResponse:
    """The run's steps as the checks app words them (its status fragment's context),
    and, once it has finished, the mailbox's new health for the line above."""
    mailbox = Mailbox.objects.get(pk=run.mailbox_id)
    mailbox.diagnosis = CATALOGUE.get(mailbox.diagnosis_code)  # type: ignore[attr-defined]
    status = status_context(run)
    context = {
        **status,
        "step_diagnosed": any(row["diagnosis"] for row in status["rows"]),
        "diagnosis": CATALOGUE.get(run.diagnosis_key or ""),
        "mailbox": mailbox,
    }
    return render(request, "support/_check_run.html", context)
