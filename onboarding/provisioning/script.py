"""The PowerShell script that registers the customer's app, for an admin who will not
give the portal the rights to register apps itself: the Microsoft Graph PowerShell SDK,
run by the admin, signed in interactively as themselves.

`render_script(...)` fills templates/onboarding/provisioning/register-app.ps1 for one
tenant; `script_bytes(...)` is what a download should send. The script:

- checks the Microsoft.Graph.Applications module, then `Connect-MgGraph -TenantId ...
  -Scopes 'Application.ReadWrite.All','AppRoleAssignment.ReadWrite.All' -NoWelcome`
  (interactive: no password or secret is ever in the file);
- registers the app (`New-MgApplication`: single tenant, the portal's Web redirect URIs,
  Microsoft Graph's Mail.Read and Mail.Send application permissions, the portal's
  certificate as its only credential), creates its service principal
  (`New-MgServicePrincipal`) and grants both app roles
  (`New-MgServicePrincipalAppRoleAssignedTo`): that grant is the admin consent;
- guards every change with `$PSCmdlet.ShouldProcess`, so `-WhatIf` lists them all and
  makes none; after a failure it says what was created and how to remove it;
- prints the result in the layout of Entra's Overview "Essentials" block, which step 1's
  paste reader (onboarding.wizard.validators.parse_essentials) takes as it is.

Every value from the portal goes into a single-quoted PowerShell string, quotes doubled
(PowerShell also takes the typographic quotes U+2018-U+201B as single quotes, so those
are doubled too); a value with a line break or another control character is refused
rather than escaped, since a line break would end a comment or a statement.

Microsoft's references for the cmdlets (read 2026-12-02):
- Connect-MgGraph:
  https://learn.microsoft.com/powershell/module/microsoft.graph.authentication/connect-mggraph
  (-NoWelcome: https://github.com/microsoftgraph/msgraph-sdk-powershell/pull/2241)
- New-MgApplication (KeyCredentials: `Key <Byte[]>`):
  https://learn.microsoft.com/powershell/module/microsoft.graph.applications/new-mgapplication
- New-MgServicePrincipal:
  https://learn.microsoft.com/powershell/module/microsoft.graph.applications/new-mgserviceprincipal
- New-MgServicePrincipalAppRoleAssignedTo:
  https://learn.microsoft.com/powershell/module/microsoft.graph.applications/new-mgserviceprincipalapproleassignedto
  and its Graph call, with the permissions and roles it needs:
  https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto
- Remove-MgApplication ("restored within 30 days"):
  https://learn.microsoft.com/powershell/module/microsoft.graph.applications/remove-mgapplication
- The certificate's key and dates: https://learn.microsoft.com/graph/applications-how-to-add-certificate
  (its C# sample decodes the base64 to bytes, as `[System.Convert]::FromBase64String` does
  here; its generated PowerShell sample's `ASCII.GetBytes` of the base64 text is not
  followed) and https://github.com/microsoftgraph/msgraph-sdk-powershell/issues/779
  (`key=$Cert.RawData`, the DER bytes); tests/recordings/graph_key_credential_dates.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import unicodedata
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.template.loader import render_to_string

TEMPLATE = "onboarding/provisioning/register-app.ps1"
# What a download sends: UTF-8 with a byte order mark, without which Windows PowerShell
# 5.1 reads a script as the system's ANSI code page and garbles non-ASCII names.
FILE_ENCODING = "utf-8-sig"
FILE_NAME = "register-app.ps1"

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph's application permissions (app roles), the same in every directory.
GRAPH_APP_ROLES = {
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
}
# Delegated, for the admin's own sign-in: registering apps, and granting app roles
# (appRoleAssignedTo also needs Application.Read.All, which ReadWrite covers).
SCOPES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All")
SIGN_IN_AUDIENCE = "AzureADMyOrg"
# Step 2's "Accounts in any organizational directory and personal Microsoft accounts",
# for a portal whose mailboxes' owners sign in themselves (Outlook.com among them).
ANY_AND_PERSONAL = "AzureADandPersonalMicrosoftAccount"
# Microsoft Graph's delegated Mail.Read (type Scope), for the legacy password sign-in;
# the same ID in every directory (Graph's published permissions reference).
DELEGATED_SCOPES = {"Mail.Read": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"}

# PowerShell's single-quote characters: ' and the typographic ones it treats alike.
_QUOTES = "'\u2018\u2019\u201a\u201b"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
_LOCAL_HOSTS = {"localhost", "127.0.0.1"}
# Graph's limit for an application's displayName (new-mgapplication: "Maximum length is
# 256 characters"); the guide's account type allows 90 (services.APP_NAME_MAX).
DISPLAY_NAME_MAX = 256


def render_script(
    *,
    tenant_name: str,
    directory: str | None,
    display_name: str,
    redirect_uris: list[str],
    certificate_pem: str,
    certificate_display_name: str,
    interactive: bool = False,
    password: bool = False,
    now: dt.datetime | None = None,
) -> str:
    """The script for one tenant, as text.

    tenant_name: the customer's name, for the script's header only.
    directory: the Directory (tenant) ID or a verified domain when known (the admin then
        signs in to that directory), or None (their home directory).
    display_name: the app registration's name (services.suggested_app_name).
    redirect_uris: every Web redirect URI to register, as step 2 lists them
        (admin_center.web_redirect_uris(consent.callback_url(), sign_in.callback_url())).
    certificate_pem: the portal's certificate for the tenant, public part only (a PEM
        holding a private key is refused).
    certificate_display_name: the certificate's description in Entra.
    interactive, password: the deployment's asks (admin_center.asks()), so that the app
        gets step 2's settings: work and personal accounts and implicit-grant tokens for
        the owners' own sign-in; public client flows and the delegated Mail.Read for
        the legacy password sign-in (its consent is the admin's, in Entra, as step 3
        says: the script grants the application permissions only).
    now: for tests; an expired certificate is refused.

    ValueError names the bad value; nothing is rendered then.
    """
    der, not_before, not_after = _certificate(certificate_pem, now=now)
    context = {
        "tenant_name": _comment(tenant_name, "tenant_name"),
        "display_name_text": _comment(display_name, "display_name"),
        "display_name": _literal(_display_name(display_name), "display_name"),
        "directory": _literal(_directory(directory), "directory") if directory else "",
        "redirect_uris": [_literal(u, "redirect_uris") for u in _redirect_uris(redirect_uris)],
        "certificate_display_name": _literal(
            _required(certificate_display_name, "certificate_display_name"),
            "certificate_display_name",
        ),
        "certificate_der": _literal(base64.b64encode(der).decode(), "certificate"),
        "not_before": _literal(_iso(not_before), "certificate"),
        "not_after": _literal(_iso(not_after), "certificate"),
        "graph_app_id": GRAPH_APP_ID,
        "mail_read": GRAPH_APP_ROLES["Mail.Read"],
        "mail_send": GRAPH_APP_ROLES["Mail.Send"],
        "scopes": ", ".join(_literal(s, "scopes") for s in SCOPES),
        "sign_in_audience": _literal(
            ANY_AND_PERSONAL if interactive else SIGN_IN_AUDIENCE, "sign_in_audience"
        ),
        "implicit_tokens": interactive,
        "public_client": password,
        "delegated": [DELEGATED_SCOPES["Mail.Read"]] if password else [],
    }
    return render_to_string(TEMPLATE, context)


def script_bytes(script: str) -> bytes:
    """The rendered script as a download sends it (see FILE_ENCODING)."""
    return script.encode(FILE_ENCODING)


def ps_literal(value: str) -> str:
    """`value` as a single-quoted PowerShell string: every quote character doubled.
    ValueError for a line break or any other control character."""
    return _literal(value, "value")


# --- checks and escaping ----------------------------------------------------------------


def _check_text(value: str, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: a string is needed")
    for char in value:
        # Cc: control characters (\n, \r, \t, NUL...); Zl, Zp: U+2028, U+2029.
        if unicodedata.category(char) in {"Cc", "Zl", "Zp"}:
            raise ValueError(f"{name}: line breaks and control characters are not allowed")
    return value


def _literal(value: str, name: str) -> str:
    text = _check_text(value, name)
    return "'" + "".join(c * 2 if c in _QUOTES else c for c in text) + "'"


def _comment(value: str, name: str) -> str:
    """Text for a `#` line comment: only a line break could end it."""
    return _check_text(value, name)


def _required(value: str, name: str) -> str:
    if not _check_text(value, name).strip():
        raise ValueError(f"{name}: must not be empty")
    return value


def _display_name(value: str) -> str:
    if len(_required(value, "display_name")) > DISPLAY_NAME_MAX:
        raise ValueError(f"display_name: at most {DISPLAY_NAME_MAX} characters")
    return value


def _directory(value: str) -> str:
    _check_text(value, "directory")
    if not (_GUID.match(value) or _DOMAIN.match(value)):
        raise ValueError("directory: a Directory (tenant) ID or a domain name is needed")
    return value


def _redirect_uris(values: list[str]) -> list[str]:
    """Each URI checked, each once (Entra keeps a list of distinct URIs), in order."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise ValueError("redirect_uris: a list of addresses is needed")
    if not values:
        raise ValueError("redirect_uris: at least the portal's consent callback is needed")
    return list(dict.fromkeys(_redirect_uri(value) for value in values))


def _redirect_uri(value: str) -> str:
    """An absolute https URI, or http on localhost (as the customer guide has)."""
    _check_text(value, "redirect_uris")
    parts = urlsplit(value)
    local = parts.hostname in _LOCAL_HOSTS
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise ValueError(f"redirect_uris: not an https address: {value!r}")
    if " " in value:
        raise ValueError(f"redirect_uris: spaces are not allowed: {value!r}")
    return value


def _certificate(pem: str, *, now: dt.datetime | None) -> tuple[bytes, dt.datetime, dt.datetime]:
    """The certificate's DER and validity; ValueError for anything else."""
    if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError("certificate_pem: a PEM certificate is needed")
    if "PRIVATE KEY" in pem:
        # The private key never leaves the portal, least of all in a script.
        raise ValueError("certificate_pem: holds a private key; pass the certificate only")
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise ValueError("certificate_pem: not a readable certificate") from None
    not_after = certificate.not_valid_after_utc
    if not_after <= (now or dt.datetime.now(dt.UTC)):
        raise ValueError("certificate_pem: the certificate has expired")
    der = certificate.public_bytes(serialization.Encoding.DER)
    return der, certificate.not_valid_before_utc, not_after


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
