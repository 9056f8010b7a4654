"""The PowerShell script that registers the customer's app (onboarding.provisioning.script).

No PowerShell here: a small reader of the script's own PowerShell (the subset the template
writes) takes each cmdlet call with its parameters and makes the Graph call the Microsoft
Graph PowerShell SDK makes for it, against the emulator, with the admin's delegated token.
What it proves: the app the script registers has the portal's certificate and the two
roles, the portal's certificate gets an app-only token with Mail.Read and Mail.Send, and
the block the script prints at the end fills in step 1 (the real form). Then: escaping,
refused values, no secret anywhere, every change behind ShouldProcess (-WhatIf).
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from microsoft_emulator.scenarios import ready_directory
from onboarding import certificates
from onboarding.provisioning import script as ps
from onboarding.provisioning.script import GRAPH_APP_ID, GRAPH_APP_ROLES, SCOPES, render_script
from onboarding.wizard.forms import RegisterForm
from onboarding.wizard.validators import parse_essentials
from tests.microsoft_emulator.conftest import PortSession, claims, graph_scope
from tests.microsoft_emulator.test_contract_provisioning import delegated_token
from tests.recordings import load

CALLBACK = "https://portal.example/onboarding/consent/callback/"
SIGN_IN_CALLBACK = "https://portal.example/onboarding/sign-in/callback/"
REDIRECT_URIS = ["https://localhost", "http://localhost", CALLBACK, SIGN_IN_CALLBACK]
CLIENT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
OBJECT_ID = "0f1e2d3c-4b5a-4697-8877-665544332211"
DIRECTORY_ID = "9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c"
KEY_ID = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"


@pytest.fixture(scope="module")
def made() -> certificates.Made:
    return certificates.make(tenant_name="Contoso Freight", days=365)


def render(made: certificates.Made, **overrides: Any) -> str:
    values: dict[str, Any] = {
        "tenant_name": "Contoso Freight",
        "directory": DIRECTORY_ID,
        "display_name": "Contoso Freight mailbox connection (1a2b3c4d)",
        "redirect_uris": REDIRECT_URIS,
        "certificate_pem": made.certificate_pem,
        "certificate_display_name": "Mailbox portal: Contoso Freight",
    }
    values.update(overrides)
    return render_script(**values)


# === A reader for the script's PowerShell ==============================================
# The template's subset: single- and double-quoted strings, @( ) arrays, @{ } hashtables,
# variables with .Property and [index], [Type]::Member(...) for the three .NET members the
# script uses, ( a + b ) concatenation, and one statement per line (no backtick
# continuation). Anything else is refused, so a template change the reader does not
# follow fails here rather than passing unread.

QUOTES = "'\u2018\u2019\u201a\u201b"
CMDLET = re.compile(r"[A-Z][a-z]+-[A-Za-z]+")


class Unreadable(Exception):
    """PowerShell the reader does not follow."""


class NullMember(Unreadable):
    """A property of $null: what a step that did not run left behind."""


class GraphFailure(Exception):
    """Graph refused a call: the cmdlet would throw."""


@dataclass(frozen=True)
class Date:
    iso: str


def without_comments(text: str) -> str:
    """The text with every comment blanked out (offsets and line breaks kept)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in QUOTES:
            i = _end_of_single(text, i)
        elif c == '"':
            i = _end_of_double(text, i)
        elif text.startswith("<#", i):
            end = text.index("#>", i) + 2
            for j in range(i, end):
                out[j] = "\n" if text[j] == "\n" else " "
            i = end
        elif c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            for j in range(i, end):
                out[j] = " "
            i = end
        else:
            i += 1
    return "".join(out)


def strings_blanked(code: str) -> str:
    """The code with the inside of every string blanked out, to match braces."""
    out = list(code)
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if c in QUOTES or c == '"':
            end = _end_of_single(code, i) if c in QUOTES else _end_of_double(code, i)
            for j in range(i + 1, end - 1):
                out[j] = " "
            i = end
        else:
            i += 1
    return "".join(out)


def _end_of_single(text: str, start: int) -> int:
    """Past the single-quoted string at `start`: a quote character ends it unless another
    follows (PowerShell's escape, whichever of its quote characters)."""
    i = start + 1
    while i < len(text):
        if text[i] in QUOTES:
            if i + 1 < len(text) and text[i + 1] in QUOTES:
                i += 2
                continue
            return i + 1
        i += 1
    raise Unreadable(f"unterminated string at {start}")


def _end_of_double(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "`":
            i += 2
            continue
        if text[i] == '"':
            if i + 1 < len(text) and text[i + 1] == '"':
                i += 2
                continue
            return i + 1
        i += 1
    raise Unreadable(f"unterminated string at {start}")


def single_quoted_value(literal: str) -> str:
    """What PowerShell makes of a single-quoted string literal."""
    if literal[0] not in QUOTES or literal[-1] not in QUOTES:
        raise Unreadable(f"not a single-quoted string: {literal}")
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] in QUOTES:
            if i + 1 == len(body) or body[i + 1] not in QUOTES:
                raise Unreadable(f"a lone quote in {literal}")
            out.append(body[i + 1])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def member(value: Any, name: str) -> Any:
    """`value.Name`: hashtables by key and Graph's JSON by property, case-insensitively."""
    if value is None:
        raise NullMember(f"${name} of $null")
    if isinstance(value, Date) and name == "UtcDateTime":
        return value.iso
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() == name.lower():
                return item
    raise Unreadable(f"no property {name} on {value!r:.80}")


class Reader:
    """Reads expressions in `code` (comments already blanked) from a position."""

    def __init__(self, code: str, env: dict[str, Any]) -> None:
        self.code, self.env = code, env

    def blank(self, pos: int, *, lines: bool = False) -> int:
        while pos < len(self.code) and (
            self.code[pos] in " \t" or (lines and self.code[pos] in "\r\n;,")
        ):
            pos += 1
        return pos

    def expression(self, pos: int) -> tuple[Any, int]:
        value, pos = self._primary(self.blank(pos))
        while pos < len(self.code):
            if self.code[pos] == "." and re.match(r"\.[A-Za-z]", self.code[pos : pos + 2]):
                name = re.match(r"\.(\w+)", self.code[pos:])
                assert name
                value, pos = member(value, name[1]), pos + name.end()
            elif self.code[pos] == "[" and (index := re.match(r"\[(\d+)\]", self.code[pos:])):
                value, pos = value[int(index[1])], pos + index.end()
            else:
                break
        return value, pos

    def _primary(self, pos: int) -> tuple[Any, int]:
        code = self.code
        c = code[pos]
        if c in QUOTES:
            end = _end_of_single(code, pos)
            return single_quoted_value(code[pos:end]), end
        if c == '"':
            end = _end_of_double(code, pos)
            body = code[pos + 1 : end - 1]
            if "$" in body or "`" in body:
                raise Unreadable(f"an expanding string: {body}")
            return body, end
        if code.startswith("@(", pos):
            items, pos = [], pos + 2
            while (pos := self.blank(pos, lines=True)) < len(code) and code[pos] != ")":
                item, pos = self.expression(pos)
                items.append(item)
            return items, pos + 1
        if code.startswith("@{", pos):
            table: dict[str, Any] = {}
            pos += 2
            while (pos := self.blank(pos, lines=True)) < len(code) and code[pos] != "}":
                key = re.match(r"([A-Za-z_]\w*)\s*=", code[pos:])
                if not key:
                    raise Unreadable(f"a hashtable key at {code[pos : pos + 40]!r}")
                table[key[1]], pos = self.expression(pos + key.end())
            return table, pos + 1
        if c == "$":
            name = re.match(r"\$(\w+)", code[pos:])
            assert name
            constants = {"true": True, "false": False, "null": None}
            if name[1].lower() in constants:
                return constants[name[1].lower()], pos + name.end()
            if name[1] not in self.env:
                raise NullMember(f"${name[1]} is not set")
            return self.env[name[1]], pos + name.end()
        if c == "[":
            static = re.match(r"\[([\w.]+)\]::(\w+)", code[pos:])
            if not static:
                raise Unreadable(f"a type at {code[pos : pos + 40]!r}")
            pos += static.end()
            args: list[Any] = []
            if code.startswith("(", pos):
                pos += 1
                while (pos := self.blank(pos, lines=True)) < len(code) and code[pos] != ")":
                    arg, pos = self.expression(pos)
                    args.append(arg)
                pos += 1
            return self._static(static[1], static[2], args), pos
        if c == "(":
            value, pos = self.expression(pos + 1)
            while (pos := self.blank(pos)) < len(code) and code[pos] == "+":
                more, pos = self.expression(pos + 1)
                value = str(value) + str(more)
            if code[pos] != ")":
                raise Unreadable(f"an expression at {code[pos : pos + 40]!r}")
            return value, pos + 1
        raise Unreadable(f"an expression at {code[pos : pos + 40]!r}")

    @staticmethod
    def _static(type_name: str, name: str, args: list[Any]) -> Any:
        if (type_name, name) == ("System.Convert", "FromBase64String"):
            return base64.b64decode(args[0], validate=True)
        if (type_name, name) == ("System.Globalization.CultureInfo", "InvariantCulture"):
            return "InvariantCulture"
        if (type_name, name) == ("System.DateTimeOffset", "Parse"):
            assert args[1:] == ["InvariantCulture"], args
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", args[0]), args
            return Date(args[0])
        raise Unreadable(f"[{type_name}]::{name}")

    def cmdlet_arguments(self, pos: int) -> tuple[dict[str, Any], int]:
        """`-Name value`, `-Switch`, `@splat` up to the end of the line."""
        arguments: dict[str, Any] = {}
        code = self.code
        while (pos := self.blank(pos)) < len(code) and code[pos] not in "\r\n":
            if splat := re.match(r"@(\w+)", code[pos:]):
                arguments.update(self.env[splat[1]])
                pos += splat.end()
                continue
            name = re.match(r"-([A-Za-z]+)", code[pos:])
            if not name:
                raise Unreadable(f"an argument at {code[pos : pos + 40]!r}")
            pos = self.blank(pos + name.end())
            if pos >= len(code) or code[pos] in "\r\n" or code[pos] == "-":
                arguments[name[1]] = True  # a switch
                continue
            if bare := re.match(r"[\w.:/-]+(?=[\s,]|$)", code[pos:]):
                value, pos = bare[0], pos + bare.end()  # argument mode: a bare word
            else:
                value, pos = self.expression(pos)
            values = [value]
            while (pos := self.blank(pos)) < len(code) and code[pos] == ",":
                value, pos = self.expression(pos + 1)
                values.append(value)
            arguments[name[1]] = values if len(values) > 1 else value
        return arguments, pos


@dataclass
class Statement:
    kind: str  # "assign", "cmdlet", "should_process" or "write"
    start: int
    target: str = ""
    cmdlet: str = ""
    block: tuple[int, int] | None = None  # a ShouldProcess block's braces


@dataclass
class Script:
    text: str
    code: str = ""
    statements: list[Statement] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.code = without_comments(self.text)
        blanked = strings_blanked(self.code)
        pairs = _braces(blanked)
        for line in re.finditer(r"^[ \t]*(.*)$", self.code, re.M):
            start, rest = line.start(1), line[1]
            if assign := re.match(r"\$(\w+)\s*=\s*", rest):
                after = rest[assign.end() :]
                called = CMDLET.match(after)
                self.statements.append(
                    Statement(
                        "cmdlet" if called else "assign",
                        start + assign.end(),
                        target=assign[1],
                        cmdlet=called[0] if called else "",
                    )
                )
            elif (called := CMDLET.match(rest)) and "-Mg" in called[0]:
                self.statements.append(Statement("cmdlet", start, cmdlet=called[0]))
            elif rest.startswith("Write-Host "):
                self.statements.append(Statement("write", start + len("Write-Host ")))
            for guard in re.finditer(r"\$PSCmdlet\.ShouldProcess\(", rest):
                if not (rest.startswith("if (") and rest.endswith("{")):
                    raise Unreadable(f"ShouldProcess outside an if's own line: {rest}")
                brace = start + len(rest) - 1
                self.statements.append(
                    Statement("should_process", start + guard.end(), block=(brace, pairs[brace]))
                )
        self.statements.sort(key=lambda s: s.start)
        catch = re.search(r"\bcatch\s*\{", blanked)
        self.catch = (catch.end() - 1, pairs[catch.end() - 1]) if catch else (0, 0)

    def in_catch(self, statement: Statement) -> bool:
        return self.catch[0] < statement.start < self.catch[1]

    def guarded(self, statement: Statement) -> bool:
        return any(
            s.block[0] < statement.start < s.block[1]
            for s in self.statements
            if s.kind == "should_process" and s.block
        )

    def calls(self, prefix: str = "") -> list[Statement]:
        return [s for s in self.statements if s.kind == "cmdlet" and s.cmdlet.startswith(prefix)]


def _braces(code: str) -> dict[int, int]:
    stack, pairs = [], {}
    for i, c in enumerate(code):
        if c == "{":
            stack.append(i)
        elif c == "}":
            pairs[stack.pop()] = i
    assert not stack
    return pairs


# === Running it: each cmdlet as the Graph call the SDK makes ===========================


@dataclass
class Call:
    cmdlet: str
    arguments: dict[str, Any]
    method: str = ""
    path: str = ""
    body: Any = None
    status: int = 0


def graph_json(value: Any) -> Any:
    """A cmdlet's parameters as the SDK serialises them: camelCase names, bytes base64."""
    if isinstance(value, dict):
        return {k[0].lower() + k[1:]: graph_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [graph_json(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Date):
        return value.iso
    return value


@dataclass
class Run:
    env: dict[str, Any]
    calls: list[Call]
    what_if: list[tuple[str, str]]
    printed: list[str]
    failure: str = ""


def run(
    script: Script,
    *,
    sign_in: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]] | None,
    graph: Callable[..., Any],
    what_if: bool = False,
    token: str = "",
) -> Run:
    """The script's statements in order. The reader follows no `if`: every branch is
    taken, a line about a step that did not run is left out, and with `what_if` nothing
    inside a ShouldProcess block runs. A refused Graph call runs the catch block (with
    `$_` holding the error) and ends the run, as the script's `throw` does."""
    env: dict[str, Any] = {}
    done = Run(env, [], [], [])
    reader = Reader(script.code, env)

    def write(statement: Statement) -> None:
        try:
            line, _ = reader.expression(statement.start)
        except NullMember:
            return  # a line about a step this path did not take
        done.printed.append(str(line))

    for statement in script.statements:
        if script.in_catch(statement):
            continue
        if what_if and statement.kind != "should_process" and script.guarded(statement):
            continue
        if statement.kind == "should_process":
            target, pos = reader.expression(statement.start)
            action, _ = reader.expression(reader.blank(pos) + 1)
            done.what_if.append((target, action))
        elif statement.kind == "assign":
            try:
                env[statement.target], _ = reader.expression(statement.start)
            except NullMember:
                if not what_if:
                    raise
        elif statement.kind == "write":
            write(statement)
        else:
            name_end = statement.start + len(statement.cmdlet)
            arguments, _ = reader.cmdlet_arguments(name_end)
            call = Call(statement.cmdlet, arguments)
            done.calls.append(call)
            result: Any = None
            if call.cmdlet == "Connect-MgGraph":
                assert sign_in, "a script that signs in needs sign_in"
                token, env["__context"] = sign_in(arguments)
            elif call.cmdlet == "Get-MgContext":
                result = env["__context"]
            else:
                try:
                    result = _graph_call(call, graph, token)
                except GraphFailure as failure:
                    done.failure = str(failure)
                    env["_"] = {"Exception": {"Message": str(failure)}}
                    for handler in script.statements:
                        if handler.kind == "write" and script.in_catch(handler):
                            write(handler)
                    return done
            if statement.target and statement.target != "null":
                env[statement.target] = result
    return done


def _graph_call(call: Call, graph: Callable[..., Any], token: str) -> Any:
    a = call.arguments
    if call.cmdlet == "New-MgApplication":
        call.method, call.path, call.body = "POST", "/applications", graph_json(a)
    elif call.cmdlet == "New-MgServicePrincipal":
        call.method, call.path, call.body = "POST", "/servicePrincipals", graph_json(a)
    elif call.cmdlet == "Get-MgServicePrincipal":
        call.method, call.path = "GET", f"/servicePrincipals?$filter={a['Filter']}"
    elif call.cmdlet == "New-MgServicePrincipalAppRoleAssignedTo":
        call.method = "POST"
        call.path = f"/servicePrincipals/{a['ServicePrincipalId']}/appRoleAssignedTo"
        body = {k: v for k, v in a.items() if k != "ServicePrincipalId"}
        call.body = graph_json(body)
    elif call.cmdlet == "Remove-MgApplication":
        call.method, call.path = "DELETE", f"/applications/{a['ApplicationId']}"
    else:
        raise Unreadable(f"no Graph call known for {call.cmdlet}")
    if call.method == "GET":
        response = graph("GET", "/servicePrincipals", token, params={"$filter": a["Filter"]})
    else:
        response = graph(call.method, call.path, token, json=call.body)
    call.status = response.status_code
    if not response.ok:
        raise GraphFailure(f"{call.cmdlet}: {response.status_code} {response.text}")
    if response.status_code == 204:
        return None
    answer = response.json()
    if call.method == "GET":
        found = answer["value"]
        return found[0] if len(found) == 1 else found or None
    return answer


def essentials(script: Script, env: dict[str, Any]) -> str:
    """What the script prints from its 'Essentials' line on, given the variables."""
    reader = Reader(script.code, env)
    writes = [s for s in script.statements if s.kind == "write"]
    [first] = [i for i, s in enumerate(writes) if script.code.startswith("'Essentials'", s.start)]
    return "\n".join(str(reader.expression(s.start)[0]) for s in writes[first:])


# === Against the emulator ==============================================================


@pytest.fixture
def http(emulator) -> PortSession:
    return PortSession(emulator)


@pytest.fixture
def cca(emulator, http):
    import msal

    def build(client_id, credential, tenant):
        return msal.ConfidentialClientApplication(
            client_id,
            client_credential=credential,
            authority=f"{emulator.login_url}/{tenant}",
            http_client=http,
            instance_discovery=False,
        )

    return build


@pytest.fixture
def contoso(emulator):
    """Contoso, where the app the admin signs in with (Microsoft Graph Command Line Tools
    in real life) holds the script's two delegated permissions and no more."""
    return ready_directory(emulator, delegated=SCOPES)


def emulator_run(emulator, http, cca, ready, script: Script, *, upn=None, password=None, **kw):
    upn = upn or ready.admin.upn
    signed_in: dict[str, Any] = {}

    def sign_in(arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        signed_in.update(arguments)
        scopes = tuple(arguments["Scopes"])
        token = delegated_token(
            emulator, cca, ready, upn, password or "Admin-pass-1", scopes=scopes
        )
        return token, {"TenantId": ready.directory.id, "Account": upn, "Scopes": list(scopes)}

    return run(script, sign_in=sign_in, graph=graph_for(emulator, http), **kw), signed_in


def graph_for(emulator, http) -> Callable[..., Any]:
    def graph(method, path, token, **options):
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{emulator.graph_url}/v1.0{path}"
        return http.request(method, url, headers=headers, **options)

    return graph


def test_the_script_registers_an_app_the_portals_certificate_signs_in_to(
    emulator, http, cca, contoso, made, emulated_microsoft
):
    script = Script(render(made, directory=contoso.directory.id))
    result, signed_in = emulator_run(emulator, http, cca, contoso, script)

    # The sign-in: the directory, the two delegated scopes (enough: the stand-in
    # sign-in app holds no more), interactive.
    assert signed_in == {
        "TenantId": contoso.directory.id,
        "Scopes": list(SCOPES),
        "NoWelcome": True,
    }
    assert [(c.cmdlet, c.method, c.path.split("?")[0], c.status) for c in result.calls] == [
        ("Connect-MgGraph", "", "", 0),
        ("Get-MgContext", "", "", 0),
        ("Get-MgServicePrincipal", "GET", "/servicePrincipals", 200),
        ("New-MgApplication", "POST", "/applications", 201),
        ("New-MgServicePrincipal", "POST", "/servicePrincipals", 201),
        ("New-MgServicePrincipalAppRoleAssignedTo", "POST", result.calls[5].path, 201),
        ("New-MgServicePrincipalAppRoleAssignedTo", "POST", result.calls[6].path, 201),
    ]
    graph_sp = result.env["graph"]
    assert graph_sp["appId"] == GRAPH_APP_ID
    assert result.calls[5].path == f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo"

    registration = result.calls[3].body
    assert registration["displayName"] == "Contoso Freight mailbox connection (1a2b3c4d)"
    assert registration["signInAudience"] == "AzureADMyOrg"
    assert registration["web"] == {"redirectUris": REDIRECT_URIS}
    assert "passwordCredentials" not in registration
    [key] = registration["keyCredentials"]
    certificate = x509.load_pem_x509_certificate(made.certificate_pem.encode())
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert base64.b64decode(key["key"]) == der
    assert (key["type"], key["usage"]) == ("AsymmetricX509Cert", "Verify")

    app = result.env["app"]
    stored = emulator.store.app(app["appId"])
    assert stored.directory_id == contoso.directory.id
    assert stored.sign_in_audience == "AzureADMyOrg"
    assert stored.redirect_uris == REDIRECT_URIS
    assert stored.permission_names("Application") == ["Mail.Read", "Mail.Send"]
    assert stored.secrets == []  # no client secret, ever
    [credential] = stored.key_credentials
    assert credential.thumbprint == made.thumbprint
    principal = emulator.store.service_principal(contoso.directory.id, app["appId"])
    assert principal.app_roles == ["Mail.Read", "Mail.Send"]
    grants = [c.body for c in result.calls[5:]]
    assert grants == [
        {
            "principalId": result.env["servicePrincipal"]["id"],
            "resourceId": graph_sp["id"],
            "appRoleId": GRAPH_APP_ROLES[role],
        }
        for role in ("Mail.Read", "Mail.Send")
    ]

    # The portal's certificate (its private key never in the script) gets the roles.
    credential_for_msal = {
        "private_key": made.private_key_pem,
        "public_certificate": made.certificate_pem,
    }
    client = cca(app["appId"], credential_for_msal, contoso.directory.id)
    token = client.acquire_token_for_client(graph_scope(emulator))
    assert claims(token["access_token"])["roles"] == ["Mail.Read", "Mail.Send"], token

    # The printed block, pasted into step 1, fills in the three IDs.
    printed = essentials(script, result.env)
    assert printed.splitlines()[-1] == f"Certificate ID : {credential.key_id}"
    form = RegisterForm({"client_id": printed, "directory": ""})
    assert form.is_valid(), form.errors
    assert form.from_essentials
    assert form.cleaned_data["client_id"] == app["appId"]
    assert form.cleaned_data["directory_id"] == contoso.directory.id
    assert form.object_id == app["id"]


def test_with_the_owners_sign_in_and_the_password_it_registers_step_2s_settings(
    emulator, http, cca, contoso, made
):
    """A portal whose mailboxes' owners sign in themselves, and that keeps the legacy
    password sign-in: the account types, implicit-grant tokens and public client flows
    that step 2 lists, and the delegated Mail.Read step 3 lists."""
    script = Script(render(made, interactive=True, password=True))
    result, _ = emulator_run(emulator, http, cca, contoso, script)
    registration = result.calls[3].body
    assert registration["signInAudience"] == "AzureADandPersonalMicrosoftAccount"
    assert registration["web"]["implicitGrantSettings"] == {
        "enableAccessTokenIssuance": True,
        "enableIdTokenIssuance": True,
    }
    assert registration["isFallbackPublicClient"] is True
    access = registration["requiredResourceAccess"][0]["resourceAccess"]
    assert {"id": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "type": "Scope"} in access
    stored = emulator.store.app(result.env["app"]["appId"])
    assert stored.sign_in_audience == "AzureADandPersonalMicrosoftAccount"
    assert (stored.implicit_access_tokens, stored.implicit_id_tokens) == (True, True)
    assert stored.public_client is True
    assert "Supported account types : All Microsoft account users" in essentials(script, result.env)


def test_with_what_if_it_signs_in_lists_each_change_and_makes_none(
    emulator, http, cca, contoso, made
):
    script = Script(render(made, directory=contoso.directory.id))
    apps_before = len(emulator.store.state.apps)
    result, _ = emulator_run(emulator, http, cca, contoso, script, what_if=True)
    assert [c.method for c in result.calls if c.method] == ["GET"]  # Graph's SP only
    name = "Contoso Freight mailbox connection (1a2b3c4d)"
    assert result.what_if == [
        (name, "Register the application (New-MgApplication)"),
        (name, "Create its service principal (New-MgServicePrincipal)"),
        (name, "Grant Microsoft Graph Mail.Read, application permission (admin consent)"),
        (name, "Grant Microsoft Graph Mail.Send, application permission (admin consent)"),
    ]
    assert len(emulator.store.state.apps) == apps_before
    assert "Nothing was changed." in result.printed


def test_a_user_without_the_role_is_refused_the_grant_and_told_how_to_undo(
    emulator, http, cca, contoso, made
):
    """An Application Administrator may register the app but not grant Graph's roles:
    the script stops at the grant and says what it created and how to remove it."""
    emulator.update_user(contoso.mailbox, admin_role="Application Administrator")
    script = Script(render(made, directory=contoso.directory.id))
    result, _ = emulator_run(
        emulator, http, cca, contoso, script, upn=contoso.mailbox.upn, password="Mailbox-pass-1"
    )
    assert result.failure.startswith("New-MgServicePrincipalAppRoleAssignedTo: 403")
    app, principal = result.env["app"], result.env["servicePrincipal"]
    assert emulator.store.service_principal(contoso.directory.id, app["appId"]).app_roles == []
    printed = result.printed[result.printed.index("") :]
    assert printed == [
        "",
        f"Stopped: {result.failure}",
        f"Created so far: the application {app['displayName']} (Application (client) ID "
        f"{app['appId']}, Object ID {app['id']}).",
        f"And its service principal, object {principal['id']}.",
        "To remove what was created (a deleted application can be restored for 30 days):",
        f"    Remove-MgServicePrincipal -ServicePrincipalId {principal['id']}",
        f"    Remove-MgApplication -ApplicationId {app['id']}",
        "Nothing was created.",  # the else branch: the reader takes every branch
    ]
    # The printed command, run as it is, removes the application.
    token = delegated_token(emulator, cca, contoso, contoso.admin.upn, "Admin-pass-1", SCOPES)
    undo = Script(printed[6].strip() + "\n")
    removed = run(undo, sign_in=None, graph=graph_for(emulator, http), token=token)
    assert [(c.method, c.path, c.status) for c in removed.calls] == [
        ("DELETE", f"/applications/{app['id']}", 204)
    ]
    assert emulator.store.app(app["appId"]) is None


# === The printed block and step 1's reader =============================================


SAMPLE = {
    "app": {"DisplayName": 'O\'Brien "Freight"', "AppId": CLIENT_ID, "Id": OBJECT_ID},
    "context": {"TenantId": DIRECTORY_ID, "Account": "admin@contoso.example"},
    "certificateId": KEY_ID,
}


@pytest.mark.parametrize("joined", ["\n", "", "\t"], ids=["lines", "one line", "tabs"])
def test_step_1_reads_the_ids_the_script_prints(made, joined):
    script = Script(render(made, display_name='O\'Brien "Freight"'))
    printed = essentials(script, SAMPLE)
    assert printed.splitlines() == [
        "Essentials",
        'Display name : O\'Brien "Freight"',
        f"Application (client) ID : {CLIENT_ID}",
        f"Object ID : {OBJECT_ID}",
        f"Directory (tenant) ID : {DIRECTORY_ID}",
        "Supported account types : My organization only",
        f"Certificate ID : {KEY_ID}",
    ]
    assert parse_essentials(joined.join(printed.splitlines())) == {
        "client_id": CLIENT_ID,
        "object_id": OBJECT_ID,
        "directory_id": DIRECTORY_ID,
        "certificate_id": KEY_ID,
    }


def test_the_printed_block_fills_the_step_1_form(made, fake_microsoft):
    script = Script(render(made))
    env = {**SAMPLE, "context": {"TenantId": "9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c"}}
    form = RegisterForm({"client_id": essentials(script, env), "directory": ""})
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["client_id"], form.cleaned_data["directory_id"]) == (
        CLIENT_ID,
        DIRECTORY_ID,
    )
    assert form.object_id == OBJECT_ID


# === What the script is made of ========================================================


def test_it_reads_as_the_brief_says(made):
    text = render(made)
    assert text.startswith("# register-app.ps1")
    assert "[CmdletBinding(SupportsShouldProcess)]\nparam()" in text
    assert "Set-StrictMode -Version Latest" in text
    assert "$ErrorActionPreference = 'Stop'" in text
    assert "Get-Module -ListAvailable -Name Microsoft.Graph.Applications" in text
    assert "Install-Module Microsoft.Graph.Applications -Scope CurrentUser" in text
    assert (
        f"Connect-MgGraph -TenantId '{DIRECTORY_ID}' -Scopes 'Application.ReadWrite.All', "
        "'AppRoleAssignment.ReadWrite.All' -NoWelcome\n"
    ) in text
    assert (
        "Get-MgServicePrincipal -Filter \"appId eq '00000003-0000-0000-c000-000000000000'\"" in text
    )
    assert "needs a Global Administrator or a Privileged Role Administrator" in text
    assert "the certificate's private key" in text
    assert "{{" not in text
    assert "{%" not in text


def test_without_a_directory_it_signs_in_to_the_admins_own(made):
    text = render(made, directory=None)
    assert "Connect-MgGraph -Scopes 'Application.ReadWrite.All'" in text
    assert "-TenantId" not in text


def test_every_change_sits_inside_a_should_process_block(made):
    script = Script(render(made))
    changes = [s for s in script.calls() if re.match(r"(New|Add|Set|Update|Remove)-", s.cmdlet)]
    assert [s.cmdlet for s in changes] == [
        "New-MgApplication",
        "New-MgServicePrincipal",
        "New-MgServicePrincipalAppRoleAssignedTo",
        "New-MgServicePrincipalAppRoleAssignedTo",
    ]
    assert all(script.guarded(s) for s in changes)
    # and no change is made anywhere else (a pipeline, after a semicolon...): every
    # changing Graph cmdlet outside a string is one of the statements above
    blanked = strings_blanked(script.code)
    found = [m.start() for m in re.finditer(r"\b(New|Add|Set|Update|Remove)-Mg\w+", blanked)]
    assert found == [s.start for s in changes]
    # and the reads are not: they run under -WhatIf too
    assert not any(script.guarded(s) for s in script.calls("Get-"))


def test_the_certificate_goes_in_with_its_own_dates(made):
    """Graph gives a key credential without dates one year from its start, which need
    not be the certificate's end (tests/recordings/graph_key_credential_dates)."""
    assert (
        "automatically assigns a date one year after"
        in load("graph_key_credential_dates").statement
    )
    script = Script(render(made))
    env: dict[str, Any] = {}
    reader = Reader(script.code, env)
    for s in script.statements:
        if s.kind == "assign" and s.target in {"graphAppId", "mailRead", "mailSend", "certificate"}:
            env[s.target], _ = reader.expression(s.start)
    key = graph_json(env["certificate"])
    assert key["startDateTime"] == made.not_before.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert key["endDateTime"] == made.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert key["displayName"] == "Mailbox portal: Contoso Freight"


def test_no_secret_or_password_is_asked_for_or_created(made):
    text = render(made)
    code = without_comments(text)
    assert not re.search(r"-\w*(password|secret|credential\b)", code, re.I)
    assert not re.search(r"(password|secret)\w*\s*=", code, re.I)
    assert "PasswordCredential" not in text
    assert "Add-MgApplicationPassword" not in text
    assert "PRIVATE KEY" not in text
    assert made.private_key_pem.splitlines()[1] not in text


# === Values from the portal ============================================================


@pytest.mark.parametrize(
    "name",
    [
        'O\'Brien "Freight"',
        "Typographic \u2018quotes\u2019 \u201aand\u201b",
        "$(Remove-Item C:\\) `n {braces} #> <# @{x=1}",
        "'; Remove-MgApplication -ApplicationId x; '",
    ],
)
def test_a_display_name_is_one_string_whatever_it_holds(made, name):
    text = render(made, display_name=name, certificate_display_name=name, tenant_name=name)
    script = Script(text)
    env: dict[str, Any] = {}
    reader = Reader(script.code, env)
    [assignment] = [s for s in script.statements if s.target == "displayName"]
    assert reader.expression(assignment.start)[0] == name
    line = text[assignment.start :].split("\n", 1)[0]
    assert line == "'" + "".join(c * 2 if c in QUOTES else c for c in name) + "'"
    # Nothing of it became code: the same statements as for a plain name.
    plain = Script(render(made))
    assert [(s.kind, s.target, s.cmdlet) for s in script.statements] == [
        (s.kind, s.target, s.cmdlet) for s in plain.statements
    ]


def test_the_quoting_helper(made):
    assert ps.ps_literal('O\'Brien "Freight"') == "'O''Brien \"Freight\"'"
    assert ps.ps_literal("\u2019") == "'\u2019\u2019'"


@pytest.mark.parametrize("breaker", ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\t", "\0"])
@pytest.mark.parametrize(
    "field_name",
    ["tenant_name", "display_name", "certificate_display_name", "directory", "redirect_uris"],
)
def test_a_line_break_in_any_value_is_refused(made, field_name, breaker):
    values = {
        "tenant_name": "Contoso",
        "display_name": "Contoso app",
        "certificate_display_name": "Mailbox portal",
        "directory": "contoso.onmicrosoft.com",
        "redirect_uris": CALLBACK,
    }
    value = values[field_name]
    bad = value[:3] + breaker + value[3:]
    overrides = {field_name: [bad] if field_name == "redirect_uris" else bad}
    with pytest.raises(ValueError, match=field_name):
        render(made, **overrides)


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        None,
    ],
    ids=["empty", "text", "garbage", "none"],
)
def test_an_empty_or_invalid_certificate_is_refused(made, pem):
    with pytest.raises(ValueError, match="certificate_pem"):
        render(made, certificate_pem=pem)


def test_a_pem_with_the_private_key_is_refused(made):
    with pytest.raises(ValueError, match="private key"):
        render(made, certificate_pem=made.certificate_pem + made.private_key_pem)


def test_an_expired_certificate_is_refused(made):
    with pytest.raises(ValueError, match="expired"):
        render(made, now=made.not_after)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"display_name": "  "}, "display_name"),
        ({"certificate_display_name": ""}, "certificate_display_name"),
        ({"display_name": "x" * 257}, "display_name"),
        ({"redirect_uris": []}, "redirect_uris"),
        ({"redirect_uris": CALLBACK}, "redirect_uris"),
        ({"redirect_uris": ["http://portal.example/callback"]}, "redirect_uris"),
        ({"redirect_uris": ["/relative"]}, "redirect_uris"),
        ({"directory": "not a directory'"}, "directory"),
    ],
)
def test_other_bad_values_are_refused(made, overrides, message):
    with pytest.raises(ValueError, match=message):
        render(made, **overrides)


def test_a_redirect_uri_is_registered_once(made):
    text = render(made, redirect_uris=[CALLBACK, SIGN_IN_CALLBACK, CALLBACK])
    assert text.count(f"    '{CALLBACK}'\n") == 1


def test_the_download_carries_a_byte_order_mark(made):
    data = ps.script_bytes(render(made, display_name="Müller Logistik"))
    assert data.startswith(b"\xef\xbb\xbf")
    assert "Müller Logistik".encode() in data


# === PowerShell's own parser, where it is installed ====================================


@pytest.mark.skipif(not shutil.which("pwsh"), reason="PowerShell (pwsh) is not installed here")
def test_powershell_parses_the_script(made, tmp_path):
    path = tmp_path / "register-app.ps1"
    path.write_bytes(ps.script_bytes(render(made, display_name='O\'Brien "Freight" {x} #>')))
    check = (
        "$tokens = $null; $errors = $null; "
        "[void][System.Management.Automation.Language.Parser]::ParseInput("
        f"[System.IO.File]::ReadAllText('{path}'), [ref]$tokens, [ref]$errors); "
        "if ($errors) { $errors | ForEach-Object { $_.Message }; exit 1 }"
    )
    result = subprocess.run(
        [shutil.which("pwsh") or "pwsh", "-NoProfile", "-NonInteractive", "-Command", check],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
