"""The pages of "Connect with Microsoft": the admin's buttons in step 5, the fixed
callback Microsoft returns to, and the owner's page behind the single-use link."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.actors import Actor
from onboarding import emails, tasks
from onboarding.access import admin_tenant_or_404, user_of
from onboarding.checks import results
from onboarding.consent.flow import allow_form_to_microsoft
from onboarding.delegated import flow, links, services
from onboarding.microsoft import MicrosoftError
from onboarding.models import Mailbox
from onboarding.steps import MAILBOX, VERIFY, step_path
from onboarding.wizard.page import WizardPage, wizard_step

log = logging.getLogger(__name__)

# Why each permission is asked, in the words the pages show before Microsoft's own.
PERMISSIONS = (
    ("Read your mail (Mail.Read)", "the operations app reads the orders that arrive here"),
    ("Send mail as you (Mail.Send)", "it answers them from this address"),
    (
        "Maintain access (offline_access)",
        "so that it keeps working without you signing in again; the portal checks it daily",
    ),
    (
        "Sign you in and read your profile (openid, profile, User.Read)",
        "to confirm that the account signing in is this mailbox's",
    ),
)


@wizard_step(MAILBOX)
@require_POST
def connect_start(request: HttpRequest, page: WizardPage, mailbox_id: object) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, tenant=page.tenant)
    return _to_microsoft(request, mailbox, user_id=str(request.user.pk))


def _to_microsoft(
    request: HttpRequest, mailbox: Mailbox, *, user_id: str | None, owner_token: str = ""
) -> HttpResponse:
    try:
        url = flow.start(request.session, mailbox, user_id=user_id, owner_token=owner_token)
    except MicrosoftError as exc:
        log.warning("Mailbox sign-in could not start: %s", exc.code)
        return render(
            request,
            "onboarding/connect_failed.html",
            {"mailbox": mailbox, "failure": flow.SignInFailure("start", exc.code, exc.message)},
            status=503 if exc.transient else 200,
        )
    return redirect(url)


@require_GET
def connect_callback(request: HttpRequest) -> HttpResponse:
    """Microsoft sends the browser back here; the state says which mailbox it is for."""
    user_id = str(request.user.pk) if request.user.is_authenticated else None
    try:
        outcome = flow.callback(request.session, request.GET, user_id=user_id)
        mailbox = outcome.mailbox
        if not outcome.owner_link:
            admin_tenant_or_404(request.user, mailbox.tenant_id)
        if outcome.failure is not None:
            return render(
                request,
                "onboarding/connect_failed.html",
                {"mailbox": mailbox, "failure": outcome.failure, "owner_link": outcome.owner_link},
            )
        tasks.enqueue_requested(services.record_sign_in(outcome, actor=Actor.of(request)))
    except flow.SignInRejected as exc:
        # The reason names a rule, never a received value.
        log.warning("Mailbox sign-in callback refused: %s", exc)
        return render(request, "onboarding/connect_rejected.html", status=400)
    if outcome.owner_link:
        return render(request, "onboarding/connect_done.html", {"mailbox": mailbox})
    messages.success(
        request,
        f"{mailbox.address} is connected with its own Microsoft sign-in. Its check is running.",
    )
    return redirect(step_path(mailbox.tenant_id, VERIFY))


@require_http_methods(["GET", "POST"])
def connect_owner(request: HttpRequest, token: str) -> HttpResponse:
    """The owner's page: which mailbox, for whom, what is asked and why; one button."""
    try:
        mailbox = links.mailbox_for(token)
    except links.LinkRejected as exc:
        log.warning("Mailbox owner's link refused: %s", exc)
        return render(request, "onboarding/connect_rejected.html", {"owner": True}, status=400)
    if request.method == "POST":
        user_id = str(request.user.pk) if request.user.is_authenticated else None
        return _to_microsoft(request, mailbox, user_id=user_id, owner_token=token)
    context = {
        "mailbox": mailbox,
        "tenant": mailbox.tenant,
        "permissions": PERMISSIONS,
        "test_message": results.test_message(mailbox),
        "send_days": settings.PORTAL_RECHECK_SEND_DAYS,
    }
    return allow_form_to_microsoft(render(request, "onboarding/connect_owner.html", context))


@wizard_step(MAILBOX)
@require_POST
def connect_send(request: HttpRequest, page: WizardPage, mailbox_id: object) -> HttpResponse:
    """E-mail the owner's link to the mailbox itself."""
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, tenant=page.tenant)
    expires = date_format(timezone.localtime(timezone.now() + links.MAX_AGE), "j F Y, H:i")
    emails.connect_request(
        mailbox=mailbox,
        tenant=page.tenant,
        asked_by=user_of(request.user),
        link=links.owner_url(mailbox),
        expires=expires,
    )
    messages.success(request, f"The link to connect it was sent to {mailbox.address}.")
    return redirect("onboarding:mailbox-edit", page.tenant.pk, mailbox.pk)


@wizard_step(MAILBOX)
@require_POST
def connect_remove(request: HttpRequest, page: WizardPage, mailbox_id: object) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, tenant=page.tenant)
    tasks.enqueue_requested(services.remove_sign_in(mailbox, actor=Actor.of(request)))
    messages.success(request, f"The portal no longer keeps {mailbox.address}'s sign-in.")
    return redirect("onboarding:mailbox-edit", page.tenant.pk, mailbox.pk)
