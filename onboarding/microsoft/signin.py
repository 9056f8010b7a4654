"""The mailbox owner's own sign-in (delegated access): the authorization code flow with
PKCE and the refresh token grant, both through msal's ConfidentialClientApplication
with the customer's app and its client secret.

Microsoft supports this where the guide's password (ROPC) fails: personal Outlook.com
accounts (authority `consumers`), MFA and Conditional Access (entra-docs
v2-oauth2-auth-code-flow.md, v2-oauth-ropc.md). msal adds `openid profile
offline_access` to the scopes, makes the PKCE verifier, the state and the nonce, and
checks the state and the ID token's nonce when the code comes back.

An msal app here is made for one call and dropped, so that no refresh token stays in
a process's memory: the caller stores the one Microsoft returns (onboarding.delegated).
What msal would fetch again each time (the authority's OpenID configuration), and its
throttling state, are kept in one `http_cache` per process (http.msal_http_cache), as
msal documents for that purpose.
"""

from __future__ import annotations

import base64
import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import msal

from onboarding.microsoft import http
from onboarding.microsoft.identity import _msal_call, _msal_failure, _new_app

# The delegated Graph permissions of a connected mailbox: read the inbox, send mail, and
# read the signed-in account's own profile (Graph's /me needs User.Read), by which the
# callback proves that the account is the mailbox's.
SCOPES = ("Mail.Read", "Mail.Send", "User.Read")
# The consumer directory's fixed id: a personal account's `tid` (entra-docs
# id-token-claims-reference.md).
CONSUMERS_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

_MAX_HTTP_CACHE = 1000


@dataclass(frozen=True)
class SignedIn:
    """What Microsoft returned for a code or a refresh token. Never logged whole."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    scopes: frozenset[str]
    # From the ID token (code redemption only; a refresh may not return one).
    oid: str = ""
    tid: str = ""
    username: str = ""
    # msal's home account id: client_info's uid.utid.
    home_account_id: str = ""
    # msal's token cache after the call, its refresh token taken out (tokens.remember).
    cache: str = field(default="", repr=False)


def graph_scopes(names: tuple[str, ...] = SCOPES) -> list[str]:
    graph = http.endpoints().graph_url
    return [f"{graph}/{name}" for name in names]


def _app(authority: str, client_id: str, client_secret: str | None, certificate: str) -> Any:
    """`certificate`: a certificate credential's public PEM (`client_secret` is then its
    private key), or "". No `client_secret`: a public client (PKCE alone)."""
    if len(http.msal_http_cache) > _MAX_HTTP_CACHE:  # it holds throttling entries too
        http.msal_http_cache.clear()
    return _new_app(
        http.endpoints(),
        authority,
        client_id,
        client_secret,
        http_cache=http.msal_http_cache,
        certificate=certificate,
    )


def start(
    *,
    authority: str,
    client_id: str,
    client_secret: str | None,
    redirect_uri: str,
    login_hint: str,
    certificate: str = "",
    scopes: tuple[str, ...] = SCOPES,
    select_account: bool = True,
) -> dict[str, Any]:
    """msal's auth code flow: a dict with `auth_uri` (where to send the browser), and the
    state, nonce and PKCE verifier that the callback needs. JSON, for the session.
    `select_account`: let the person pick the account (else Microsoft signs in the one
    already signed in there, with no page)."""
    app = _app(authority, client_id, client_secret, certificate)
    with warnings.catch_warnings():
        # msal recommends form_post (RFC 9700 4.3.1: no code in the URL). It comes back
        # as a cross-site POST, which carries no SameSite=Lax session cookie, and the
        # state is bound to the session; the code in the query is single-use and bound
        # to the PKCE verifier, and the callback answers with a redirect at once.
        warnings.filterwarnings("ignore", "response_mode='form_post' is recommended")
        flow: dict[str, Any] = app.initiate_auth_code_flow(
            graph_scopes(scopes),
            redirect_uri=redirect_uri,
            # The owner picks the account: a browser signed in as an admin must not
            # connect the admin's own mailbox by accident.
            prompt=msal.Prompt.SELECT_ACCOUNT if select_account else None,
            login_hint=login_hint or None,
        )
    return flow


class FlowRejected(Exception):
    """msal refused the callback (state or nonce mismatch): change nothing."""


def finish(
    *,
    authority: str,
    client_id: str,
    client_secret: str | None,
    flow: dict[str, Any],
    auth_response: dict[str, str],
    certificate: str = "",
) -> SignedIn:
    """Redeem the code (with the PKCE verifier) for tokens. Raises FlowRejected when msal
    finds the state or nonce wrong, MicrosoftError for Microsoft's own answers (among
    them the error the callback brought: access_denied, consent_required)."""
    app = _app(authority, client_id, client_secret, certificate)
    endpoints = http.endpoints()
    session = http.session(endpoints)
    session.observed.response = None
    try:
        result = app.acquire_token_by_auth_code_flow(dict(flow), auth_response)
    except Exception as exc:
        last = session.last_response()
        # msal raises ValueError for a state or nonce that does not match (CSRF, a
        # replay); a throttled answer in plain text fails its JSON decoding the same way.
        if isinstance(exc, ValueError) and not http.is_transient(last):
            raise FlowRejected from None
        raise _msal_failure(endpoints, last, exc) from None
    if not isinstance(result, dict) or "access_token" not in result:
        raise http.login_error(result or {}, session.last_response())
    return _signed_in(result, app)


def refresh(
    *,
    authority: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    certificate: str = "",
) -> SignedIn:
    """A new access token and the new refresh token Microsoft returns with it (it
    rotates them). Microsoft's refusals (AADSTS50173, 700082, 65001, 50076...) come as
    MicrosoftError; a 429 in plain text or a 5xx is transient, as for app tokens."""
    app = _app(authority, client_id, client_secret, certificate)
    endpoints = http.endpoints()
    result = _msal_call(
        endpoints, lambda: app.acquire_token_by_refresh_token(refresh_token, graph_scopes())
    )
    return _signed_in(result, app)


def _signed_in(result: dict[str, Any], app: Any) -> SignedIn:
    claims = result.get("id_token_claims") or {}
    granted = str(result.get("scope", "")).split()
    return SignedIn(
        access_token=str(result["access_token"]),
        refresh_token=str(result.get("refresh_token") or ""),
        expires_in=int(result.get("expires_in", 0)),
        scopes=frozenset(s.rsplit("/", 1)[-1] for s in granted),
        oid=str(claims.get("oid", "")),
        tid=str(claims.get("tid", "")),
        username=str(claims.get("preferred_username", "")),
        home_account_id=_home_account_id(str(result.get("client_info") or "")),
        cache=_without_refresh_tokens(app.token_cache),
    )


def _without_refresh_tokens(cache: Any) -> str:
    """msal's cache serialized with its access and ID tokens only: the refresh token
    lives in the vault alone (onboarding.delegated.tokens)."""
    for item in list(cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)):
        cache.remove_rt(item)
    return str(cache.serialize())


def _home_account_id(client_info: str) -> str:
    """uid.utid, as msal names an account (client_info is base64url JSON)."""
    if not client_info:
        return ""
    try:
        padded = client_info + "=" * (-len(client_info) % 4)
        info = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        return ""
    return f"{info.get('uid', '')}.{info.get('utid', '')}" if isinstance(info, dict) else ""
