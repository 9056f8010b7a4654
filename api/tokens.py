"""Mail tokens on demand: a Graph app-only token for a connection's app, from the shared
msal cache (onboarding.microsoft: one token request to Microsoft per credential per
token lifetime, however many processes and callers ask). A personal Outlook.com mailbox,
which app-only access never reaches, gets its owner's delegated token instead (by its
refresh token: onboarding.delegated.tokens), for Graph's /me.

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
from onboarding.delegated.tokens import delegated_token, secret_certificate
from onboarding.diagnosis import CATALOGUE, Diagnosis, diagnose, sign_in_diagnosis
from onboarding.microsoft import AppCredential, MicrosoftError, http
from onboarding.models import AppRegistration, ClientSecret, Mailbox, MailboxSignIn
from onboarding.vendor import credential as vendor
from onboarding.wizard.validators import is_personal_address

# Every token handed out has at least this long left: a caller that uses it at once
# never sends an expired token. msal itself serves cached tokens only with 5 minutes
# left, so a fresh request is rare (a clock step, a token shorter-lived than that).
MIN_VALID_SECONDS = 300
_SECRETS = memo.Memo()
_VENDOR = memo.Memo()


@dataclass(frozen=True)
class IssuedToken:
    access_token: str = field(repr=False)
    expires_at: datetime
    expires_in: int
    # "application" (app-only, Graph's /users/{upn}) or "delegated" (the owner's, /me).
    kind: str = "application"


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
) -> tuple[AppRegistration, ClientSecret | None, AppCredential]:
    """The app of a mailbox's tenant, its active secret (None with the vendor's app) and
    what msal signs in with, or Unusable. One query when the connection is usable (the
    secret with its app); none with the version of the connections when this process
    read it before (api/memo.py keeps the rows, whose secret is still decrypted on each
    call and never kept in plain text)."""

    def load() -> tuple[AppRegistration, ClientSecret | None] | None:
        secret = active_secrets(mailbox.tenant_id).select_related("app", "app__tenant").first()
        if secret is not None and not secret.app.tenant.uses_vendor_app:
            return secret.app, secret
        app = AppRegistration.objects.select_related("tenant").filter(tenant_id=mailbox.tenant_id)
        found = app.first()
        return (found, None) if found is not None else None

    rows = _SECRETS.get(mailbox.tenant_id, version, load) if version else load()
    if rows is None:
        raise Unusable(CATALOGUE["app_missing"], "app_missing")
    app, secret = rows
    if secret is None:
        if not app.tenant.uses_vendor_app:
            raise Unusable(CATALOGUE["secret_missing"], "secret_missing")
        in_use = _VENDOR.get("in_use", version, vendor.in_use) if version else vendor.in_use()
        try:
            return app, None, vendor.credential_of(in_use)
        except MicrosoftError as exc:
            raise Unusable(CATALOGUE[exc.code], exc.code) from None
    try:
        # The vault logs an alert naming the row (never the value) when this fails.
        value = secret.reveal()
    except vault.DecryptionError:
        raise Unusable(CATALOGUE["secret_unreadable"], "secret_unreadable") from None
    return app, secret, AppCredential(str(app.client_id), value, secret_certificate(secret))


def issue(mailbox: Mailbox, version: str | None = None) -> IssuedToken:
    app, _, credential = credential_for(mailbox, version)
    if is_personal_address(mailbox.sign_in_name):
        return _delegated(mailbox, credential)
    try:
        token = _acquire(app, credential, fresh=False)
        if token.expires_in < MIN_VALID_SECONDS:
            token = _acquire(app, credential, fresh=True)
    except MicrosoftError as exc:
        found = CATALOGUE.get(exc.code) or diagnose(exc.code, status=exc.status)
        raise _refused(exc, found) from None
    return _issued(token.access_token, token.expires_in, "application")


def _delegated(mailbox: Mailbox, credential: AppCredential) -> IssuedToken:
    sign_in = MailboxSignIn.objects.filter(mailbox=mailbox).first()
    if sign_in is None:
        raise Unusable(CATALOGUE["sign_in_missing"], "sign_in_missing")
    try:
        token = delegated_token(sign_in, credential)
        if token.expires_in < MIN_VALID_SECONDS:
            token = delegated_token(sign_in, credential, fresh=True)
    except MicrosoftError as exc:
        raise _refused(exc, CATALOGUE.get(exc.code) or sign_in_diagnosis(exc.code)) from None
    return _issued(token.access_token, token.expires_in, "delegated")


def _refused(exc: MicrosoftError, found: Diagnosis) -> Exception:
    if exc.transient:
        return Unavailable(exc.code, exc.retry_after)
    # Only the code goes on: Microsoft's message stays out of the API's answers.
    return Unusable(found, exc.code)


def _issued(access_token: str, expires_in: int, kind: str) -> IssuedToken:
    return IssuedToken(
        access_token=access_token,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        expires_in=expires_in,
        kind=kind,
    )


def _acquire(app: AppRegistration, credential: AppCredential, *, fresh: bool) -> microsoft.AppToken:
    return microsoft.acquire_app_token(
        directory=app.directory,
        client_id=credential.client_id,
        client_secret=credential.secret,
        fresh=fresh,
        certificate=credential.certificate,
    )


def graph_base_url() -> str:
    """Graph's v1.0 root in the configured cloud (the emulator's in development)."""
    return f"{http.endpoints().graph_url}/v1.0"
