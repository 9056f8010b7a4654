"""The mailbox as Microsoft Graph sees it (step 5)."""

# Catalogue entries, and the Microsoft codes (AADSTS numbers, Graph codes) that mean them.

from __future__ import annotations

from onboarding.diagnosis.entry import entry
from onboarding.steps import MAILBOX, PERMISSIONS, REGISTER

ENTRIES = [
    entry(
        "access_denied",
        "Microsoft denied access to the mailbox",
        "The token was accepted but Graph refused the request. This happens when Mail.Read "
        "or Mail.Send were added as Delegated instead of Application permissions.",
        (
            "In API permissions, check that Mail.Read and Mail.Send are listed with type "
            "Application (remove Delegated duplicates).",
            "Grant admin consent again in step 3.",
        ),
        PERMISSIONS,
    ),
    entry(
        "mailbox_out_of_scope",
        "The mailbox is outside the application's allowed scope",
        "Your Exchange administrator limits which mailboxes this application may reach "
        "(an application access policy or RBAC for Applications), and this mailbox is not "
        "among them.",
        (
            "Ask your Exchange administrator to add this mailbox to the application's access "
            "policy or management scope.",
            "Check with Test-ServicePrincipalAuthorization in Exchange Online PowerShell.",
            "Changes can take up to an hour to apply; then run the check again.",
        ),
        MAILBOX,
    ),
    entry(
        "unknown_user",
        "No such user",
        "Microsoft has no user with this address in your directory.",
        (
            "Check the mailbox address for typos.",
            "Use the address of a user or shared mailbox in this directory, then save step 5.",
        ),
        MAILBOX,
    ),
    entry(
        "no_mailbox",
        "The user has no Exchange Online mailbox",
        "The address exists but has no mailbox in Exchange Online: it is unlicensed, "
        "soft-deleted, or still hosted on-premises.",
        (
            "In the Microsoft 365 admin center, give the user an Exchange Online licence, "
            "or use a shared mailbox.",
            "Wait for the mailbox to be provisioned, then run the check again.",
        ),
        MAILBOX,
    ),
    entry(
        "token_rejected",
        "Microsoft Graph rejected the token",
        "Graph did not accept the access token: it expired in transit or was issued for "
        "another Microsoft cloud.",
        (
            "Run the check again.",
            "If it persists, check that your tenant is in the cloud this portal uses and "
            "contact support with the correlation ID.",
        ),
        REGISTER,
    ),
]

# Microsoft's error codes (AADSTS numbers and Graph codes) -> catalogue keys.
CODES = {
    "ErrorInvalidUser": "unknown_user",
    "MailboxNotEnabledForRESTAPI": "no_mailbox",
    "ResourceNotFound": "no_mailbox",
    "InvalidAuthenticationToken": "token_rejected",
    "http_401": "token_rejected",
}
