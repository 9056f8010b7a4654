"""Exchange Online's RBAC for Applications: mailbox access granted to an app by a
management role assignment, outside Entra, so never in the token's roles.

Source: tests/recordings/exchange_rbac_for_applications.json (learn.microsoft.com
exchange/permissions-exo/application-rbac): the grants are "independent of the unscoped
grants in Microsoft Entra ID", the effective permissions are "a union operation" of
both, and application access policies "constrain ONLY the permissions assigned in
Microsoft Entra ID".

Modelled here: Exchange's service principals (pointers to Entra's, New-ServicePrincipal),
management scopes (New-ManagementScope -RecipientRestrictionFilter, an OPATH filter read
at access time, so a later group change counts), role assignments on a scope, on a
mailbox list (the emulator's older shorthand) or on every mailbox, Test-
ServicePrincipalAuthorization's rows, and the delay before Graph sees a change. The same
page, under Limitations: "Changes to app permissions are subject to cache maintenance
that varies between 30 minutes and 2 hours depending on the app's recent usage. When you
test configurations, the test command bypasses this cache. The cache of an app with no
inbound calls to APIs is reset after 30 minutes. The cache of an active app is kept
alive for up to 2 hours." (learn.microsoft.com/exchange/permissions-exo/application-rbac,
ms.date 2025-11-25, read 2026-12-02). The emulator's delay is one number of seconds
(State.exchange_propagation_seconds, 0 by default), and Test-ServicePrincipalAuthorization
ignores it, as the page says the test command does.

On MemberOfGroup the page says: "This filter parameter uses the **distinguished name** of
the group" and "Only direct group membership results in the member being considered in
scope". The emulator compares the distinguished name and, for convenience, also accepts
the group's address or name (Exchange's filter may not: NOT VERIFIED).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from microsoft_emulator.state import (
    Directory,
    ExchangeRoleAssignment,
    ExchangeServicePrincipal,
    MailGroup,
    ManagementScope,
    State,
    User,
    parse_time,
)

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
# The Permissions List column's order, for GrantedPermissions.
_ORDER = ["Mail.Read", "Mail.ReadBasic", "Mail.ReadWrite", "Mail.Send"]
# Exchange's object-not-found error (ManagementObjectNotFoundException), as commonly
# seen in Exchange Online PowerShell; the server name is made up. NOT VERIFIED for
# these cmdlets' parameters.
SERVER = "NAMPR00A001DC01.NAMPR00A001.prod.outlook.com"


def not_found(identity: str) -> ValueError:
    return ValueError(
        f"The operation couldn't be performed because object '{identity}' couldn't be "
        f"found on '{SERVER}'."
    )


def check_role(role: str) -> str:
    """The role, if Exchange knows it; ValueError otherwise."""
    if role not in ROLES:
        raise ValueError(f"role is one of {', '.join(ROLES)}")
    return role


# --- the delay ----------------------------------------------------------------------


def in_effect(created_at: str, removed_at: str, now: datetime, delay_seconds: int) -> bool:
    """Whether Graph sees a record made at `created_at` (and removed at `removed_at`):
    from `delay_seconds` after its creation until `delay_seconds` after its removal."""
    delay = timedelta(seconds=delay_seconds)
    if created_at and now < parse_time(created_at) + delay:
        return False
    return not (removed_at and now >= parse_time(removed_at) + delay)


def _seen(record: Any, state: State, now: datetime | None) -> bool:
    """`now` None: Exchange's own current view (no cache), as the Test- cmdlet has it."""
    if now is None:
        return not record.removed_at
    return in_effect(record.created_at, record.removed_at, now, state.exchange_propagation_seconds)


def prune(state: State, now: datetime) -> None:
    """Forget removed records once Graph no longer sees them."""
    delay = state.exchange_propagation_seconds

    def gone(record: Any) -> bool:
        return bool(record.removed_at) and not in_effect("", record.removed_at, now, delay)

    state.exchange_role_assignments = [a for a in state.exchange_role_assignments if not gone(a)]
    state.exchange_service_principals = [
        s for s in state.exchange_service_principals if not gone(s)
    ]
    state.management_scopes = [s for s in state.management_scopes if not gone(s)]


# --- OPATH recipient filters --------------------------------------------------------

PROPERTIES = {"primarysmtpaddress": "PrimarySmtpAddress", "memberofgroup": "MemberOfGroup"}
_TOKEN = re.compile(r"\s*(?:(\()|(\))|'((?:[^']|'')*)'|(-[A-Za-z]+)|([A-Za-z][A-Za-z0-9]*))")


@dataclass(frozen=True)
class Condition:
    property: str  # as PROPERTIES spells it
    operator: str  # "-eq" or "-like"
    value: str


# A filter: conditions joined by -or (a mailbox matches if any does).
Filter = tuple[Condition, ...]


def parse_filter(text: str) -> Filter:
    """An OPATH filter the emulator understands: `Property -eq 'value'` (or -like, with *
    wildcards, for PrimarySmtpAddress), PrimarySmtpAddress or MemberOfGroup, joined by
    -or, in parentheses or not; '' inside a value is one quote. ValueError otherwise."""
    tokens = _tokens(text)
    conditions: list[Condition] = []
    expect_condition = True
    for kind, value in tokens:
        if kind in ("(", ")"):
            continue  # only -or is supported, so grouping changes nothing
        if expect_condition:
            if kind != "condition":
                raise ValueError(f"filter {text!r}: expected Property -eq 'value' at {value!r}")
            conditions.append(value)
        elif kind != "-or":
            raise ValueError(
                f"filter {text!r}: only -or joins conditions here, not {value!r} "
                "(the emulator supports PrimarySmtpAddress and MemberOfGroup with -eq, "
                "-like for PrimarySmtpAddress, joined by -or)"
            )
        expect_condition = not expect_condition
    if expect_condition:
        raise ValueError(f"filter {text!r}: a condition is missing")
    depth = 0
    for kind, _ in tokens:
        depth += (kind == "(") - (kind == ")")
        if depth < 0:
            break
    if depth:
        raise ValueError(f"filter {text!r}: unbalanced parentheses")
    return tuple(conditions)


def _tokens(text: str) -> list[tuple[str, Any]]:
    """("(" | ")" | "-or" | "condition", ...) from the filter's text."""
    raw: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None:
            raise ValueError(f"filter {text!r}: cannot read {stripped[position:]!r}")
        position = match.end()
        opening, closing, quoted, operator, word = match.groups()
        if opening:
            raw.append(("(", "("))
        elif closing:
            raw.append((")", ")"))
        elif quoted is not None:
            raw.append(("value", quoted.replace("''", "'")))
        elif operator:
            raw.append(("operator", operator.lower()))
        else:
            raw.append(("word", word))
    out: list[tuple[str, Any]] = []
    i = 0
    while i < len(raw):
        kind, value = raw[i]
        if kind in ("(", ")") or (kind == "operator" and value == "-or"):
            out.append((kind if kind != "operator" else "-or", value))
            i += 1
            continue
        if kind == "operator":
            raise ValueError(
                f"filter {text!r}: only -or joins conditions here, not {value} (the emulator "
                "supports PrimarySmtpAddress -eq/-like and MemberOfGroup -eq, joined by -or)"
            )
        if kind != "word":
            raise ValueError(f"filter {text!r}: unexpected {value!r}")
        name = PROPERTIES.get(value.lower())
        if name is None:
            raise ValueError(
                f"filter {text!r}: the emulator knows only {', '.join(PROPERTIES.values())}, "
                f"not {value!r}"
            )
        if i + 2 >= len(raw) or raw[i + 1][0] != "operator" or raw[i + 2][0] != "value":
            raise ValueError(f"filter {text!r}: expected {name} -eq 'value'")
        operator = raw[i + 1][1]
        allowed = ("-eq", "-like") if name == "PrimarySmtpAddress" else ("-eq",)
        if operator not in allowed:
            takes = " or ".join(allowed)
            raise ValueError(f"filter {text!r}: {name} takes {takes}, not {operator}")
        out.append(("condition", Condition(name, operator, raw[i + 2][1])))
        i += 3
    return out


def distinguished_name(group: MailGroup, directory: Directory) -> str:
    """The group's DN, shaped as the page's example ("CN=mesga20220818210551,OU=
    Fabrikam346.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=NAMPR00A001,
    DC=prod,DC=outlook,DC=com") unless the state gives one."""
    return group.distinguished_name or (
        f"CN={group.name},OU={directory.initial_domain},"
        "OU=Microsoft Exchange Hosted Organizations,DC=NAMPR00A001,DC=prod,DC=outlook,DC=com"
    )


def find_group(directory: Directory, key: str) -> MailGroup | None:
    """A group by distinguished name, address or name (case-insensitive)."""
    wanted = key.lower()
    for group in directory.groups:
        names = (distinguished_name(group, directory), group.address, group.name, group.id)
        if wanted in (n.lower() for n in names if n):
            return group
    return None


def matches(conditions: Filter, user: User, directory: Directory) -> bool:
    keys = {*user.addresses, user.id.lower()}
    for condition in conditions:
        if condition.property == "PrimarySmtpAddress":
            address = user.primary_address.lower()
            if condition.operator == "-like":
                if fnmatch.fnmatchcase(address, condition.value.lower()):
                    return True
            elif address == condition.value.lower():
                return True
        else:
            group = find_group(directory, condition.value)
            if group is not None and keys & {m.lower() for m in group.members}:
                return True
    return False


# --- lookups ------------------------------------------------------------------------


def service_principal(
    state: State, directory_id: str, identity: str
) -> ExchangeServicePrincipal | None:
    """Exchange's current service principal by ObjectId, AppId or DisplayName."""
    wanted = identity.lower()
    for sp in state.exchange_service_principals:
        keys = (sp.object_id.lower(), sp.app_id.lower(), sp.display_name.lower())
        if sp.directory_id == directory_id and not sp.removed_at and wanted in keys:
            return sp
    return None


def scope(
    state: State, directory_id: str, name: str, now: datetime | None = None
) -> ManagementScope | None:
    """The management scope by name, as Graph sees it at `now` (None: as it is)."""
    wanted = name.lower()
    for found in state.management_scopes:
        same = found.directory_id == directory_id and found.name.lower() == wanted
        if same and _seen(found, state, now):
            return found
    return None


def assignments(
    state: State, directory_id: str, client_id: str, now: datetime | None = None
) -> list[ExchangeRoleAssignment]:
    """The app's assignments, as Graph sees them at `now` (None: as they are)."""
    wanted = client_id.lower()
    return [
        a
        for a in state.exchange_role_assignments
        if a.directory_id == directory_id and a.client_id.lower() == wanted and _seen(a, state, now)
    ]


def may_grant(
    state: State,
    directory_id: str,
    client_id: str,
    needed: frozenset[str],
    now: datetime | None = None,
) -> bool:
    """Whether some assignment of the app grants one of `needed` on some mailbox: only
    then is the mailbox worth looking up for a token without those roles."""
    return any(ROLES[a.role] & needed for a in assignments(state, directory_id, client_id, now))


def covers(
    state: State,
    directory: Directory,
    assignment: ExchangeRoleAssignment,
    user: User,
    now: datetime | None = None,
) -> bool:
    """Whether the assignment's scope holds this mailbox (a scope's filter read now)."""
    if assignment.scope:
        found = scope(state, directory.id, assignment.scope, now)
        if found is None:
            return False
        return matches(parse_filter(found.recipient_restriction_filter), user, directory)
    listed = {m.lower() for m in assignment.mailboxes}
    return not listed or bool({*user.addresses, user.id.lower()} & listed)


def permissions_on(
    state: State,
    directory: Directory,
    client_id: str,
    user: User,
    now: datetime | None = None,
) -> frozenset[str]:
    """The Graph permissions the app's assignments give it on this user's mailbox."""
    granted: set[str] = set()
    for assignment in assignments(state, directory.id, client_id, now):
        if covers(state, directory, assignment, user, now):
            granted |= ROLES[assignment.role]
    return frozenset(granted)


def authorization(
    state: State, directory: Directory, identity: str, resource: User | None
) -> list[dict[str, str]]:
    """Test-ServicePrincipalAuthorization -Identity [-Resource]: one row per assignment,
    with the cmdlet's columns (RoleName, GrantedPermissions, AllowedResourceScope,
    ScopeType, InScope: "True", "False" or, without a resource, "Not Run"). Exchange's
    own view, without the propagation delay. Several permissions are joined with ", "
    (NOT VERIFIED: the page's examples show one each); a mailbox-list assignment (the
    emulator's shorthand) shows its addresses as a CustomRecipientScope."""
    sp = service_principal(state, directory.id, identity)
    if sp is None:
        raise not_found(identity)
    rows = []
    for assignment in assignments(state, directory.id, sp.app_id):
        if assignment.scope:
            allowed, kind = assignment.scope, "CustomRecipientScope"
        elif assignment.mailboxes:
            allowed, kind = ", ".join(assignment.mailboxes), "CustomRecipientScope"
        else:
            allowed, kind = "Organization", "Organization"
        permissions = ROLES[assignment.role]
        granted = [p for p in _ORDER if p in permissions] + sorted(permissions - set(_ORDER))
        in_scope = "Not Run"
        if resource is not None:
            in_scope = str(covers(state, directory, assignment, resource))
        rows.append(
            {
                "RoleName": assignment.role,
                "GrantedPermissions": ", ".join(granted),
                "AllowedResourceScope": allowed,
                "ScopeType": kind,
                "InScope": in_scope,
            }
        )
    return rows
