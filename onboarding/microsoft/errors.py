"""What leaves the Microsoft package: its error and its values. Never a secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


# Not frozen: contextlib (any @contextmanager a caller wraps around us) sets
# __traceback__ on the exception it re-raises, which a frozen dataclass refuses with
# FrozenInstanceError. eq=False keeps the exception hashable by identity.
@dataclass(eq=False)
class MicrosoftError(Exception):
    """A failure reported by (or on the way to) Microsoft. Never carries a secret.

    code: "AADSTS7000215", "ErrorAccessDenied", "unreachable", "http_500",
    "personal_account", ... (see onboarding.diagnosis for what each means)
    """

    code: str
    message: str
    status: int | None = None
    correlation_id: str = ""
    transient: bool = False
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class AppCredential:
    """What msal signs in with: an app's client ID and its credential."""

    client_id: str
    secret: str = field(repr=False)  # a client secret, or a certificate's private key
    certificate: str = ""  # a certificate credential's public PEM


@dataclass(frozen=True)
class AppToken:
    """An app-only Graph token. `roles` is read from the token for diagnostics only."""

    access_token: str = field(repr=False)
    expires_in: int
    roles: frozenset[str]
    from_cache: bool


@dataclass(frozen=True)
class DelegatedToken:
    """A token for one user (a password sign-in, or the owner's own sign-in); `scopes`
    as Microsoft granted them."""

    access_token: str = field(repr=False)
    expires_in: int
    scopes: frozenset[str]
    username: str
    from_cache: bool = False


@dataclass(frozen=True)
class InboxMessage:
    id: str
    subject: str
    received_at: datetime | None
