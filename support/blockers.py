"""What a tenant waits on, in words, for support's diagnosis column: the diagnosis of a
failed check, or during the setup what holds it up (consent declined, tried without an
admin role, the consent callback never arrived).

Reads only the row's annotations (support.tenant_list): no query per tenant."""

from __future__ import annotations

from typing import Any

from onboarding.consent.flow import FAILURE_KINDS
from onboarding.diagnosis import CATALOGUE
from onboarding.steps import DONE, PERMISSIONS, STEP_BY_NUMBER, VERIFY

CONSENT_FAILURES = {
    "declined": "Admin consent declined on Microsoft's consent page",
    "not_admin": (
        "Admin consent tried without an admin role: it needs a Global Administrator "
        "or Privileged Role Administrator"
    ),
    "redirect_uri": (
        "Admin consent refused: the portal's consent address is not among the app's redirect URIs"
    ),
    "wrong_directory": "Admin consent given in another directory than the app's",
    "app_not_found": (
        "Admin consent failed: Microsoft knows no such app (the Object ID entered as "
        "the client ID?)"
    ),
    # Vendor mode (onboarding.vendor.connect)
    "other_directory": "Vendor app: consent given, but the sign-in came from another directory",
    "not_admin_sign_in": (
        "Vendor app: consent given, but the account that signed in after it has no admin role"
    ),
    "directory_taken": (
        "Vendor app: the directory is connected to another tenant of the portal already"
    ),
}
CALLBACK_MISSING = (
    "Consent callback missing: no answer from Microsoft's consent page yet, "
    "neither granted nor refused"
)


def consent_failure_kind(details: dict[str, Any] | None) -> str:
    """The kind of a `consent.failed` audit event, from its code when it has no kind.
    A bare access_denied is the return link of Microsoft's "Need admin approval" page
    (onboarding.consent.flow.failure_from)."""
    details = details or {}
    if details.get("kind"):
        return str(details["kind"])
    code = str(details.get("code", ""))
    if code == "access_denied":
        return "not_admin"
    return FAILURE_KINDS.get(code, "other")


def blocker(tenant: Any) -> str:
    """One line: why the tenant is not (or no longer) connected; "" when nothing is wrong."""
    diagnosis = CATALOGUE.get(tenant.diagnosis_code or "")
    if tenant.onboarding_step >= DONE:
        return diagnosis.title if diagnosis else (tenant.diagnosis_code or "")
    if tenant.onboarding_step == PERMISSIONS:
        return _consent_blocker(tenant)
    if tenant.onboarding_step == VERIFY and (diagnosis or tenant.diagnosis_code):
        return diagnosis.title if diagnosis else tenant.diagnosis_code
    step = STEP_BY_NUMBER.get(tenant.onboarding_step, STEP_BY_NUMBER[1])
    return f"Waiting at step {step.number}: {step.title}"


def _consent_blocker(tenant: Any) -> str:
    app = getattr(tenant, "app_registration", None)
    granted = app.consent_granted_at if app is not None else None
    failed_at = getattr(tenant, "consent_failed_at", None)
    if failed_at is not None and (granted is None or failed_at > granted):
        details = getattr(tenant, "consent_failure", None) or {}
        kind = consent_failure_kind(details)
        code = details.get("code", "")
        return CONSENT_FAILURES.get(kind, f"Admin consent failed ({code or 'no code'})")
    return CALLBACK_MISSING
