"""A consent granted moments ago: right after admin consent, Microsoft's new tokens lack
the roles for a while (tests/recordings/consent_propagation_token_without_roles.json;
Microsoft gives no duration), so Graph refuses the mailbox although nothing is wrong.

A check refused for missing consent within CONSENT_SETTLING of the consent tries again
every CONSENT_RETRY_SECONDS, through the run's retries (onboarding.checks.claim.requeue:
never sleeping in the worker), while its attempts last and for at most CONSENT_WAIT after
it was asked for; then it fails with the consent diagnosis.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from onboarding.diagnosis import consent
from onboarding.microsoft import MicrosoftError
from onboarding.models import AppRegistration, CheckRun

CONSENT_SETTLING = timedelta(minutes=10)
CONSENT_WAIT = timedelta(minutes=5)
CONSENT_RETRY_SECONDS = 90.0


def retry(run: CheckRun, done: list[dict[str, Any]]) -> MicrosoftError | None:
    """The transient error to retry the run with, its refusals marked as waiting
    (consent_propagating), when a consent just granted may explain them and another try
    fits in the time and attempts left; None otherwise. Queries only after a refusal."""
    refusals = [e for e in done if e["diagnosis_key"] in consent.CONSENT_MISSING]
    now = timezone.now()
    if not refusals or run.attempts >= settings.PORTAL_CHECK_MAX_ATTEMPTS:
        return None  # nothing to wait for, or check_run would not try again
    if now + timedelta(seconds=CONSENT_RETRY_SECONDS) > run.created_at + CONSENT_WAIT:
        return None
    apps = AppRegistration.objects.filter(tenant_id=run.mailbox.tenant_id)
    granted = apps.values_list("consent_granted_at", flat=True).first()
    if granted is None or now - granted > CONSENT_SETTLING:
        return None
    for entry in refusals:
        entry["diagnosis_key"] = "consent_propagating"
    first = refusals[0]
    return MicrosoftError(
        first["code"],
        first["message"],
        correlation_id=first["correlation_id"],
        transient=True,
        retry_after=CONSENT_RETRY_SECONDS,
    )
