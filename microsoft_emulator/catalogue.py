"""The Microsoft Graph permissions the admin center offers, and its secret expiry choices."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GraphPermission:
    name: str
    kind: str  # "Application" or "Delegated"
    description: str
    admin_consent_required: bool


GRAPH_PERMISSIONS = (
    GraphPermission("Application.Read.All", "Application", "Read all applications", True),
    GraphPermission("Directory.Read.All", "Application", "Read directory data", True),
    GraphPermission("Mail.Read", "Application", "Read mail in all mailboxes", True),
    GraphPermission("Mail.ReadBasic.All", "Application", "Read basic mail in all mailboxes", True),
    GraphPermission("Mail.ReadWrite", "Application", "Read and write mail in all mailboxes", True),
    GraphPermission("Mail.Send", "Application", "Send mail as any user", True),
    GraphPermission("MailboxSettings.Read", "Application", "Read all user mailbox settings", True),
    GraphPermission("User.Read.All", "Application", "Read all users' full profiles", True),
    GraphPermission("email", "Delegated", "View users' email address", False),
    GraphPermission(
        "IMAP.AccessAsUser.All", "Delegated", "Read and write access to mailboxes via IMAP.", False
    ),
    GraphPermission("Mail.Read", "Delegated", "Read user mail", False),
    GraphPermission("Mail.ReadBasic", "Delegated", "Read user basic mail", False),
    GraphPermission("Mail.ReadWrite", "Delegated", "Read and write access to user mail", False),
    GraphPermission("Mail.Send", "Delegated", "Send mail as a user", False),
    GraphPermission(
        "offline_access", "Delegated", "Maintain access to data you have given it access to", False
    ),
    GraphPermission("openid", "Delegated", "Sign users in", False),
    GraphPermission("profile", "Delegated", "View users' basic profile", False),
    GraphPermission("SMTP.Send", "Delegated", "Send emails from mailboxes using SMTP AUTH.", False),
    GraphPermission("User.Read", "Delegated", "Sign in and read user profile", False),
)
KINDS = ("Delegated", "Application")


def graph_permission(name: str, kind: str) -> GraphPermission | None:
    return next((p for p in GRAPH_PERMISSIONS if p.name == name and p.kind == kind), None)


def search(kind: str, text: str) -> list[GraphPermission]:
    wanted = text.strip().lower()
    return [
        p
        for p in GRAPH_PERMISSIONS
        if p.kind == kind and (wanted in p.name.lower() or wanted in p.description.lower())
    ]


# Entra's "Expires" choices in its "Add a client secret" panel: (form value, label, days).
# "Recommended: 180 days (6 months)" is Entra's label quoted by many guides; odoo/documentation
# content/applications/productivity/calendar/outlook.rst lists the others: "90 days (3
# months)", "365 days (12 months)", "545 days (18 months)", "730 days (24 months)" or "Custom",
# which "allows the administrator to set a Start and End date". entra-docs
# how-to-add-credentials.md: "Client secret lifetime is limited to two years (24 months) or
# less. You can't specify a custom lifetime longer than 24 months."
SECRET_EXPIRY = (
    ("180", "Recommended: 180 days (6 months)", 180),
    ("90", "90 days (3 months)", 90),
    ("365", "365 days (12 months)", 365),
    ("545", "545 days (18 months)", 545),
    ("730", "730 days (24 months)", 730),
    ("custom", "Custom", 0),
)
# "Custom" is limited to two years, as in Entra.
MAX_SECRET_DAYS = 730
# Custom's Start: from today to 18 months ahead; its End: after Start, at most two years
# after it (jpazureid/blog articles/azure-active-directory/azuread-clientsecrets-202104.md,
# Microsoft's Japanese identity support team, on the then new panel).
MAX_START_DAYS = 545
