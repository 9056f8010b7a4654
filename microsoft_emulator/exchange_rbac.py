"""Exchange Online's RBAC for Applications: mailbox access granted to an app by a
management role assignment, outside Entra, so never in the token's roles.

Source: tests/recordings/exchange_rbac_for_applications.json (learn.microsoft.com
exchange/permissions-exo/application-rbac): the grants are "independent of the unscoped
grants in Microsoft Entra ID", the effective permissions are "a union operation" of
both, and application access policies "constrain ONLY the permissions assigned in
Microsoft Entra ID". Not modelled: the 30-minute-to-2-hour cache before a change shows.
"""

from __future__ import annotations

from microsoft_emulator.state import ExchangeRoleAssignment, State, User

# The application roles that carry Graph mail permissions, and those permissions (the
# document's "Supported Application Roles" table).
ROLES: dict[str, frozenset[str]] = {
    "Application Mail.Read": frozenset({"Mail.Read"}),
    "Application Mail.ReadBasic": frozenset({"Mail.ReadBasic"}),
    "Application Mail.ReadWrite": frozenset({"Mail.ReadWrite"}),
    "Application Mail.Send": frozenset({"Mail.Send"}),
    "Application Mail Full Access": frozenset({"Mail.ReadWrite", "Mail.Send"}),
    "Application Exchange Full Access": frozenset(
        {
            "Mail.ReadWrite",
            "Mail.Send",
            "MailboxSettings.ReadWrite",
            "Calendars.ReadWrite",
            "Contacts.ReadWrite",
        }
    ),
}


def check_role(role: str) -> str:
    """The role, if Exchange knows it; ValueError otherwise."""
    if role not in ROLES:
        raise ValueError(f"role is one of {', '.join(ROLES)}")
    return role


def assignments(state: State, directory_id: str, client_id: str) -> list[ExchangeRoleAssignment]:
    wanted = client_id.lower()
    return [
        a
        for a in state.exchange_role_assignments
        if a.directory_id == directory_id and a.client_id.lower() == wanted
    ]


def may_grant(state: State, directory_id: str, client_id: str, needed: frozenset[str]) -> bool:
    """Whether some assignment of the app grants one of `needed` on some mailbox: only
    then is the mailbox worth looking up for a token without those roles."""
    return any(ROLES[a.role] & needed for a in assignments(state, directory_id, client_id))


def permissions_on(state: State, directory_id: str, client_id: str, user: User) -> frozenset[str]:
    """The Graph permissions the app's assignments give it on this user's mailbox."""
    keys = {*user.addresses, user.id.lower()}
    granted: set[str] = set()
    for assignment in assignments(state, directory_id, client_id):
        scope = {m.lower() for m in assignment.mailboxes}
        if not scope or keys & scope:
            granted |= ROLES[assignment.role]
    return frozenset(granted)
