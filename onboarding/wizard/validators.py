"""Shape checks for what an admin copies out of the Entra admin center.

Each function either returns the normalised value or raises ValidationError with
a message that says where the right value is. The client secret gets findings
instead of a single verdict, because some odd-looking values are still real
(older secrets had other formats) and only the admin can confirm them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
GUID_EXAMPLE = "00000000-0000-0000-0000-000000000000"
_DOMAIN_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN_RE = re.compile(rf"^(?:{_DOMAIN_LABEL}\.)+[a-z]{{2,63}}$")
# Words that select a kind of account at Microsoft, not one directory.
_NOT_A_DIRECTORY = {"common", "organizations", "consumers"}
MAX_INPUT = 255


def validate_guid(value: str, *, name: str, where: str) -> str:
    """A GUID such as Entra shows it; returned lower-case."""
    value = (value or "").strip().strip("{}")
    if not GUID_RE.match(value):
        raise ValidationError(
            f"The {name} is 32 letters and digits in five groups, like {GUID_EXAMPLE}. "
            f"Copy it from {where}.",
            code="guid",
        )
    return value.lower()


def validate_directory(value: str) -> str:
    """A directory (tenant) ID as a GUID, or a verified domain such as contoso.onmicrosoft.com."""
    value = (value or "").strip().rstrip(".").lower()
    if GUID_RE.match(value.strip("{}")):
        return value.strip("{}")
    if value in _NOT_A_DIRECTORY:
        raise ValidationError(
            f"“{value}” means any directory at Microsoft, not yours. Copy the Directory "
            "(tenant) ID from the app's Overview page.",
            code="generic_directory",
        )
    if "://" in value or "/" in value:
        raise ValidationError(
            "Paste only the ID, not a web address. It is on the app's Overview page as "
            "Directory (tenant) ID.",
            code="url",
        )
    if "@" in value:
        raise ValidationError(
            "This is an e-mail address. Enter the Directory (tenant) ID from the app's "
            "Overview page, or just the domain after the @.",
            code="email",
        )
    if len(value) > 253 or not DOMAIN_RE.match(value):
        raise ValidationError(
            f"Enter the Directory (tenant) ID, like {GUID_EXAMPLE}, or a verified domain "
            "such as contoso.onmicrosoft.com. Both are on the app's Overview page.",
            code="directory",
        )
    return value


# --- Client secret values -------------------------------------------------------

# Entra's generated secrets (microsoft/security-utilities SEC101/156): three
# characters, then 8Q~ (40 long) or, before 2022, 7Q~ (37 long).
_URL_SAFE = r"[A-Za-z0-9_~.\-]"
SECRET_FORMATS = (
    re.compile(rf"^{_URL_SAFE}{{3}}8Q~{_URL_SAFE}{{34}}$"),
    re.compile(rf"^{_URL_SAFE}{{3}}7Q~{_URL_SAFE}{{31}}$"),
    # Legacy: 32 characters from a wider set, and the pre-2019 44-character base64.
    re.compile(r"^[A-Za-z0-9.=\-:\[\]_@*+?]{32}$"),
    re.compile(r"^[A-Za-z0-9+/]{43}=$"),
)
_MASKED = re.compile(r"\*{3,}")


@dataclass(frozen=True)
class Finding:
    """Something noticed about a value. Errors block; warnings need the admin's word."""

    code: str
    severity: str  # "error", "warning" or "notice"
    message: str


ERROR, WARNING, NOTICE = "error", "warning", "notice"


def secret_value_findings(
    raw: str, *, secret_id: str = "", client_id: str = "", directory_id: str = ""
) -> tuple[str, list[Finding]]:
    """The trimmed value and what is wrong or odd about it. Never echoes the value."""
    value = (raw or "").strip()
    findings: list[Finding] = []
    if value != (raw or ""):
        findings.append(Finding("trimmed", NOTICE, _TRIMMED))
    if len(value) > MAX_INPUT:
        return value, [*findings, Finding("too_long", ERROR, _TOO_LONG)]
    if re.search(r"\s", value):
        findings.append(Finding("inner_space", ERROR, _INNER_SPACE))
    findings += _identifier_findings(value, secret_id, client_id, directory_id)
    if _MASKED.search(value):
        findings.append(Finding("masked", ERROR, _MASKED_MESSAGE))
    elif "*" in value:
        findings.append(Finding("asterisk", WARNING, _ASTERISK))
    blocked = any(f.severity == ERROR for f in findings)
    if not blocked and not _known_shape(value) and not GUID_RE.match(value):
        findings.append(Finding("unknown_shape", WARNING, _UNKNOWN_SHAPE))
    return value, findings


def _identifier_findings(
    value: str, secret_id: str, client_id: str, directory_id: str
) -> list[Finding]:
    lowered = value.lower()
    if secret_id and lowered == secret_id.lower():
        return [Finding("is_secret_id", ERROR, _IS_SECRET_ID)]
    if client_id and lowered == client_id.lower():
        return [Finding("is_client_id", ERROR, _IS_CLIENT_ID)]
    if directory_id and lowered == directory_id.lower():
        return [Finding("is_directory_id", ERROR, _IS_DIRECTORY_ID)]
    if GUID_RE.match(value):
        return [Finding("guid", WARNING, _LOOKS_LIKE_GUID)]
    return []


def _known_shape(value: str) -> bool:
    return any(pattern.match(value) for pattern in SECRET_FORMATS)


_TRIMMED = "We removed the spaces or line breaks around the value; they are never part of it."
_TOO_LONG = "This is far longer than any client secret. Copy only the Value column."
_INNER_SPACE = (
    "The value contains spaces or line breaks, so more than one column was copied. "
    "Copy only the Value column."
)
_IS_SECRET_ID = (
    "This is the Secret ID. Paste the Value column instead: Entra shows it only once, "
    "right after you add the secret."
)
_IS_CLIENT_ID = "This is the Application (client) ID, not the secret. Copy the Value column."
_IS_DIRECTORY_ID = "This is the Directory (tenant) ID, not the secret. Copy the Value column."
_LOOKS_LIKE_GUID = (
    "This looks like the Secret ID; copy the Value column. Secret values are not in this "
    "00000000-0000-… form."
)
_MASKED_MESSAGE = (
    "This is the hidden value that Entra shows after you leave the page. The real value is "
    "shown only once, so add a new client secret and copy its Value straight away."
)
_ASTERISK = (
    "The value contains “*”. Secrets Entra creates today never do; if you copied it after "
    "leaving the page, it is the hidden value and you need a new secret."
)
_UNKNOWN_SHAPE = (
    "This does not look like a secret Entra creates today (40 characters with “8Q~” as "
    "characters 4 to 6). Check that you copied the whole Value column. An older secret "
    "can still be saved."
)


# --- Expiry dates as Entra displays them ----------------------------------------

_TIME_SUFFIX = r"(?:[ ,T]+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?)?"
_DATE_PATTERNS = (
    # 2027-05-27 and 2027/05/27 (ISO; Entra in Swedish, Canadian, Chinese, Japanese)
    ("ymd", re.compile(rf"^(\d{{4}})[-/](\d{{1,2}})[-/](\d{{1,2}}){_TIME_SUFFIX}$")),
    # 5/27/2027 (Entra in English, the default) or 27/5/2027 when the day says so
    ("slash", re.compile(rf"^(\d{{1,2}})/(\d{{1,2}})/(\d{{4}}){_TIME_SUFFIX}$")),
    # 27.5.2027 and 27-5-2027 (German, Dutch and most of Europe: day first)
    ("dmy", re.compile(rf"^(\d{{1,2}})[.\-](\d{{1,2}})[.\-](\d{{4}})\.?{_TIME_SUFFIX}$")),
)


@dataclass(frozen=True)
class ParsedDate:
    value: date
    # True when the day and month could be swapped (5/6/2027): read month first.
    ambiguous: bool = False


def parse_entra_date(text: str) -> ParsedDate:
    """Read a date as Entra's Expires column shows it in the admin's language."""
    text = (text or "").strip()
    for kind, pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return _to_date(kind, *(int(part) for part in match.groups()))
    raise ValidationError(
        "Enter the date as Entra shows it, for example 5/27/2027 or 2027-05-27.",
        code="date_format",
    )


def _to_date(kind: str, a: int, b: int, c: int) -> ParsedDate:
    ambiguous = False
    if kind == "ymd":
        year, month, day = a, b, c
    elif kind == "dmy" or a > 12:
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
        ambiguous = b <= 12 and a != b
    try:
        return ParsedDate(date(year, month, day), ambiguous)
    except ValueError:
        raise ValidationError("This date does not exist in the calendar.", code="date") from None


# --- Mailbox addresses -------------------------------------------------------------

# Personal Microsoft accounts (outlook.com, hotmail.fr, live.co.uk, ...): an
# organisation's app registration cannot reach them.
PERSONAL_DOMAIN_RE = re.compile(
    r"^(?:outlook|hotmail|live|msn|passport)\.(?:co\.|com\.)?[a-z]{2,3}$"
)


# What Microsoft 365 takes as a user principal name or an SMTP address: RFC 5322's
# dot-atom in ASCII before the @ (no quoted strings: Exchange refuses them), at most
# 64 characters, and a domain name of two labels or more after it (no [1.2.3.4]
# address literal, no "localhost": an accepted domain is always a registered name).
_LOCAL_PART_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$"
)
_ADDRESS_DOMAIN_RE = re.compile(rf"^(?:{_DOMAIN_LABEL}\.)+(?!\d+$){_DOMAIN_LABEL}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ADDRESS_PROBLEMS = {
    "control": "The address contains an invisible control character. Type it again.",
    "quoted": "Microsoft 365 addresses cannot contain quotation marks.",
    "ip_literal": "Enter an address at your organisation's domain, not at an IP address.",
    "single_label": (
        "The part after the @ must be a full domain, such as contoso.com or "
        "contoso.onmicrosoft.com."
    ),
    "invalid": "Enter a valid e-mail address, such as dispatch@contoso.com.",
}


def _address_problem(code: str) -> ValidationError:
    return ValidationError(_ADDRESS_PROBLEMS[code], code=code)


def validate_mailbox_address(value: str) -> str:
    """A work mailbox address, lower-cased. Personal Outlook.com accounts are refused."""
    value = (value or "").strip().lower()
    if _CONTROL_RE.search(value):
        raise _address_problem("control")
    local, at, domain = value.rpartition("@")
    if '"' in local:
        raise _address_problem("quoted")
    if domain.startswith("[") or domain.endswith("]"):
        raise _address_problem("ip_literal")
    if not at or not local or len(local) > 64 or not _LOCAL_PART_RE.match(local):
        raise _address_problem("invalid")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise _address_problem("invalid") from None
    if "." not in ascii_domain:
        raise _address_problem("single_label")
    if len(ascii_domain) > 253 or not _ADDRESS_DOMAIN_RE.match(ascii_domain):
        raise _address_problem("invalid")
    validate_email(value)
    return value


def is_personal_address(value: str) -> bool:
    """An Outlook.com / Hotmail / Live / MSN address: a personal Microsoft account,
    which only its owner's own sign-in reaches (app-only access never does)."""
    return bool(PERSONAL_DOMAIN_RE.match(value.rpartition("@")[2].lower()))


# --- The Essentials block of an app's Overview page ---------------------------------

# Entra's Overview lists, under Essentials: Display name, Application (client) ID, Object
# ID, Directory (tenant) ID, Supported account types... An admin who selects the block
# and pastes it gets the labels and values, with " : " or line breaks between them, and
# without the line breaks when pasted into a one-line field (the browser drops them).
_ESSENTIALS_LABELS = {
    "client_id": r"Application\s*\(\s*client\s*\)\s*ID",
    "object_id": r"Object\s*ID",
    "directory_id": r"Directory\s*\(\s*tenant\s*\)\s*ID",
    # Printed by the portal's PowerShell script (onboarding.provisioning.script).
    "certificate_id": r"Certificate\s*ID",
    "other": r"Display\s*name|Supported\s*account\s*types|Client\s*credentials|"
    r"Redirect\s*URIs|Application\s*ID\s*URI|Managed\s*application",
}
_ESSENTIALS_RE = re.compile(
    "|".join(f"(?P<{name}>{pattern})" for name, pattern in _ESSENTIALS_LABELS.items()), re.I
)
_GUID_IN_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def parse_essentials(text: str) -> dict[str, str]:
    """The IDs of a pasted Essentials block, by label ("client_id", "object_id",
    "directory_id", and the script's "certificate_id"), lower-case; {} for text without
    an ID label (a plain value)."""
    labels = list(_ESSENTIALS_RE.finditer(text or ""))
    found: dict[str, str] = {}
    for index, label in enumerate(labels):
        name = label.lastgroup
        if name is None or name == "other" or name in found:
            continue
        end = labels[index + 1].start() if index + 1 < len(labels) else len(text)
        guid = _GUID_IN_TEXT.search(text, label.end(), end)
        if guid:
            found[name] = guid.group(0).lower()
    return found
