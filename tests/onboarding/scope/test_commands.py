"""The Exchange Online PowerShell lines that limit the app to its mailboxes
(onboarding.scope.commands).

No PowerShell here: a small reader below takes a line as PowerShell would (single-quoted
strings with doubled quotes, double-quoted strings with backtick escapes, `|` between
commands) and the recipient filter as OPATH, so that every value is shown to come back
out exactly as it went in. Then the exact lines, refused values, and the cmdlets and
parameters against Microsoft's own examples (tests/recordings/exchange_rbac_commands,
exchange_rbac_cmdlet_reference).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from onboarding.scope.commands import (
    READ_ROLE,
    SEND_ROLE,
    Command,
    Commands,
    commands_for,
)
from tests.recordings import load

CLIENT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
OBJECT_ID = "0f1e2d3c-4b5a-4697-8877-665544332211"
NAME = "Mail connector"
SCOPE = "Mail connector mailboxes"
# The group of application-rbac's migration FAQ, as Microsoft prints it.
DOCS_DN = (
    "CN=mesga20220818210551,OU=Fabrikam346.onmicrosoft.com,"
    "OU=Microsoft Exchange Hosted Organizations,DC=NAMPR00A001,DC=prod,DC=outlook,DC=com"
)


def make(**changes: object) -> Commands:
    values: dict[str, object] = {
        "client_id": CLIENT_ID,
        "service_principal_object_id": OBJECT_ID,
        "display_name": NAME,
        "scope_name": SCOPE,
        "mailboxes": ["dispatch@contoso.com"],
    }
    values.update(changes)
    return commands_for(**values)  # type: ignore[arg-type]


def texts(commands: tuple[Command, ...]) -> list[str]:
    return [command.text for command in commands]


# === A reader of the PowerShell these lines use =========================================

_SINGLE = "'\u2018\u2019\u201a\u201b"


@dataclass
class Call:
    cmdlet: str
    named: dict[str, str | None] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)


def _read_single(text: str, at: int) -> tuple[str, int]:
    value = []
    at += 1
    while True:
        char = text[at]
        if char in _SINGLE:
            if at + 1 < len(text) and text[at + 1] in _SINGLE:
                value.append(char)
                at += 2
                continue
            return "".join(value), at + 1
        value.append(char)
        at += 1


def _read_double(text: str, at: int) -> tuple[str, int]:
    value = []
    at += 1
    while True:
        char = text[at]
        if char == "`":
            value.append(text[at + 1])
            at += 2
            continue
        assert char != "$", f"an unescaped $ would expand: {text}"
        if char == '"':
            return "".join(value), at + 1
        value.append(char)
        at += 1


def parse(line: str) -> list[Call]:
    """The commands of a pipeline, with their parameters' values unquoted."""
    calls: list[Call] = []
    tokens: list[tuple[str, bool]] = []  # (text, was quoted)
    at = 0

    def finish() -> None:
        if not tokens:
            return
        call = Call(tokens[0][0])
        pending: str | None = None
        for token, quoted in tokens[1:]:
            if not quoted and re.match(r"^-[A-Za-z]", token):
                pending = token[1:]
                call.named[pending] = None
            elif pending is not None:
                call.named[pending] = token
                pending = None
            else:
                call.positional.append(token)
        calls.append(call)
        tokens.clear()

    while at < len(line):
        char = line[at]
        if char.isspace():
            at += 1
        elif char == "|":
            finish()
            at += 1
        elif char in _SINGLE:
            value, at = _read_single(line, at)
            tokens.append((value, True))
        elif char == '"':
            value, at = _read_double(line, at)
            tokens.append((value, True))
        else:
            end = at
            while end < len(line) and not line[end].isspace() and line[end] != "|":
                end += 1
            tokens.append((line[at:end], False))
            at = end
    finish()
    return calls


def opath_values(opath: str, prop: str) -> list[str]:
    """The single-quoted values compared with `prop` in an OPATH filter ('' is a ')."""
    found = re.findall(rf"{prop} -eq '((?:[^']|'')*)'(?: -or |$)", opath)
    rebuilt = " -or ".join(f"{prop} -eq '{v}'" for v in found)
    assert rebuilt == opath, f"not only {prop} comparisons joined with -or: {opath}"
    return [v.replace("''", "'") for v in found]


def test_the_reader_reads_microsofts_own_example():
    (call,) = parse(
        'New-ManagementScope -Name "Canadian users" '
        "-RecipientRestrictionFilter \"CustomAttribute1 -eq '012332'\""
    )
    assert call.cmdlet == "New-ManagementScope"
    assert call.named == {
        "Name": "Canadian users",
        "RecipientRestrictionFilter": "CustomAttribute1 -eq '012332'",
    }
    first, second = parse("Get-X -A 'it''s' | Remove-X")
    assert first.named == {"A": "it's"}
    assert second.cmdlet == "Remove-X"


# === The exact lines ====================================================================


def test_one_mailbox():
    made = make()
    assert texts(made.setup) == [
        "Connect-ExchangeOnline",
        f"New-ServicePrincipal -AppId '{CLIENT_ID}' -ObjectId '{OBJECT_ID}' "
        "-DisplayName 'Mail connector'",
        "New-ManagementScope -Name 'Mail connector mailboxes' "
        "-RecipientRestrictionFilter \"PrimarySmtpAddress -eq 'dispatch@contoso.com'\"",
        f"New-ManagementRoleAssignment -App '{CLIENT_ID}' -Role 'Application Mail.Read' "
        "-CustomResourceScope 'Mail connector mailboxes'",
        f"New-ManagementRoleAssignment -App '{CLIENT_ID}' -Role 'Application Mail.Send' "
        "-CustomResourceScope 'Mail connector mailboxes'",
        f"Test-ServicePrincipalAuthorization -Identity '{CLIENT_ID}' "
        "-Resource 'dispatch@contoso.com'",
    ]
    assert made.setup_text == "\n".join(texts(made.setup))
    assert all(c.purpose and c.purpose.endswith(".") and "\n" not in c.purpose for c in made.setup)


def test_several_mailboxes_share_one_filter_and_get_a_test_each():
    made = make(mailboxes=["dispatch@contoso.com", "Orders@Contoso.com", "dispatch@contoso.com"])
    scope = made.setup[2].text
    assert scope == (
        "New-ManagementScope -Name 'Mail connector mailboxes' -RecipientRestrictionFilter "
        "\"PrimarySmtpAddress -eq 'dispatch@contoso.com' -or "
        "PrimarySmtpAddress -eq 'orders@contoso.com'\""
    )
    assert texts(made.setup)[5:] == [
        f"Test-ServicePrincipalAuthorization -Identity '{CLIENT_ID}' "
        "-Resource 'dispatch@contoso.com'",
        f"Test-ServicePrincipalAuthorization -Identity '{CLIENT_ID}' "
        "-Resource 'orders@contoso.com'",
    ]
    assert "dispatch@contoso.com and orders@contoso.com" in made.setup[2].purpose


def test_a_group_is_scoped_by_its_distinguished_name_as_microsofts_example_writes_it():
    made = make(mailboxes=None, group=DOCS_DN)
    assert made.setup[2].text == (
        "New-ManagementScope -Name 'Mail connector mailboxes' -RecipientRestrictionFilter "
        f"\"MemberOfGroup -eq '{DOCS_DN}'\""
    )
    # The filter, character for character as application-rbac prints it.
    assert f"\"MemberOfGroup -eq '{DOCS_DN}'\"" in load("exchange_rbac_commands").statement
    assert texts(made.setup)[5:] == [f"Test-ServicePrincipalAuthorization -Identity '{CLIENT_ID}'"]
    assert "nested" in made.setup[2].purpose


def test_the_removal_lines_undo_the_setup_in_an_order_exchange_accepts():
    made = make()
    assert texts(made.removal) == [
        "Connect-ExchangeOnline",
        f"Get-ManagementRoleAssignment -RoleAssignee '{OBJECT_ID}' -Role 'Application Mail.Read'"
        " | Remove-ManagementRoleAssignment",
        f"Get-ManagementRoleAssignment -RoleAssignee '{OBJECT_ID}' -Role 'Application Mail.Send'"
        " | Remove-ManagementRoleAssignment",
        "Remove-ManagementScope -Identity 'Mail connector mailboxes'",
        f"Remove-ServicePrincipal -Identity '{CLIENT_ID}'",
    ]
    assert made.removal_text == "\n".join(texts(made.removal))


def test_connect_can_name_the_admin_and_never_carries_a_password():
    made = make(admin_upn="Admin@Contoso.onmicrosoft.com")
    expected = "Connect-ExchangeOnline -UserPrincipalName 'admin@contoso.onmicrosoft.com'"
    assert made.setup[0].text == expected
    assert made.removal[0].text == expected
    for line in texts(made.setup) + texts(made.removal):
        assert not re.search(r"-(Password|Credential|CertificateThumbprint)\b", line)


def test_the_notes_say_what_microsoft_says():
    made = make()
    assert "Mail.Read" in made.consent_note
    assert "Mail.Send" in made.consent_note
    assert "Entra" in made.consent_note
    assert "30 minutes to 2 hours" in made.timing_note
    assert "Entra" in made.removal_note


def test_ids_are_normalised():
    made = make(client_id="{7C9E6679-7425-40DE-944B-E07FC1F90AE7}")
    assert f"-AppId '{CLIENT_ID}'" in made.setup[1].text


# === Hostile values: escaped (values PowerShell keeps literal) or refused ================


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("O'Brien", "'O''Brien'"),
        ("$(evil)", "'$(evil)'"),  # single quotes expand nothing
        ("tick`s", "'tick`s'"),
        ('say "hi"', "'say \"hi\"'"),
        ("O\u2019Brien", "'O\u2019\u2019Brien'"),  # PowerShell's typographic single quote
    ],
)
def test_a_display_name_is_escaped_in_its_single_quotes(name, quoted):
    line = make(display_name=name).setup[1].text
    assert line.endswith(f"-DisplayName {quoted}")
    assert parse(line)[0].named["DisplayName"] == name


@pytest.mark.parametrize(
    ("address", "in_filter"),
    [
        ("o'brien@contoso.com", "'o''brien@contoso.com'"),
        ("$evil@contoso.com", "'`$evil@contoso.com'"),
        ("tick`s@contoso.com", "'tick``s@contoso.com'"),
    ],
)
def test_an_address_is_escaped_for_opath_then_for_the_double_quotes(address, in_filter):
    made = make(mailboxes=[address])
    scope, test = made.setup[2].text, made.setup[5].text
    assert scope.endswith(f'"PrimarySmtpAddress -eq {in_filter}"')
    opath = parse(scope)[0].named["RecipientRestrictionFilter"]
    assert opath is not None
    assert opath_values(opath, "PrimarySmtpAddress") == [address]
    assert parse(test)[0].named["Resource"] == address


def test_a_group_name_with_every_hostile_character_round_trips():
    dn = 'CN=O\'Brien "$(evil)" `tick,OU=contoso.onmicrosoft.com,DC=prod,DC=outlook,DC=com'
    line = make(mailboxes=None, group=dn).setup[2].text
    assert line.endswith(
        "\"MemberOfGroup -eq 'CN=O''Brien `\"`$(evil)`\" ``tick,"
        "OU=contoso.onmicrosoft.com,DC=prod,DC=outlook,DC=com'\""
    )
    opath = parse(line)[0].named["RecipientRestrictionFilter"]
    assert opath is not None
    assert opath_values(opath, "MemberOfGroup") == [dn]


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"mailboxes": ["$(evil)@contoso.com"]}, "mailboxes"),  # not an address
        ({"mailboxes": ['"quoted"@contoso.com']}, "mailboxes"),
        ({"mailboxes": None, "group": "CN=O\u2019Brien,DC=contoso,DC=com"}, "group"),
        ({"mailboxes": None, "group": "CN=\u201cx\u201d,DC=contoso,DC=com"}, "group"),
        ({"scope_name": "it's"}, "scope_name"),
        ({"scope_name": 'say "x"'}, "scope_name"),
        ({"scope_name": "it\u2019s"}, "scope_name"),
    ],
)
def test_hostile_values_that_are_refused(changes, field_name):
    with pytest.raises(ValueError, match=rf"^{field_name}: "):
        make(**changes)


def test_dollar_and_backtick_in_a_scope_name_stay_literal_in_single_quotes():
    made = make(scope_name="$(evil) `x")
    assert made.setup[2].text.startswith("New-ManagementScope -Name '$(evil) `x' ")
    assert parse(made.setup[3].text)[0].named["CustomResourceScope"] == "$(evil) `x"
    assert made.removal[3].text == "Remove-ManagementScope -Identity '$(evil) `x'"


@pytest.mark.parametrize(
    "field_name",
    ["client_id", "display_name", "scope_name", "mailboxes", "group", "admin_upn"],
)
@pytest.mark.parametrize("bad", ["\n", "\r", "\x00", "\u2028", "\u202e", "\t"])
def test_line_breaks_and_invisible_characters_are_refused_everywhere(field_name, bad):
    values: dict[str, object] = {
        "client_id": CLIENT_ID,
        "display_name": NAME,
        "scope_name": SCOPE,
        "mailboxes": ["dispatch@contoso.com"],
        "admin_upn": "admin@contoso.com",
    }
    if field_name == "group":
        values["mailboxes"] = None
        values["group"] = f"CN=x{bad}y,DC=contoso,DC=com"
    elif field_name == "mailboxes":
        values["mailboxes"] = [f"dispatch{bad}@contoso.com"]
    elif field_name == "client_id":
        values["client_id"] = CLIENT_ID + bad
    else:
        values[field_name] = f"a{bad}b@contoso.com" if field_name == "admin_upn" else f"a{bad}b"
    with pytest.raises(ValueError, match=rf"^{field_name}: "):
        make(**values)


# === Bad input ==========================================================================


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"client_id": "not-a-guid"}, "client_id"),
        ({"client_id": ""}, "client_id"),
        ({"service_principal_object_id": "12345"}, "service_principal_object_id"),
        ({"service_principal_object_id": CLIENT_ID}, "service_principal_object_id"),
        ({"mailboxes": None}, "mailboxes"),
        ({"mailboxes": []}, "mailboxes"),
        ({"mailboxes": "dispatch@contoso.com"}, "mailboxes"),
        ({"mailboxes": ["dispatch"]}, "mailboxes"),
        ({"mailboxes": ["dispatch@localhost"]}, "mailboxes"),
        ({"mailboxes": ["someone@outlook.com"]}, "mailboxes"),
        ({"mailboxes": ["dispatch@contoso.com"], "group": DOCS_DN}, "mailboxes, group"),
        ({"mailboxes": None, "group": "dispatch-team@contoso.com"}, "group"),
        ({"mailboxes": None, "group": "Dispatch team"}, "group"),
        ({"mailboxes": None, "group": "  "}, "group"),
        ({"scope_name": "x" * 65}, "scope_name"),
        ({"scope_name": " "}, "scope_name"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 257}, "display_name"),
        ({"admin_upn": "admin"}, "admin_upn"),
    ],
)
def test_bad_input_names_the_field(changes, field_name):
    with pytest.raises(ValueError, match=rf"^{re.escape(field_name)}: "):
        make(**changes)


def test_an_address_given_as_group_says_how_to_find_the_distinguished_name():
    with pytest.raises(ValueError, match=r"Get-Group 'dispatch-team@contoso.com'"):
        make(mailboxes=None, group="dispatch-team@contoso.com")


def test_a_scope_name_of_64_characters_is_taken():
    assert (
        make(scope_name="x" * 64)
        .setup[2]
        .text.startswith(f"New-ManagementScope -Name '{'x' * 64}'")
    )


# === Against Microsoft's examples =======================================================

# Where the references say the first positional argument is -Identity ("[-Identity]",
# Position: 1): Remove-ManagementScope "Redmond Servers".
_POSITIONAL_IDENTITY = {"Remove-ManagementScope", "Remove-ManagementRoleAssignment"}
_EXAMPLE = re.compile(r"`((?:Connect|New|Get|Remove|Test)-[A-Za-z]+[^`]*)`")


def documented_calls() -> dict[str, list[set[str]]]:
    """Each cmdlet of the recordings' concrete examples, with its parameter sets."""
    found: dict[str, list[set[str]]] = {}
    for name in ("exchange_rbac_commands", "exchange_rbac_cmdlet_reference"):
        for example in _EXAMPLE.findall(load(name).statement):
            if "<" in example:  # a syntax line, not an example
                continue
            for call in parse(example):
                params = set(call.named)
                if call.positional and call.cmdlet in _POSITIONAL_IDENTITY:
                    params.add("Identity")
                found.setdefault(call.cmdlet, []).append(params)
    return found


def generated_calls(made: Commands) -> list[tuple[str, set[str]]]:
    return [
        (call.cmdlet, set(call.named))
        for command in made.setup + made.removal
        for call in parse(command.text)
    ]


def test_the_recordings_hold_examples_for_every_cmdlet_used():
    documented = documented_calls()
    assert documented["New-ServicePrincipal"] == [{"AppId", "ObjectId", "DisplayName"}]
    assert {"Name", "RecipientRestrictionFilter"} in documented["New-ManagementScope"]
    assert {"Identity", "Resource"} in documented["Test-ServicePrincipalAuthorization"]


@pytest.mark.parametrize(
    "made",
    [
        make(),
        make(mailboxes=["a@contoso.com", "b@contoso.com"], admin_upn="admin@contoso.com"),
        make(mailboxes=None, group=DOCS_DN),
    ],
    ids=["one mailbox", "several, named admin", "group"],
)
def test_cmdlets_and_parameters_are_those_of_microsofts_examples(made):
    documented = documented_calls()
    statement = load("exchange_rbac_commands").statement
    for cmdlet, params in generated_calls(made):
        if cmdlet == "Connect-ExchangeOnline" and not params:
            # The page: "After using Connect-ExchangeOnline in PowerShell, follow these steps".
            assert "After using Connect-ExchangeOnline in PowerShell" in statement
            continue
        assert cmdlet in documented, f"{cmdlet}: no example in the recordings"
        if cmdlet == "Get-ManagementRoleAssignment":
            # Microsoft's example adds -Delegating $false; left out here (see the notes).
            assert any(params <= example for example in documented[cmdlet]), params
        else:
            assert params in documented[cmdlet], (cmdlet, params, documented[cmdlet])


def test_the_roles_are_the_pages_application_roles():
    statement = load("exchange_rbac_for_applications").notes
    for role in (READ_ROLE, SEND_ROLE):
        assert f"'{role}'" in statement
