"""Entra's limits that depend on who may sign in to an app (its signInAudience).

From MicrosoftDocs/entra-docs docs/identity-platform/supported-accounts-validation.md
(read 2026-12-01), the table "Validation differences": for `AzureADandPersonalMicrosoftAccount`
and `PersonalMicrosoftAccount`, "Client secrets (`passwordCredentials`) ... Maximum of two
client secrets" (no limit for the work-only audiences), "Display name ... Maximum length of
90 characters" (120 for the others) and "National clouds ... Not supported".

The refusal of a third secret is Graph's answer quoted in Azure/azure-cli#12946 (recorded in
tests/recordings/add_password_too_many_app_passwords.json): 400, code TooManyAppPasswords,
"Not allowed to add 3 passwords. You can only add a maximum of 2 passwords."; the comment
adds "Same error also when adding Secret via Portal", so the emulated admin center shows the
same message (how Entra's notification frames it is not quoted anywhere: not verified).

No source quotes Entra's words for a display name over the limit: the emulator's own
sentence (NAME_TOO_LONG) is NOT VERIFIED.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from microsoft_emulator.state import AppRegistration

PERSONAL_AUDIENCES = frozenset({"AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"})
MAX_PERSONAL_SECRETS = 2
MAX_NAME = 120
MAX_PERSONAL_NAME = 90
# Not verified: the emulator's wording, no source quotes Entra's.
NAME_TOO_LONG = (
    "The display name can be at most {limit} characters for this account type "
    "(emulator wording, not verified against Entra)."
)


def takes_personal_accounts(sign_in_audience: str) -> bool:
    return sign_in_audience in PERSONAL_AUDIENCES


def max_secrets(sign_in_audience: str) -> int | None:
    """How many client secrets Entra lets the app hold (None: no limit of its own)."""
    return MAX_PERSONAL_SECRETS if takes_personal_accounts(sign_in_audience) else None


def max_name(sign_in_audience: str) -> int:
    return MAX_PERSONAL_NAME if takes_personal_accounts(sign_in_audience) else MAX_NAME


class TooManyAppPasswords(ValueError):
    """Graph's (and the admin center's) refusal of one client secret too many."""

    status = 400
    code = "TooManyAppPasswords"

    def __init__(self, adding: int, limit: int = MAX_PERSONAL_SECRETS) -> None:
        super().__init__(
            f"Not allowed to add {adding} passwords. You can only add a maximum of {limit} "
            "passwords."
        )

    def body(self, *, request_id: str, client_request_id: str, now: datetime) -> dict[str, Any]:
        """The error as Graph sends it (shape of the recording, ids and date our own)."""
        return {
            "error": {
                "code": self.code,
                "message": str(self),
                "details": [{"target": "passwordCredentials", "code": self.code}],
                "innerError": {
                    "date": now.strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                },
            }
        }


def check_new_secret(app: AppRegistration) -> None:
    """Raise TooManyAppPasswords when the app may not hold one more client secret."""
    limit = max_secrets(app.sign_in_audience)
    if limit is not None and len(app.secrets) >= limit:
        raise TooManyAppPasswords(len(app.secrets) + 1, limit)


def check_name(name: str, sign_in_audience: str) -> None:
    """ValueError when the display name is longer than the account type allows."""
    limit = max_name(sign_in_audience)
    if len(name) > limit:
        raise ValueError(NAME_TOO_LONG.format(limit=limit))


def check_app(name: str, sign_in_audience: str, secret_count: int) -> None:
    """A registration (or a change to one) that the account type allows."""
    check_name(name, sign_in_audience)
    limit = max_secrets(sign_in_audience)
    if limit is not None and secret_count > limit:
        raise ValueError(
            f"An app for this account type can hold at most {limit} client secrets; delete "
            f"{secret_count - limit} first (emulator wording, not verified against Entra)."
        )
