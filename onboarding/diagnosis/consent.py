"""Permissions and admin consent (step 3)."""

# Catalogue entries, and the Microsoft codes (AADSTS numbers, Graph codes) that mean them.

from __future__ import annotations

from onboarding.diagnosis.entry import entry
from onboarding.steps import PERMISSIONS

ENTRIES = [
    entry(
        "no_consent",
        "Admin consent has not been granted",
        "Microsoft issued a token without any application permissions: Mail.Read and "
        "Mail.Send were added but an administrator has not consented to them.",
        (
            "Open step 3 and press Grant admin consent, signed in as a Global Administrator "
            "or Privileged Role Administrator.",
            "Or, in API permissions, press Grant admin consent for your organisation.",
        ),
        PERMISSIONS,
    ),
    entry(
        "missing_mail_read",
        "Mail.Read is not consented",
        "The application may send mail but not read it: the Mail.Read application "
        "permission is missing or was not consented.",
        (
            "In API permissions, add Microsoft Graph > Application permissions > Mail.Read.",
            "Grant admin consent again in step 3.",
        ),
        PERMISSIONS,
    ),
    entry(
        "missing_mail_send",
        "Mail.Send is not consented",
        "The application may read mail but not send it: the Mail.Send application "
        "permission is missing or was not consented.",
        (
            "In API permissions, add Microsoft Graph > Application permissions > Mail.Send.",
            "Grant admin consent again in step 3.",
        ),
        PERMISSIONS,
    ),
    entry(
        "delegated_consent_missing",
        "Consent for the password sign-in is missing",
        "Nobody has consented to the delegated Mail permissions the password sign-in uses.",
        (
            "In API permissions, add Microsoft Graph delegated permissions Mail.Read and "
            "Mail.Send and grant admin consent.",
        ),
        PERMISSIONS,
    ),
]

# Microsoft's error codes (AADSTS numbers and Graph codes) -> catalogue keys.
CODES = {
    "AADSTS65001": "delegated_consent_missing",
}
