"""Vendor mode's own diagnoses: with the vendor's app the customer has no app, secret or
certificate of their own, so what the guide's steps 1, 2 and 4 would fix is either the
consent (step 3) or the vendor's to fix (support is told; nothing for the admin to do)."""

from __future__ import annotations

from onboarding.diagnosis.entry import Diagnosis, entry
from onboarding.steps import AUTHENTICATION, PERMISSIONS, REGISTER, SECRET

ENTRIES = [
    entry(
        "vendor_consent_missing",
        "The vendor's app is not in your directory",
        "Microsoft does not know the vendor's app in your directory: admin consent was not "
        "granted yet, or the app was removed from Enterprise applications since.",
        (
            "Open step 3 and press Grant admin consent.",
            "Sign in as a Global Administrator or Privileged Role Administrator and choose Accept.",
        ),
        PERMISSIONS,
    ),
    entry(
        "vendor_app_refused",
        "The vendor's app could not sign in",
        "Microsoft refused the vendor's own app credential. This is the vendor's to fix, not "
        "yours: support has been told, and the portal tries again.",
        ("Nothing to do on your side; the portal checks again by itself.",),
        None,
        transient=True,
    ),
    entry(
        "vendor_credential_missing",
        "The vendor's app has no credential in the portal",
        "The portal has no certificate for the vendor's app yet, or its configuration is "
        "incomplete. Support has been told; the portal tries again.",
        ("Nothing to do on your side; the portal checks again by itself.",),
        None,
        transient=True,
    ),
    entry(
        "vendor_credential_unreadable",
        "The portal cannot read the vendor app's credential",
        "The vendor app's private key stored in the portal cannot be decrypted. Support has "
        "been told; the portal tries again.",
        ("Nothing to do on your side; the portal checks again by itself.",),
        None,
        transient=True,
    ),
]

CODES: dict[str, str] = {}

# Diagnoses that send the admin to a step vendor mode does not have.
_NOT_THE_CUSTOMERS = (REGISTER, AUTHENTICATION, SECRET)
_CONSENT = ("app_not_found", "service_principal_missing")


def for_vendor_app(found: Diagnosis, catalogue: dict[str, Diagnosis]) -> Diagnosis:
    """What a check's diagnosis means when the tenant uses the vendor's app."""
    if found.wizard_step not in _NOT_THE_CUSTOMERS:
        return found
    key = "vendor_consent_missing" if found.key in _CONSENT else "vendor_app_refused"
    replaced = catalogue[key]
    return Diagnosis(
        replaced.key,
        replaced.title,
        replaced.explanation,
        replaced.fix,
        replaced.wizard_step,
        replaced.transient,
        microsoft_code=found.microsoft_code,
        microsoft_message=found.microsoft_message,
        correlation_id=found.correlation_id,
    )
