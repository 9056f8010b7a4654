"""A logging filter that masks secret-shaped values before any handler writes them.

It is the safety net behind the vault's own care (secrets are never passed to a
logger on purpose): whatever slips into a message, its arguments, an exception's
text or a stack, and looks like one of these, is replaced by [REDACTED]:

- Entra client secret values: 40 characters with 8Q~ at positions 4-6, or 37 with
  7Q~ (docs MICROSOFT.md section 5);
- JWTs (access and ID tokens) and anything after "Bearer ";
- form, query or JSON/dict fields named like password, client_secret or a token;
- PEM private keys;
- the tokens in the paths of invitation links (/invitations/<token>/), password
  reset links (/accounts/password-reset/<uidb64>/<token>/) and forwarded consent
  links (/onboarding/consent/forwarded/<token>/), wherever a path is written: the
  dev server's and Django's request logs, django-axes' lines.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"

_FIELD_NAMES = (
    r"password|passwd|pwd|client_secret|secret_value|mailbox_password|refresh_token|"
    r"access_token|id_token|client_assertion|assertion|code_verifier"
)
# A path segment: up to the next slash, whitespace, query, fragment or quote.
_SEGMENT = r"[^/\s?#\"'<>]+"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Tokens in paths. The reset link's uidb64 stays; its set-password step holds no token.
    (re.compile(rf"(/invitations/){_SEGMENT}"), rf"\1{REDACTED}"),
    (re.compile(rf"(/consent/forwarded/){_SEGMENT}"), rf"\1{REDACTED}"),
    (
        re.compile(rf"(/password-reset/{_SEGMENT}/)(?!set-password(?:[/\s?#\"'<>]|$)){_SEGMENT}"),
        rf"\1{REDACTED}",
    ),
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        REDACTED,
    ),
    # Entra secret values; no boundaries, so a secret glued to other text goes too.
    (
        re.compile(r"[A-Za-z0-9_~.\-]{3}(?:8Q~[A-Za-z0-9_~.\-]{34}|7Q~[A-Za-z0-9_~.\-]{31})"),
        REDACTED,
    ),
    (re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), REDACTED),
    # The API's service keys and webhook signing secrets, by their fixed prefixes.
    (re.compile(r"mbp_live_[A-Za-z0-9]+_[A-Za-z0-9_\-]+"), REDACTED),
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), REDACTED),
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=\-]+"), rf"\1{REDACTED}"),
    # password=... in forms and query strings.
    (re.compile(rf"(?i)\b({_FIELD_NAMES})=[^&\s'\",;]+"), rf"\1={REDACTED}"),
    # "password": "..." and 'password': '...' in JSON and dict reprs.
    (
        re.compile(rf"(?i)([\"']({_FIELD_NAMES})[\"']\s*:\s*)([\"'])(?:\\.|(?!\3).)*\3"),
        rf"\1\3{REDACTED}\3",
    ),
)


def redact(text: str) -> str:
    """The text with every secret-shaped value replaced by [REDACTED]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Redacts a record in place (message, exception, stack) and never drops it.

    The message is formatted once and frozen, so no later handler can re-expand
    the original arguments. Running twice on one record changes nothing more.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A broken format string: let logging report it as it always does.
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
