"""An app limited to its mailboxes in Exchange Online (RBAC for Applications): what a
check of a limited tenant found (onboarding.scope.proof names these).

Graph answers a mailbox the app may not reach with the same 403 ErrorAccessDenied as an
app without permission (tests/recordings/graph_rbac_mailbox_out_of_scope.json), so which
of the mailbox's steps and the out-of-scope read were refused tells the cases apart.
The fixes are on the scope page, reached from step 3.
"""

from __future__ import annotations

from onboarding.diagnosis.entry import entry
from onboarding.steps import PERMISSIONS

_TEST = (
    "In Exchange Online PowerShell, run the Test-ServicePrincipalAuthorization line from "
    "the portal's commands: it lists each role with InScope True or False for the mailbox."
)

ENTRIES = [
    entry(
        "scope_too_wide",
        "The app can reach mailboxes outside its scope",
        "Microsoft Graph let the app read the address you named as outside the scope. "
        "Either Mail.Read or Mail.Send is still consented in Microsoft Entra (Exchange's "
        "scope only adds to Entra's grants), or the scope's filter matches more mailboxes "
        "than the ones you connect.",
        (
            "In Microsoft Entra, open Enterprise applications, select the app, open "
            "Permissions and remove the admin consent for Mail.Read and Mail.Send (or remove "
            "both permissions under App registrations > API permissions).",
            "If the consent is gone, check the management scope's filter: it must name only "
            "the connected mailboxes (Get-ManagementScope shows it).",
            "Then run the check again.",
        ),
        PERMISSIONS,
    ),
    entry(
        "scope_entra_consent_granted",
        "Entra's tenant-wide Mail consent is still granted",
        "Microsoft Graph let the app read the address outside the scope, and the app's "
        "token carries Mail permissions from Microsoft Entra: they reach every mailbox, "
        "whatever Exchange's scope says, because the two grants add up.",
        (
            "In Microsoft Entra, open Enterprise applications, select the app, open "
            "Permissions and remove the admin consent for Mail.Read and Mail.Send.",
            "Under App registrations > API permissions, remove Mail.Read and Mail.Send, so "
            "nobody grants them again by mistake.",
            "Then run the check again.",
        ),
        PERMISSIONS,
    ),
    entry(
        "scope_excludes_mailbox",
        "The scope leaves out this mailbox",
        "Microsoft Graph refused this mailbox but let the app read the address outside "
        "the scope: the management scope's filter (or group) matches other mailboxes and "
        "not this one.",
        (
            "Open the scope page from step 3 and run its New-ManagementScope line again, or "
            "add the mailbox to the group the scope names (direct members only).",
            _TEST,
            "Allow 30 minutes to 2 hours for Exchange to apply it, then run the check again.",
        ),
        PERMISSIONS,
    ),
    entry(
        "scope_reaches_nothing",
        "Exchange Online grants the app no mailbox",
        "Microsoft Graph refused this mailbox and every other: the app has no Mail "
        "permission in Microsoft Entra, and in Exchange Online its service principal is "
        "missing (New-ServicePrincipal), its role assignments are missing "
        "(New-ManagementRoleAssignment) or the scope's filter matches no mailbox.",
        (
            "Open the scope page from step 3 and run every command in order; each must end "
            "without an error.",
            _TEST + " No line at all means the service principal or the assignments are "
            "missing; InScope False means the filter does not match the mailbox.",
            "Allow 30 minutes to 2 hours for Exchange to apply it, then run the check again.",
        ),
        PERMISSIONS,
    ),
    entry(
        "scope_missing_read",
        "The app may send but not read",
        "Microsoft Graph sent from this mailbox but refused to read it: Exchange Online has "
        "the app's Application Mail.Send assignment and not Application Mail.Read for "
        "this mailbox.",
        (
            "Run the portal's New-ManagementRoleAssignment line with "
            "-Role 'Application Mail.Read'.",
            _TEST,
        ),
        PERMISSIONS,
    ),
    entry(
        "scope_missing_send",
        "The app may read but not send",
        "Microsoft Graph read this mailbox but refused to send from it: Exchange Online "
        "has the app's Application Mail.Read assignment and not Application Mail.Send for "
        "this mailbox.",
        (
            "Run the portal's New-ManagementRoleAssignment line with "
            "-Role 'Application Mail.Send'.",
            _TEST,
        ),
        PERMISSIONS,
    ),
    entry(
        "scope_probe_unusable",
        "The address outside the scope is not a mailbox of your directory",
        "To prove the scope, the check reads an address that must be refused. Microsoft "
        "Graph knows no mailbox by the address given, so a refusal would prove nothing.",
        (
            "Open the scope page from step 3 and name a mailbox of your own directory that "
            "the app must not reach, for example your own.",
        ),
        PERMISSIONS,
    ),
    entry(
        "scope_probe_connected",
        "The address outside the scope is a connected mailbox",
        "To prove the scope, the check reads an address that must be refused. The address "
        "given is one of the mailboxes the app serves, which it must reach.",
        (
            "Open the scope page from step 3 and name another mailbox of your directory, "
            "one the app must not reach, for example your own.",
        ),
        PERMISSIONS,
    ),
    entry(
        "scope_probe_missing",
        "The scope page is not finished",
        "The app is to be limited to its mailboxes, but the scope page lacks the "
        "enterprise application's Object ID or the address outside the scope, so the "
        "scope cannot be proved.",
        ("Open the scope page from step 3 and fill in both fields.",),
        PERMISSIONS,
    ),
    entry(
        # Shown while a check waits: Exchange caches an app's permissions for 30 minutes
        # to 2 hours (tests/recordings/exchange_rbac_cmdlet_reference.json).
        "scope_propagating",
        "Exchange Online is still applying the scope",
        "The Exchange commands were run less than two hours ago. Microsoft says changes "
        "to an app's permissions take between 30 minutes and 2 hours to apply.",
        ("Nothing to do: the check tries again by itself until two hours have passed.",),
        None,
        transient=True,
    ),
]

CODES: dict[str, str] = {}
