"""Step 3's round trip to Microsoft: start admin consent, take the callback, forward it."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onboarding import consent, wizard
from onboarding.views.tenancy import WizardPage, admin_tenant_or_404, step_url, wizard_step

log = logging.getLogger(__name__)


@wizard_step(3)
@require_POST
def consent_start(request: HttpRequest, page: WizardPage) -> HttpResponse:
    app = page.app
    assert app is not None
    url = consent.consent_start(request.session, app, user_id=str(request.user.pk))
    return redirect(url)


@require_GET
def consent_callback(request: HttpRequest) -> HttpResponse:
    """Microsoft sends the admin back here; the state says which tenant it is about."""
    user_id = str(request.user.pk) if request.user.is_authenticated else None
    try:
        outcome = consent.consent_callback(request.session, request.GET, user_id=user_id)
    except consent.ConsentRejected as exc:
        # The reason names a rule, never a received value.
        log.warning("Admin consent callback refused: %s", exc)
        return render(request, "onboarding/consent_rejected.html", status=400)
    app = outcome.app
    if not outcome.forwarded:
        admin_tenant_or_404(request, app.tenant_id)
    by = request.user if request.user.is_authenticated else None
    if outcome.failure is not None:
        wizard.record_consent_failure(
            app, code=outcome.failure.code, by=by, forwarded=outcome.forwarded, request=request
        )
        return failure_page(request, outcome)
    wizard.record_consent(app, by=by, forwarded=outcome.forwarded, request=request)
    wizard.record_progress(app.tenant)
    if outcome.forwarded:
        return render(request, "onboarding/consent_forwarded_granted.html", {"app": app})
    messages.success(request, "Admin consent granted. Microsoft Graph may now read and send mail.")
    return redirect(step_url(app.tenant, wizard.STEP_BY_NUMBER[4]))


def failure_page(request: HttpRequest, outcome: consent.ConsentOutcome) -> HttpResponse:
    """One page per kind of failure; the template picks the words."""
    context = {
        "app": outcome.app,
        "tenant": outcome.app.tenant,
        "failure": outcome.failure,
        "forwarded": outcome.forwarded,
        "callback_url": consent.callback_url(),
        "forward_url": consent.forward_url(outcome.app),
        "consent_roles": consent.CONSENT_ROLES,
    }
    return render(request, "onboarding/consent_callback_failed.html", context)


@require_http_methods(["GET", "POST"])
def consent_forwarded(request: HttpRequest, token: str) -> HttpResponse:
    """A page for the colleague with an admin role: what is asked, and one button."""
    try:
        app = consent.app_for_forward_token(token)
    except consent.ConsentRejected as exc:
        log.warning("Forwarded consent link refused: %s", exc)
        return render(request, "onboarding/consent_rejected.html", status=400)
    if request.method == "POST":
        user_id = str(request.user.pk) if request.user.is_authenticated else None
        return redirect(
            consent.consent_start(request.session, app, user_id=user_id, forwarded=True)
        )
    context = {"app": app, "tenant": app.tenant, "consent_roles": consent.CONSENT_ROLES}
    return allow_form_to_microsoft(render(request, "onboarding/consent_forwarded.html", context))


def allow_form_to_microsoft(response: HttpResponse) -> HttpResponse:
    """The page's consent form is answered with a redirect to Microsoft, which the
    browser checks against the page's CSP form-action."""
    response._csp_update = {"form-action": [consent.login_origin()]}  # type: ignore[attr-defined]
    return response
