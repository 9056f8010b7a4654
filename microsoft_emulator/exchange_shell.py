"""Exchange Online PowerShell lines, as an admin pastes them, run against the emulator:
the RBAC for Applications cmdlets (application-rbac.md) and nothing else.

A line is a cmdlet and its parameters: -Name value, -Switch, -Name:value; values bare,
'single-quoted' ('' is one quote) or "double-quoted" ("" or `" is one quote; a filter's
single-quoted values stay inside). Variables ($x) are not expanded: such a line is
refused. Blank lines and # comments are skipped; Connect-ExchangeOnline and
Disconnect-ExchangeOnline are accepted and do nothing. Error texts other than Exchange's
object-not-found one (exchange_rbac.not_found) and PowerShell's own two below are the
emulator's: NOT VERIFIED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from microsoft_emulator import exchange_rbac
from microsoft_emulator.state import Directory, to_plain

# The EmulatorHandle that runs the commands: handle.py imports this module, so it is not
# imported back (no cycle between the emulator's modules); any object with its methods.
EmulatorHandle = Any

IGNORED = ("connect-exchangeonline", "disconnect-exchangeonline")
COMMON = {"confirm", "whatif", "verbose", "erroraction", "debug"}


@dataclass
class Command:
    name: str
    named: dict[str, str]  # lower-cased parameter name -> value ("" for a switch)
    positional: list[str] = field(default_factory=list)


@dataclass
class Run:
    """Each line's result, in order, up to the first that failed (`failed_line`,
    1-based; 0 if none did). A result: {"line", "command", "result": "ok" | "ignored" |
    "error", and "error" (the text), "rows" (Test-ServicePrincipalAuthorization) or
    "object" (what a New- cmdlet made)}."""

    results: list[dict[str, Any]] = field(default_factory=list)
    failed_line: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed_line

    def plain(self) -> dict[str, Any]:
        return {"ok": self.ok, "failed_line": self.failed_line or None, "results": self.results}


def split(line: str) -> list[tuple[str, bool]]:
    """The line's words as (text, was a bare -Parameter)."""
    words: list[tuple[str, bool]] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        text, quoted, start = [], False, i
        while i < n and not line[i].isspace():
            ch = line[i]
            if ch == "'":
                quoted, i = True, i + 1
                while True:
                    if i >= n:
                        raise ValueError("a single-quoted string is not closed")
                    if line[i] == "'":
                        if i + 1 < n and line[i + 1] == "'":
                            text.append("'")
                            i += 2
                            continue
                        i += 1
                        break
                    text.append(line[i])
                    i += 1
            elif ch == '"':
                quoted, i = True, i + 1
                while True:
                    if i >= n:
                        raise ValueError("a double-quoted string is not closed")
                    if line[i] == "`" and i + 1 < n:
                        text.append(line[i + 1])
                        i += 2
                        continue
                    if line[i] == '"':
                        if i + 1 < n and line[i + 1] == '"':
                            text.append('"')
                            i += 2
                            continue
                        i += 1
                        break
                    if line[i] == "$":
                        raise ValueError(
                            "the emulator does not expand PowerShell variables ($...) "
                            "in double-quoted strings: write the value out"
                        )
                    text.append(line[i])
                    i += 1
            else:
                if ch == "$" and not line[i:].lower().startswith(("$true", "$false")):
                    raise ValueError("the emulator does not expand PowerShell variables ($...)")
                text.append(ch)
                i += 1
        word = "".join(text)
        is_parameter = not quoted and line[start] == "-" and len(word) > 1 and word[1].isalpha()
        words.append((word, is_parameter))
    return words


def parse(line: str) -> Command:
    words = split(line)
    if not words:
        raise ValueError("an empty command")
    name, *rest = words
    command = Command(name[0], {})
    i = 0
    while i < len(rest):
        word, is_parameter = rest[i]
        if not is_parameter:
            command.positional.append(word)
            i += 1
            continue
        key, colon, value = word[1:].partition(":")
        if key.lower() in command.named:
            raise ValueError(
                f"Cannot bind parameter because parameter '{key}' is specified more than once."
            )
        if colon:
            command.named[key.lower()] = value
            i += 1
        elif i + 1 < len(rest) and not rest[i + 1][1]:
            command.named[key.lower()] = rest[i + 1][0]
            i += 2
        else:
            command.named[key.lower()] = ""
            i += 1
    return command


def _take(
    command: Command,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    positional: tuple[str, ...] = (),
) -> dict[str, str]:
    """The parameters by lower-cased name, after PowerShell's checks: positional values
    fill `positional` in order; an unknown name or a missing required one fails."""
    values = {k: v for k, v in command.named.items() if k not in COMMON}
    known = {p.lower() for p in (*required, *optional, *positional)}
    for key in values:
        if key not in known:
            # PowerShell's own wording.
            raise ValueError(f"A parameter cannot be found that matches parameter name '{key}'.")
    free = [p.lower() for p in positional if p.lower() not in values]
    if len(command.positional) > len(free):
        extra = command.positional[len(free)]
        raise ValueError(f"A positional parameter cannot be found that accepts argument '{extra}'.")
    values.update(zip(free, command.positional, strict=False))
    for name in required:
        if not values.get(name.lower()):
            raise ValueError(f"{command.name}: -{name} is required")
    return values


def run(handle: EmulatorHandle, directory: Directory, lines: list[str]) -> Run:
    outcome = Run()
    for number, raw in enumerate(lines, start=1):
        line = str(raw).strip()
        result: dict[str, Any] = {"line": number, "command": line}
        outcome.results.append(result)
        if not line or line.startswith("#"):
            result["result"] = "ignored"
            continue
        try:
            left, piped = _pipeline(line)
            if piped:
                result.update(_remove_found_assignments(handle, directory, left, piped))
                result["result"] = "ok"
                continue
            command = parse(line)
            cmdlet = CMDLETS.get(command.name.lower())
            if command.name.lower() in IGNORED:
                result["result"] = "ignored"
                continue
            if cmdlet is None:
                # PowerShell 7's wording.
                raise ValueError(
                    f"The term '{command.name}' is not recognized as a name of a cmdlet, "
                    "function, script file, or executable program."
                )
            result.update(cmdlet(handle, directory, command))
            result["result"] = "ok"
        except ValueError as problem:
            result.update(result="error", error=str(problem))
            outcome.failed_line = number
            break
    return outcome


def _pipeline(line: str) -> tuple[str, str]:
    """A line split at its one unquoted `|`: (the line, "") when there is none."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "|":
            return line[:i].strip(), line[i + 1 :].strip()
    return line, ""


def _remove_found_assignments(
    handle: EmulatorHandle, directory: Directory, left: str, right: str
) -> dict[str, Any]:
    """`Get-ManagementRoleAssignment -RoleAssignee <service principal> [-Role <role>] |
    Remove-ManagementRoleAssignment`, the removal Exchange's docs show for assignments
    found rather than named (the only pipeline the emulator runs)."""
    found, remove = parse(left), parse(right)
    if found.name.lower() != "get-managementroleassignment" or (
        remove.name.lower() != "remove-managementroleassignment"
    ):
        raise ValueError(
            "the emulator runs one pipeline only: "
            "Get-ManagementRoleAssignment ... | Remove-ManagementRoleAssignment"
        )
    _take(remove, ())
    values = _take(found, ("RoleAssignee",), ("Role",))
    state = handle.store.state
    sp = exchange_rbac.service_principal(state, directory.id, values["roleassignee"])
    if sp is None:
        raise exchange_rbac.not_found(values["roleassignee"])
    role = values.get("role", "").lower()
    names = [
        a.name
        for a in state.exchange_role_assignments
        if a.directory_id == directory.id
        and a.client_id == sp.app_id
        and not a.removed_at
        and a.name
        and (not role or a.role.lower() == role)
    ]
    for name in names:
        handle.remove_management_role_assignment(directory, name)
    return {"removed": names}


def _plain(value: Any) -> dict[str, Any]:
    return dict(to_plain(value))


def _new_service_principal(
    handle: EmulatorHandle, directory: Directory, command: Command
) -> dict[str, Any]:
    # The cmdlet's page lists -ServiceId as well; application-rbac.md uses -ObjectId.
    if "serviceid" in command.named and "objectid" not in command.named:
        command.named["objectid"] = command.named.pop("serviceid")
    values = _take(command, ("AppId", "ObjectId"), ("DisplayName",))
    sp = handle.new_exchange_service_principal(
        directory, values["appid"], values["objectid"], values.get("displayname", "")
    )
    return {"object": _plain(sp)}


def _remove_service_principal(
    handle: EmulatorHandle, directory: Directory, command: Command
) -> dict[str, Any]:
    values = _take(command, ("Identity",), positional=("Identity",))
    handle.remove_exchange_service_principal(directory, values["identity"])
    return {}


def _new_management_scope(
    handle: EmulatorHandle, directory: Directory, command: Command
) -> dict[str, Any]:
    values = _take(command, ("Name", "RecipientRestrictionFilter"), positional=("Name",))
    created = handle.new_management_scope(
        directory, values["name"], values["recipientrestrictionfilter"]
    )
    return {"object": _plain(created)}


def _remove_management_scope(
    handle: EmulatorHandle, directory: Directory, command: Command
) -> dict[str, Any]:
    values = _take(command, ("Identity",), positional=("Identity",))
    handle.remove_management_scope(directory, values["identity"])
    return {}


def _new_management_role_assignment(
    handle: EmulatorHandle, directory: Directory, command: Command
) -> dict[str, Any]:
    values = _take(command, ("App", "Role"), ("CustomResourceScope",), positional=("Name",))
    assignment = handle.new_management_role_assignment(
        directory,
        values["app"],
        values["role"],
        values.get("customresourcescope", ""),
        name=values.get("name", ""),
    )
    return {"object": _plain(assignment)}


def _remove_management_role_assignment(
    handle: EmulatorHandle, directory: Directory, command: Command
) -> dict[str, Any]:
    values = _take(command, ("Identity",), positional=("Identity",))
    handle.remove_management_role_assignment(directory, values["identity"])
    return {}


def _test_service_principal_authorization(
    handle: EmulatorHandle, directory: Directory, command: Command
) -> dict[str, Any]:
    values = _take(command, ("Identity",), ("Resource",), positional=("Identity",))
    rows = handle.test_service_principal_authorization(
        directory, values["identity"], values.get("resource", "")
    )
    return {"rows": rows}


CMDLETS: dict[str, Callable[[EmulatorHandle, Directory, Command], dict[str, Any]]] = {
    "new-serviceprincipal": _new_service_principal,
    "remove-serviceprincipal": _remove_service_principal,
    "new-managementscope": _new_management_scope,
    "remove-managementscope": _remove_management_scope,
    "new-managementroleassignment": _new_management_role_assignment,
    "remove-managementroleassignment": _remove_management_role_assignment,
    "test-serviceprincipalauthorization": _test_service_principal_authorization,
}
