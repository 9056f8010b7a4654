"""Step 3's round trip to Microsoft: the callback, and the forwarded consent link.
(The button that starts consent is step 3's own: onboarding.wizard.views.)"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.actors import Actor
from onboarding import tasks
from onboarding.access import admin_tenant_or_404, user_of
from onboarding.consent import flow, services
from onboarding.microsoft import admin_center
from onboarding.steps import SECRET, step_path
from onboarding.wizard.services import suggested_app_name

log = logging.getLogger(__name__)


@require_GET
def consent_callback(request: HttpRequest) -> HttpResponse:
    """Microsoft sends the admin back here; the state says which tenant it is about."""
    user_id = str(request.user.pk) if request.user.is_authenticated else None
    try:
        outcome = flow.consent_callback(request.session, request.GET, user_id=user_id)
    except flow.ConsentRejected as exc:
        # The reason names a rule, never a received value.
        log.warning("Admin consent callback refused: %s", exc)
        return render(request, "onboarding/consent_rejected.html", status=400)
    app = outcome.app
    if not outcome.forwarded:
        admin_tenant_or_404(request.user, app.tenant_id)
    actor = Actor.of(request)
    if outcome.failure is not None:
        services.record_consent_failure(
            app,
            code=outcome.failure.code,
            kind=outcome.failure.kind,
            actor=actor,
            forwarded=outcome.forwarded,
        )
        return failure_page(request, outcome)
    tasks.enqueue_requested(services.record_consent(app, actor=actor, forwarded=outcome.forwarded))
    if outcome.forwarded:
        return render(request, "onboarding/consent_forwarded_granted.html", {"app": app})
    messages.success(
        request,
        "Admin consent reported by Microsoft's sign-in page. "
        "The first passing check confirms it with Microsoft.",
    )
    return redirect(step_path(app.tenant_id, SECRET))


def failure_page(request: HttpRequest, outcome: flow.ConsentOutcome) -> HttpResponse:
    """One page per kind of failure; the template picks the words."""
    asked_by = outcome.asked_by
    if not outcome.forwarded and request.user.is_authenticated:
        asked_by = user_of(request.user)
    failure = outcome.failure
    context = {
        "app": outcome.app,
        "tenant": outcome.app.tenant,
        "failure": failure,
        "forwarded": outcome.forwarded,
        "callback_url": flow.callback_url(),
        "forward_url": flow.forward_url(outcome.app, asked_by=asked_by),
        "consent_roles": flow.CONSENT_ROLES,
        # The account Microsoft signed in could not consent: offer to pick another.
        "select_account": failure is not None and failure.kind in SELECT_ACCOUNT_AFTER,
    }
    return render(request, "onboarding/consent_callback_failed.html", context)


# Failures where the account signed in was the wrong one to grant consent.
SELECT_ACCOUNT_AFTER = ("not_admin", "wrong_directory")


@require_http_methods(["GET", "POST"])
def consent_forwarded(request: HttpRequest, token: str) -> HttpResponse:
    """A page for the colleague with an admin role: who asks, what is asked, one button."""
    try:
        forward = flow.forward_request(token)
    except flow.ConsentRejected as exc:
        log.warning("Forwarded consent link refused: %s", exc)
        return render(request, "onboarding/consent_rejected.html", status=400)
    app = forward.app
    if request.method == "POST":
        user_id = str(request.user.pk) if request.user.is_authenticated else None
        url = flow.consent_start(
            request.session,
            app,
            user_id=user_id,
            forward_link=token,
            select_account=request.POST.get("select_account") == "1",
            asked_by=forward.asked_by,
        )
        return redirect(url)
    context = {
        "app": app,
        "tenant": app.tenant,
        "asked_by": forward.asked_by,
        "app_name": suggested_app_name(app.tenant),
        "permissions": admin_center.asks().permissions_text(),
        "consent_roles": flow.CONSENT_ROLES,
        "select_account": request.GET.get("select_account") == "1",
    }
    return flow.allow_form_to_microsoft(
        render(request, "onboarding/consent_forwarded.html", context)
    )
