"""The ONLY module that talks to Microsoft (identity platform through msal, and Graph).

Interface agreed between the work streams; the emulator work stream implements it
against the real msal library. Until then these raise NotImplementedError.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MicrosoftError(Exception):
    """A failure reported by (or on the way to) Microsoft. Never carries a secret.

    code: "AADSTS7000215", "ErrorAccessDenied", "unreachable", ...
    """

    code: str
    message: str
    status: int | None = None
    correlation_id: str = ""
    transient: bool = False
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def discover_directory(directory: str) -> str:
    """Resolve a directory (GUID or verified domain) to its tenant GUID via OIDC discovery.

    Raises MicrosoftError with code AADSTS90002 (not found), AADSTS900023 (malformed) or
    a transient error when Microsoft cannot be reached.
    """
    raise NotImplementedError


def admin_consent_url(*, directory: str, client_id: str, redirect_uri: str, state: str) -> str:
    """The v2 URL: {login}/{directory}/v2.0/adminconsent?client_id&scope&redirect_uri&state."""
    raise NotImplementedError
