"""A delegated Graph token for a connected mailbox, by its refresh token.

Microsoft returns a new refresh token with every refresh and expects it to be used
from then on; a refresh token left unused for 90 days ends (AADSTS700082). Every
refresh therefore stores the token it returns, in the same transaction as it reads the
one it sends, under a row lock (SELECT ... FOR UPDATE): two workers refreshing one
mailbox take turns, and the second sends the token the first stored. A refresh that
fails stores nothing, so the last good token stays.

Access tokens are not refreshed for every use: msal's token cache of the refresh, with
its refresh token taken out, is kept in the shared encrypted store (token_store) for
the access token's life, as app-only tokens are.
"""

from __future__ import annotations

import time
from typing import Any

import msal
from django.db import transaction
from django.utils import timezone

from onboarding import vault
from onboarding.microsoft import AppCredential, MicrosoftError, signin, token_store
from onboarding.microsoft.errors import DelegatedToken
from onboarding.models import AppRegistration, ClientSecret, MailboxSignIn
from onboarding.vendor import credential as vendor

# msal's own margin: a token with less than 5 minutes left counts as expired.
_MARGIN_SECONDS = 330


def secret_certificate(secret: ClientSecret) -> str:
    return secret.certificate_pem if secret.is_certificate else ""


def credential_for(app: AppRegistration) -> AppCredential:
    """The app's client ID and its active credential (the newest pending one during
    the first setup), or the vendor's certificate when the tenant uses the vendor's app.
    MicrosoftError "secret_missing" / "secret_unreadable" / "vendor_credential_..."."""
    if app.tenant.uses_vendor_app:
        return vendor.app_credential()
    live = (ClientSecret.Status.ACTIVE, ClientSecret.Status.PENDING)
    candidates = list(app.secrets.filter(status__in=live).order_by("-created_at"))
    active = [s for s in candidates if s.status == ClientSecret.Status.ACTIVE]
    secret = next(iter(active or candidates), None)
    if secret is None:
        raise MicrosoftError("secret_missing", "No active client secret is saved.")
    try:
        return AppCredential(str(app.client_id), secret.reveal(), secret_certificate(secret))
    except vault.DecryptionError:
        raise MicrosoftError(
            "secret_unreadable", "The saved client secret cannot be decrypted."
        ) from None


def _store_key(sign_in: MailboxSignIn) -> str:
    return token_store.credential_key("delegated", str(sign_in.pk), sign_in.home_account_id)


def delegated_token(
    sign_in: MailboxSignIn, credential: AppCredential, *, fresh: bool = False
) -> DelegatedToken:
    """A token for the mailbox's own account (scp: Mail.Read Mail.Send), from the shared
    cache while it has more than five minutes left, else by refresh. `fresh`: always
    ask Microsoft (a check someone asked for proves the sign-in as it is now)."""
    key = _store_key(sign_in)
    if not fresh and (cached := _cached(key, sign_in)) is not None:
        return cached
    with transaction.atomic():
        row = MailboxSignIn.objects.select_for_update().get(pk=sign_in.pk)
        if not fresh and (cached := _cached(key, row)) is not None:
            return cached  # another worker refreshed it while this one waited
        try:
            refresh_token = row.reveal_refresh_token()
        except vault.DecryptionError:
            raise MicrosoftError(
                "sign_in_unreadable", "The saved sign-in of this mailbox cannot be decrypted."
            ) from None
        result = signin.refresh(
            authority=row.authority,
            client_id=credential.client_id,
            client_secret=credential.secret,
            certificate=credential.certificate,
            refresh_token=refresh_token,
        )
        if result.refresh_token:
            row.set_refresh_token(result.refresh_token)
        row.refreshed_at = timezone.now()
        row.scopes = " ".join(sorted(result.scopes)) or row.scopes
        row.save(
            update_fields=[
                "refresh_token_ciphertext",
                "refresh_token_key_id",
                "refreshed_at",
                "scopes",
            ]
        )
    remember(row, result)
    return _token(result.access_token, result.expires_in, result.scopes, row)


def remember(sign_in: MailboxSignIn, result: signin.SignedIn) -> None:
    """Keep the access token for other processes, for its life minus msal's margin."""
    token_store.save(_store_key(sign_in), result.cache, result.expires_in - _MARGIN_SECONDS)


def forget(sign_in: MailboxSignIn) -> None:
    token_store.drop(_store_key(sign_in))


def _cached(key: str, sign_in: MailboxSignIn) -> DelegatedToken | None:
    stored = token_store.load(key)
    if not stored:
        return None
    cache = msal.SerializableTokenCache()
    cache.deserialize(stored)
    now = time.time()
    for item in cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN):
        left = int(_number(item.get("expires_on"))) - now
        if left > _MARGIN_SECONDS:
            target = str(item.get("target", "")).split()
            scopes = frozenset(s.rsplit("/", 1)[-1] for s in target)
            return _token(str(item["secret"]), int(left), scopes, sign_in, from_cache=True)
    return None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _token(
    access_token: str,
    expires_in: int,
    scopes: frozenset[str],
    sign_in: MailboxSignIn,
    *,
    from_cache: bool = False,
) -> DelegatedToken:
    # The scopes Microsoft said it granted (the token response's `scope`, kept by msal
    # as the cached token's target): a personal account's access token is not a JWT
    # a client could read, and Microsoft says clients must not parse tokens anyway.
    return DelegatedToken(
        access_token=access_token,
        expires_in=expires_in,
        scopes=scopes,
        username=sign_in.username,
        from_cache=from_cache,
    )
