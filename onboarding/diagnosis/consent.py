"""Permissions and admin consent (step 3).

Graph's answer decides, the token's roles only explain it: Microsoft says clients should
not parse Graph tokens (tests/recordings/token_roles_not_for_clients.json), and Exchange
Online grants mailbox access outside Entra that never shows in them (RBAC for
Applications: tests/recordings/exchange_rbac_for_applications.json). So a mail step
Graph refuses plainly, with a token lacking the role it needs, is missing consent; the
same refusal with the role there is something else (access_denied, out of scope).
"""

# Catalogue entries, and the Microsoft codes (AADSTS numbers, Graph codes) that mean them.

from __future__ import annotations

from collections.abc import Set

from onboarding.diagnosis.entry import entry
from onboarding.steps import PERMISSIONS

ENTRIES = [
    entry(
        "no_consent",
        "Admin consent has not been granted",
        "Microsoft Graph refused the mailbox, and the token Microsoft issued carries no "
        "application permissions: Mail.Read and Mail.Send were added but an administrator "
        "has not consented to them. (If the application's access is granted in Exchange "
        "Online instead, with RBAC for Applications, that grant does not cover this "
        "mailbox.)",
        (
            "Open step 3 and press Grant admin consent, signed in as a Global Administrator "
            "or Privileged Role Administrator.",
            "Or, in API permissions, press Grant admin consent for your organisation.",
            "If your Exchange administrator grants the access instead (New-Management"
            "RoleAssignment -App), check that its scope includes this mailbox.",
        ),
        PERMISSIONS,
    ),
    entry(
        "missing_mail_read",
        "Mail.Read is not consented",
        "Microsoft Graph refused to read the inbox, and the token carries Mail.Send but "
        "not Mail.Read: the Mail.Read application permission is missing or was not "
        "consented.",
        (
            "In API permissions, add Microsoft Graph > Application permissions > Mail.Read.",
            "Grant admin consent again in step 3.",
        ),
        PERMISSIONS,
    ),
    entry(
        "missing_mail_send",
        "Mail.Send is not consented",
        "Microsoft Graph refused to send, and the token carries Mail.Read but not "
        "Mail.Send: the Mail.Send application permission is missing or was not consented.",
        (
            "In API permissions, add Microsoft Graph > Application permissions > Mail.Send.",
            "Grant admin consent again in step 3.",
        ),
        PERMISSIONS,
    ),
    entry(
        # Shown while a check waits: new tokens lack the roles for a while after consent
        # (tests/recordings/consent_propagation_token_without_roles.json). A finished
        # check never keeps it: it ends passed, or with one of the entries above.
        "consent_propagating",
        "Microsoft is still applying the consent",
        "Admin consent was granted a few minutes ago. Microsoft takes a while to put it "
        "into the tokens it issues, so Microsoft Graph still refused the mailbox.",
        ("Nothing to do: the check tries again by itself.",),
        None,
        transient=True,
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
    # Graph's other answer to an app token without roles: 401, not 403
    # (tests/recordings/graph_sendmail_no_permissions_in_access_token.json).
    "NoPermissionsInAccessToken": "no_consent",
}

# The keys that mean "consent is missing", which a consent given moments ago may explain.
CONSENT_MISSING = frozenset({"no_consent", "missing_mail_read", "missing_mail_send"})

# The roles each mail step needs, and what the token's roles say (a hint, never a gate).
READ_ROLES = frozenset({"Mail.Read", "Mail.ReadWrite"})
SEND_ROLES = frozenset({"Mail.Send"})


def roles_hint(roles: Set[str]) -> str:
    """What the permissions step shows: the token's roles, said to be a hint."""
    listed = ", ".join(sorted(roles))
    if listed:
        return f"Roles in the token: {listed}."
    return (
        "Roles in the token: none. That is expected when Exchange Online grants the "
        "access (RBAC for Applications); reading and sending below show whether it works."
    )


def refused(key: str, step: str, roles: Set[str]) -> str:
    """The diagnosis key for a mail step Graph refused, given the key its error code got:
    a plain refusal (access_denied) by a token without the role the step needs is
    missing consent; with the role there, or for any other error, `key` stands."""
    if key != "access_denied":
        return key
    has_read, has_send = bool(READ_ROLES & roles), bool(SEND_ROLES & roles)
    needed_there = has_read if step == "read_inbox" else has_send
    if needed_there:
        return key
    if not has_read and not has_send:
        return "no_consent"
    return "missing_mail_read" if step == "read_inbox" else "missing_mail_send"
