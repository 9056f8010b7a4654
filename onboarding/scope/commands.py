"""The Exchange Online PowerShell commands, pre-filled, that limit the app to the mailboxes
it serves (RBAC for Applications), and the commands that undo them.

`commands_for(...)` returns `Commands`: `setup`, the lines to run in order, starting with
`Connect-ExchangeOnline` (interactive: the admin signs in as themselves, no password is
in any line); `removal`, the lines that undo them; and the sentences the page shows
with them (`consent_note`, `timing_note`, `removal_note`). Each line is a `Command`: why
(`purpose`, one plain sentence) and the exact text to copy (`text`). Pure functions: no
database, no network; ValueError names the field of a bad value, and nothing is made.

The forms, exactly (the emulator reads them; keep them byte for byte in this shape), with
<app> the client ID, <sp> the enterprise app's object ID and <s> the scope's name:

  Connect-ExchangeOnline [-UserPrincipalName '<admin>']
  New-ServicePrincipal -AppId '<app>' -ObjectId '<sp>' -DisplayName '<name>'
  New-ManagementScope -Name '<s>' -RecipientRestrictionFilter "<filter>", the filter
    PrimarySmtpAddress -eq 'a@x.com' -or PrimarySmtpAddress -eq 'b@x.com'
    or MemberOfGroup -eq '<group distinguished name>'
  New-ManagementRoleAssignment -App '<app>' -Role 'Application Mail.Read' -CustomResourceScope '<s>'
  New-ManagementRoleAssignment -App '<app>' -Role 'Application Mail.Send' -CustomResourceScope '<s>'
  Test-ServicePrincipalAuthorization -Identity '<app>' -Resource '<mailbox>'  (one per mailbox)
  Test-ServicePrincipalAuthorization -Identity '<app>'  (a group: no mailbox to name)

and to undo them (role assignments first: "You can't remove a management scope if it's
associated with a management role assignment", Remove-ManagementScope's reference):

  Get-ManagementRoleAssignment -RoleAssignee '<sp>' -Role 'Application Mail.Read'
    | Remove-ManagementRoleAssignment   (one line; the same for Mail.Send)
  Remove-ManagementScope -Identity '<s>'
  Remove-ServicePrincipal -Identity '<app>'

The assignments are found rather than named because New-ManagementRoleAssignment names
them itself when -Name is left out (Microsoft's example output shows "Application
Calendar..." truncated, so the full name is not known here); the pattern `Get-... -RoleAssignee
... -Role ... | Remove-ManagementRoleAssignment` is the one Exchange Online's role-groups
page uses. Its RoleAssignee is the service principal's object ID, which is what
Microsoft's example output shows as RoleAssigneeName (RoleAssigneeType ServicePrincipal);
that -RoleAssignee resolves a service principal is NOT VERIFIED (its reference page
predates RBAC for Applications and lists users and groups only).

Which identifier each parameter takes (learn.microsoft.com/exchange/permissions-exo/
application-rbac, ms.date 2025-11-25, read 2026-12-02; tests/recordings/
exchange_rbac_commands.json): `-App <ObjectID, AppID, or DisplayName>`, `Test-
ServicePrincipalAuthorization -Identity <ObjectID, AppID, or DisplayName> [-Resource]
<target mailbox>`, `Remove-ServicePrincipal -Identity <ObjectID, AppID, or DisplayName>`,
so the client ID (AppID) serves for all three. New-ServicePrincipal's IDs come from
Entra's Enterprise applications page: "Don't use the IDs from the App Registrations page,
as it shows different values."

A group scope takes the group's distinguished name, not its address: the page's
migration FAQ shows `"MemberOfGroup -eq 'CN=mesga20220818210551,OU=Fabrikam346.onmicrosoft.com,
OU=Microsoft Exchange Hosted Organizations,DC=NAMPR00A001,DC=prod,DC=outlook,DC=com'"`
and says "This filter parameter uses the distinguished name of the group, which you can
find using Get-Group cmdlets." and "Nested group members are considered out of scope.
Only direct group membership results in the member being considered in scope". So an
address given as `group` is refused with the command that shows the DN, rather than
making a scope that matches nobody.

How long a change takes, in Microsoft's words (same page, "Limitations"): "Changes to app
permissions are subject to cache maintenance that varies between 30 minutes and 2 hours
depending on the app's recent usage. When you test configurations, the test command
bypasses this cache. The cache of an app with no inbound calls to APIs is reset after 30
minutes. The cache of an active app is kept alive for up to 2 hours."

Entra consent: "The permissions assigned using Application RBAC act in addition to grants
you make in Microsoft Entra ID. [...] the union of an unscoped `Mail.Read` grant from
Microsoft Entra and a resource-scoped `Mail.Read` grant in Application RBAC results in no
effective resource scoping." (same page, FAQ; tests/recordings/
exchange_rbac_for_applications.json).

Quoting. Every value goes into a single-quoted PowerShell string with its quote
characters doubled; PowerShell takes the typographic quotes U+2018-U+201B as single
quotes too, so those are doubled as well (as onboarding.provisioning.script does). The
recipient filter is one double-quoted (expandable) PowerShell string holding OPATH, in
which each value is single-quoted with `'` doubled (recipient-filters: "If the variable
value itself contains single quotation marks, you need to identify (escape) the single
quotation marks [...] '$($User -Replace "'","''")'"); then, for PowerShell's double
quotes, every backtick becomes two, `$` becomes `` `$ `` and `"` becomes `` `" `` (recipient-
filters escapes `` `$true `` so inside a double-quoted filter). A typographic quote
in a filter value is refused (how OPATH reads one is not documented). Line breaks,
control characters and invisible format characters (Unicode Cc, Cf, Zl, Zp, and
surrogates, private-use or unassigned code points) are refused everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from onboarding.wizard.validators import (
    is_personal_address,
    validate_guid,
    validate_mailbox_address,
)

READ_ROLE = "Application Mail.Read"
SEND_ROLE = "Application Mail.Send"
ROLES = (READ_ROLE, SEND_ROLE)
# New-ManagementScope -Name: "The name can be up to 64 characters."
SCOPE_NAME_MAX = 64
# The portal's own bound for the Exchange pointer's DisplayName (New-ServicePrincipal
# documents none); Graph's limit for an application's displayName.
DISPLAY_NAME_MAX = 256

# PowerShell's single-quote characters: ' and the typographic ones it treats alike.
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
# Its double-quote characters.
_DOUBLE_QUOTES = '"\u201c\u201d\u201e'
_TYPOGRAPHIC_QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e"
_REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
_DISTINGUISHED_NAME = re.compile(r"^CN=[^,].*,DC=[^,=]+$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    """One line to copy: why it is run (one plain sentence) and its exact text."""

    purpose: str
    text: str


@dataclass(frozen=True)
class Commands:
    """The lines to run in order, the lines that undo them, and what to say with them."""

    setup: tuple[Command, ...]
    removal: tuple[Command, ...]
    consent_note: str
    timing_note: str
    removal_note: str

    @property
    def setup_text(self) -> str:
        """Every setup line, one per line, for a single copy button."""
        return "\n".join(command.text for command in self.setup)

    @property
    def removal_text(self) -> str:
        """Every removal line, one per line."""
        return "\n".join(command.text for command in self.removal)


CONSENT_NOTE = (
    "These Exchange roles add to what Microsoft Entra grants, so the app is limited to "
    "these mailboxes only once no Mail.Read or Mail.Send application permission is "
    "consented for it in Entra: when the test shows InScope True for both roles, remove "
    "that admin consent from the app's enterprise application in Microsoft Entra."
)
TIMING_NOTE = (
    "Allow 30 minutes to 2 hours before the app sees a change: Exchange Online caches an "
    "app's permissions for that long, depending on how recently the app was used, while "
    "the test command answers at once."
)
REMOVAL_NOTE = (
    "After these commands the app reaches no mailbox through Exchange Online, so it works "
    "again only once Mail.Read and Mail.Send are consented for it in Microsoft Entra, for "
    "every mailbox."
)


def commands_for(
    *,
    client_id: str,
    service_principal_object_id: str,
    display_name: str,
    scope_name: str,
    mailboxes: list[str] | None = None,
    group: str | None = None,
    admin_upn: str | None = None,
) -> Commands:
    """The commands that give the app Mail.Read and Mail.Send on the given mailboxes only.

    client_id: the Application (client) ID, a GUID.
    service_principal_object_id: the Object ID on Entra's Enterprise applications page
        (the service principal's), a GUID; not the one on App registrations.
    display_name: the name Exchange Online shows for the app.
    scope_name: the management scope's name, at most 64 characters, no quotation marks.
    mailboxes: the work mailbox addresses the app serves; or
    group: the distinguished name (CN=...,DC=...) of a mail-enabled group whose direct
        members it serves. One of the two, not both.
    admin_upn: the admin's sign-in name, to pre-fill Connect-ExchangeOnline (optional).

    ValueError starts with the name of the bad field ("client_id: ...").
    """
    app = _guid(client_id, "client_id", "the app's Overview page")
    object_id = _guid(
        service_principal_object_id,
        "service_principal_object_id",
        "the app's page under Enterprise applications (not App registrations)",
    )
    if app == object_id:
        raise ValueError(
            "service_principal_object_id: this is the client ID; copy the Object ID from "
            "the app's page under Enterprise applications"
        )
    name = _display_name(display_name)
    scope = _scope_name(scope_name)
    connect = _connect(admin_upn)

    if mailboxes is not None and group is not None:
        raise ValueError("mailboxes, group: give the mailboxes or a group, not both")
    if group is not None:
        dn = _group(group)
        scope_filter = f"MemberOfGroup -eq {_opath_value(dn, 'group')}"
        scope_purpose = (
            "Creates the scope: the direct members of the group only (members of groups "
            "nested in it are left out)."
        )
        tests = [
            Command(
                "Lists the app's Exchange roles and the scope each one covers (InScope says "
                "Not Run, as no mailbox is named).",
                f"Test-ServicePrincipalAuthorization -Identity {_single(app)}",
            )
        ]
    else:
        addresses = _mailboxes(mailboxes)
        scope_filter = " -or ".join(
            f"PrimarySmtpAddress -eq {_opath_value(address, 'mailboxes')}" for address in addresses
        )
        scope_purpose = f"Creates the scope: {_listed(addresses)} only."
        tests = [
            Command(
                f"Checks, without waiting for Exchange's cache, that the app may read and "
                f"send as {address}: both roles should show InScope True.",
                f"Test-ServicePrincipalAuthorization -Identity {_single(app)} "
                f"-Resource {_single(address)}",
            )
            for address in addresses
        ]

    setup = (
        connect,
        Command(
            "Tells Exchange Online about the app's enterprise application in Microsoft "
            "Entra, so that Exchange roles can be given to it.",
            f"New-ServicePrincipal -AppId {_single(app)} -ObjectId {_single(object_id)} "
            f"-DisplayName {_single(name)}",
        ),
        Command(
            scope_purpose,
            f"New-ManagementScope -Name {_single(scope)} "
            f"-RecipientRestrictionFilter {_double(scope_filter)}",
        ),
        Command(
            "Lets the app read mail in the mailboxes of the scope, and no others.",
            _assignment(app, READ_ROLE, scope),
        ),
        Command(
            "Lets the app send mail as the mailboxes of the scope, and no others.",
            _assignment(app, SEND_ROLE, scope),
        ),
        *tests,
    )
    removal = (
        connect,
        Command(
            "Takes back the app's Mail.Read role in Exchange Online.",
            _unassignment(object_id, READ_ROLE),
        ),
        Command(
            "Takes back the app's Mail.Send role in Exchange Online.",
            _unassignment(object_id, SEND_ROLE),
        ),
        Command(
            "Deletes the scope, which Exchange allows once no role assignment uses it.",
            f"Remove-ManagementScope -Identity {_single(scope)}",
        ),
        Command(
            "Removes Exchange Online's reference to the app; the app itself stays in "
            "Microsoft Entra.",
            f"Remove-ServicePrincipal -Identity {_single(app)}",
        ),
    )
    return Commands(
        setup=setup,
        removal=removal,
        consent_note=CONSENT_NOTE,
        timing_note=TIMING_NOTE,
        removal_note=REMOVAL_NOTE,
    )


# --- the lines ---------------------------------------------------------------------------


def _connect(admin_upn: str | None) -> Command:
    purpose = (
        "Signs you in to Exchange Online PowerShell in a Microsoft sign-in window, as an "
        "admin in the Organization Management role group."
    )
    if admin_upn is None:
        return Command(purpose, "Connect-ExchangeOnline")
    upn = _address(admin_upn, "admin_upn")
    return Command(purpose, f"Connect-ExchangeOnline -UserPrincipalName {_single(upn)}")


def _assignment(app: str, role: str, scope: str) -> str:
    return (
        f"New-ManagementRoleAssignment -App {_single(app)} -Role {_single(role)} "
        f"-CustomResourceScope {_single(scope)}"
    )


def _unassignment(object_id: str, role: str) -> str:
    return (
        f"Get-ManagementRoleAssignment -RoleAssignee {_single(object_id)} "
        f"-Role {_single(role)} | Remove-ManagementRoleAssignment"
    )


def _listed(addresses: list[str]) -> str:
    if len(addresses) == 1:
        return addresses[0]
    return ", ".join(addresses[:-1]) + " and " + addresses[-1]


# --- checks ------------------------------------------------------------------------------


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field}: a string is needed")
    for char in value:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValueError(
                f"{field}: line breaks, control characters and invisible formatting "
                "characters are not allowed"
            )
    return value


def _guid(value: object, field: str, where: str) -> str:
    text = _text(value, field)
    try:
        return validate_guid(text, name=field.replace("_", " "), where=where)
    except ValidationError as error:
        raise ValueError(f"{field}: {' '.join(error.messages)}") from None


def _address(value: object, field: str) -> str:
    text = _text(value, field)
    try:
        address = validate_mailbox_address(text)
    except ValidationError as error:
        raise ValueError(f"{field}: {' '.join(error.messages)}") from None
    if is_personal_address(address):
        raise ValueError(
            f"{field}: {address} is a personal Microsoft account; Exchange Online's roles "
            "reach only your organisation's mailboxes"
        )
    return address


def _mailboxes(values: Iterable[str] | None) -> list[str]:
    if values is None:
        raise ValueError("mailboxes: give at least one mailbox address, or a group")
    if isinstance(values, str):
        raise ValueError("mailboxes: a list of addresses is needed, not one string")
    addresses: list[str] = []
    for value in values:
        address = _address(value, "mailboxes")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ValueError("mailboxes: give at least one mailbox address, or a group")
    return addresses


def _group(value: object) -> str:
    dn = _text(value, "group").strip()
    if not dn:
        raise ValueError("group: must not be empty")
    if "@" in dn and "=" not in dn:
        raise ValueError(
            "group: the scope takes the group's distinguished name, not its address; "
            f"run Get-Group {_single(dn)} | Format-List DistinguishedName and paste the "
            "value that starts with CN="
        )
    if not _DISTINGUISHED_NAME.match(dn):
        raise ValueError(
            "group: enter the group's distinguished name, starting with CN= and ending "
            "with DC=... (Get-Group shows it as DistinguishedName)"
        )
    return dn


def _display_name(value: object) -> str:
    name = _text(value, "display_name").strip()
    if not name:
        raise ValueError("display_name: must not be empty")
    if len(name) > DISPLAY_NAME_MAX:
        raise ValueError(f"display_name: at most {DISPLAY_NAME_MAX} characters")
    return name


def _scope_name(value: object) -> str:
    name = _text(value, "scope_name").strip()
    if not name:
        raise ValueError("scope_name: must not be empty")
    if len(name) > SCOPE_NAME_MAX:
        raise ValueError(f"scope_name: at most {SCOPE_NAME_MAX} characters")
    if any(char in _SINGLE_QUOTES or char in _DOUBLE_QUOTES for char in name):
        raise ValueError("scope_name: quotation marks are not allowed")
    return name


# --- quoting -----------------------------------------------------------------------------


def _single(value: str) -> str:
    """A single-quoted PowerShell string: nothing in it is expanded; quotes doubled."""
    return "'" + "".join(c * 2 if c in _SINGLE_QUOTES else c for c in value) + "'"


def _opath_value(value: str, field: str) -> str:
    """A text value inside an OPATH filter: single-quoted, `'` doubled."""
    if any(char in _TYPOGRAPHIC_QUOTES for char in value):
        raise ValueError(f"{field}: typographic quotation marks are not allowed here")
    return "'" + value.replace("'", "''") + "'"


def _double(text: str) -> str:
    """A double-quoted PowerShell string that expands nothing: backticks doubled, then
    `$` and `"` escaped with a backtick. `text` holds no typographic double quote
    (_opath_value refuses them)."""
    escaped = text.replace("`", "``").replace("$", "`$").replace('"', '`"')
    return '"' + escaped + '"'
