"""The application and its directory (wizard step 1), and its service principal there."""

# Catalogue entries, and the Microsoft codes (AADSTS numbers, Graph codes) that mean them.

from __future__ import annotations

from onboarding.diagnosis.entry import entry
from onboarding.steps import PERMISSIONS, REGISTER

ENTRIES = [
    entry(
        "directory_not_found",
        "Directory not found",
        "Microsoft does not know the Directory (tenant) ID that was entered, or it belongs "
        "to another Microsoft cloud.",
        (
            "In the Entra admin center, open App registrations and your application.",
            "On its Overview page, copy the Directory (tenant) ID.",
            "Paste it in step 1 of this wizard and save.",
        ),
        REGISTER,
    ),
    entry(
        "directory_malformed",
        "Directory ID is not valid",
        "The Directory (tenant) ID is neither a GUID nor a domain name Microsoft accepts.",
        (
            "Copy the Directory (tenant) ID from your application's Overview page: it looks "
            "like 0a1b2c3d-…; a verified domain such as contoso.onmicrosoft.com also works.",
            "Paste it in step 1 and save.",
        ),
        REGISTER,
    ),
    entry(
        "app_not_found",
        "Application not found in your directory",
        "The Application (client) ID is not registered in the directory that was entered, "
        "or the two IDs come from different registrations.",
        (
            "Open your application's Overview page in the Entra admin center.",
            "Copy both the Application (client) ID and the Directory (tenant) ID from that page.",
            "Enter both in step 1, then grant admin consent again in step 3.",
        ),
        REGISTER,
    ),
    entry(
        # The registration is there but its enterprise application (service principal)
        # was deleted: Microsoft then refuses every token with AADSTS7000229. Admin
        # consent creates a new one (tests/recordings/token_missing_service_principal.json).
        "service_principal_missing",
        "The application's enterprise application is missing",
        "Your directory still has the app registration, but its enterprise application "
        "(the app's service principal, listed under Enterprise applications) is missing: "
        "usually it was deleted. Without it, Microsoft refuses to sign the application in.",
        (
            "Open step 3 of this wizard.",
            "Press Grant admin consent and accept, signed in as a Global Administrator or "
            "Privileged Role Administrator: granting consent creates the enterprise "
            "application again.",
            "Run the check again.",
        ),
        PERMISSIONS,
    ),
    entry(
        "app_missing",
        "The application is not registered in the portal yet",
        "The portal does not know the Application (client) ID and Directory (tenant) ID yet.",
        ("Enter both IDs from your application's Overview page in step 1.",),
        REGISTER,
    ),
]

# Microsoft's error codes (AADSTS numbers and Graph codes) -> catalogue keys.
CODES = {
    "AADSTS90002": "directory_not_found",
    "AADSTS900023": "directory_malformed",
    "AADSTS700016": "app_not_found",
    "AADSTS7000229": "service_principal_missing",
}
