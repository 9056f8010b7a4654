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
            # Microsoft calls Application Access Policies legacy, replaced by RBAC for
            # Applications (tests/recordings/exchange_rbac_for_applications.json).
            "Application access policies are Microsoft's legacy way: move to RBAC for "
            'Applications with "Limit to these mailboxes" in step 3, which gives the '
            "Exchange commands to run, then remove the policy with "
            "Remove-ApplicationAccessPolicy.",
        ),
        MAILBOX,
    ),
    # Graph finds a mailbox's user by UPN or object ID only: an alias, or the address of
    # a user whose sign-in name differs (hybrid directories), is "invalid" too.
    entry(
        "unknown_user",
        "Microsoft does not know the mailbox by this name",
        "Microsoft Graph found no user whose sign-in name (user principal name, UPN) is this "
        "address. Either the address has a typo, or it is an alias or other e-mail address "
        "of a user who signs in with a different name.",
        (
            "Check the mailbox address for typos.",
            "In the Microsoft Entra admin center, open Users, select the mailbox's user and "
            "compare its User principal name with the address.",
            "If they differ, enter the User principal name in step 5 under "
            '"User principal name (if different)", then run the check again.',
        ),
        MAILBOX,
    ),
    # Graph answers MailboxNotEnabledForRESTAPI or, for some such users, ResourceNotFound
    # ("Resource could not be discovered."): tests/recordings/graph_*_not_*.json.
    entry(
        "no_mailbox",
        "Microsoft cannot reach an Exchange Online mailbox for this user",
        "The user exists, but Microsoft Graph finds no Exchange Online mailbox it can use: "
        "the mailbox is inactive (often: no Exchange Online licence), soft-deleted, or "
        "hosted on-premises.",
        (
            "In the Microsoft 365 admin center, give the user a licence that includes "
            "Exchange Online, or use a shared mailbox.",
            "If the mailbox was deleted, restore it; if it is on-premises, move it to "
            "Exchange Online.",
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
