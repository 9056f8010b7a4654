"""Mail tokens on demand: a Graph app-only token for a connection's app, from the shared
msal cache (onboarding.microsoft: one token request to Microsoft per credential per
token lifetime, however many processes and callers ask).

The client secret is decrypted here only to find (or, once per lifetime, fetch) the
token; it never leaves this module, and nothing here logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from api import memo
from api.connections import active_secrets
from onboarding import microsoft, vault
from onboarding.diagnosis import CATALOGUE, Diagnosis, diagnose
from onboarding.microsoft import MicrosoftError, http
from onboarding.models import AppRegistration, ClientSecret, Mailbox

# Every token handed out has at least this long left: a caller that uses it at once
# never sends an expired token. msal itself serves cached tokens only with 5 minutes
# left, so a fresh request is rare (a clock step, a token shorter-lived than that).
MIN_VALID_SECONDS = 300
_SECRETS = memo.Memo()


@dataclass(frozen=True)
class IssuedToken:
    access_token: str = field(repr=False)
    expires_at: datetime
    expires_in: int


class Unusable(Exception):
    """The portal cannot get a token with what it stores: the caller answers 409."""

    def __init__(self, diagnosis: Diagnosis, code: str) -> None:
        super().__init__(code)
        self.diagnosis = diagnosis
        self.code = code


class Unavailable(Exception):
    """Microsoft failed transiently (throttled, 5xx, unreachable): 503, try again."""

    def __init__(self, code: str, retry_after: float | None) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


def credential_for(
    mailbox: Mailbox, version: str | None = None
) -> tuple[AppRegistration, ClientSecret, str]:
    """The app, its active secret and that value of a mailbox's tenant, or Unusable.
    One query when the connection is usable (the secret with its app); none with the
    version of the connections when this process read it before (api/memo.py keeps the
    row, whose value is still decrypted on each call and never kept in plain text)."""

    def load() -> ClientSecret | None:
        return active_secrets(mailbox.tenant_id).select_related("app").first()

    secret = _SECRETS.get(mailbox.tenant_id, version, load) if version else load()
    if secret is None:
        if not AppRegistration.objects.filter(tenant_id=mailbox.tenant_id).exists():
            raise Unusable(CATALOGUE["app_missing"], "app_missing")
        raise Unusable(CATALOGUE["secret_missing"], "secret_missing")
    try:
        # The vault logs an alert naming the row (never the value) when this fails.
        return secret.app, secret, secret.reveal()
    except vault.DecryptionError:
        raise Unusable(CATALOGUE["secret_unreadable"], "secret_unreadable") from None


def issue(mailbox: Mailbox, version: str | None = None) -> IssuedToken:
    app, _, value = credential_for(mailbox, version)
    try:
        token = _acquire(app, value, fresh=False)
        if token.expires_in < MIN_VALID_SECONDS:
            token = _acquire(app, value, fresh=True)
    except MicrosoftError as exc:
        if exc.transient:
            raise Unavailable(exc.code, exc.retry_after) from None
        # Only the code goes on: Microsoft's message stays out of the API's answers.
        found = CATALOGUE.get(exc.code) or diagnose(exc.code, status=exc.status)
        raise Unusable(found, exc.code) from None
    now = timezone.now()
    return IssuedToken(
        access_token=token.access_token,
        expires_at=now + timedelta(seconds=token.expires_in),
        expires_in=token.expires_in,
    )


def _acquire(app: AppRegistration, value: str, *, fresh: bool) -> microsoft.AppToken:
    return microsoft.acquire_app_token(
        directory=app.directory, client_id=str(app.client_id), client_secret=value, fresh=fresh
    )


def graph_base_url() -> str:
    """Graph's v1.0 root in the configured cloud (the emulator's in development)."""
    return f"{http.endpoints().graph_url}/v1.0"
