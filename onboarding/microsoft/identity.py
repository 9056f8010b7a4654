"""Signing in to the Microsoft identity platform through msal: directory discovery,
the admin consent URL, app-only tokens and the legacy password sign-in.

Each credential keeps one msal application per process (its token cache and throttling
state are reused), and its token cache is shared by every worker process through
onboarding.microsoft.token_store: one token request per credential per token lifetime.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from xml.etree import ElementTree

import jwt
import msal
import requests

from onboarding.microsoft import http, token_store
from onboarding.microsoft.errors import AppToken, DelegatedToken, MicrosoftError

# Directory IDs are GUIDs or DNS names; anything else never reaches a URL path.
_DIRECTORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
_MAX_APPS = 512
# msal treats a token with less than 5 minutes left as expired; a little more here, so a
# token counted fresh is always one msal still serves from its cache.
_EXPIRY_MARGIN_SECONDS = 330


@dataclass
class _Credential:
    """One msal application and what this process knows about its app-only token."""

    app: Any
    store_key: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    fresh_until: float = 0.0
    # The last token and its roles, replaced as one tuple (threads read it unlocked).
    roles: tuple[str, frozenset[str]] = ("", frozenset())


_lock = threading.Lock()
_apps: OrderedDict[tuple[str, ...], _Credential] = OrderedDict()
_building: dict[tuple[str, ...], threading.Lock] = {}


def forget_clients() -> None:
    """Drop the cached msal apps and sessions (after a settings change, and in tests)."""
    with _lock:
        _apps.clear()
        _building.clear()
    http.forget_sessions()


def _authority(endpoints: http.Endpoints, directory: str) -> str:
    _check_directory(directory)
    return f"{endpoints.login_url}/{directory}"


def _check_directory(directory: str) -> None:
    if not _DIRECTORY.match(directory):
        raise MicrosoftError(
            "AADSTS900023",
            f"Specified tenant identifier '{directory[:100]}' is neither a valid DNS name, "
            "nor a valid external domain.",
        )


def _app(endpoints: http.Endpoints, directory: str, client_id: str, secret: str | None) -> Any:
    return _credential(endpoints, directory, client_id, secret).app


def _credential(
    endpoints: http.Endpoints,
    directory: str,
    client_id: str,
    secret: str | None,
    certificate: str = "",
) -> _Credential:
    """One msal app per (cloud, directory, client ID, credential fingerprint), kept so
    that its token cache and throttling state are reused; a public client when no
    secret. With `certificate` (its public PEM), `secret` is its private key."""
    fingerprint = ""
    if secret is not None:
        fingerprint = hashlib.sha256(f"{secret}\x00{certificate}".encode()).hexdigest()
    key = (repr(endpoints), directory.lower(), client_id.lower(), fingerprint)
    with _lock:
        if key in _apps:
            _apps.move_to_end(key)
            return _apps[key]
        building = _building.setdefault(key, threading.Lock())
    # One thread builds it (msal runs discovery over the network); the others wait for it.
    with building:
        with _lock:
            if key in _apps:
                return _apps[key]
        try:
            app = _new_app(endpoints, directory, client_id, secret, certificate=certificate)
            credential = _Credential(app, token_store.credential_key(*key))
            with _lock:
                _apps[key] = credential
                while len(_apps) > _MAX_APPS:
                    _apps.popitem(last=False)
        finally:
            with _lock:
                _building.pop(key, None)
    return credential


def _new_app(
    endpoints: http.Endpoints,
    directory: str,
    client_id: str,
    secret: str | None,
    *,
    http_cache: dict[Any, Any] | None = None,
    certificate: str = "",
) -> Any:
    """A new msal app with an empty token cache; `http_cache`: msal's store of what it
    fetched (discovery) and of throttled answers, for apps made per call. With
    `certificate`, `secret` is its private key: msal signs a client assertion with it,
    PS256 with the x5t#S256 thumbprint it computes from the certificate (msal 1.35+)."""
    session = http.session(endpoints)
    options = {
        "authority": _authority(endpoints, directory),
        "http_client": session,
        "instance_discovery": False,
        "token_cache": msal.SerializableTokenCache(),
        "http_cache": http_cache,
    }
    session.observed.response = None
    try:  # msal runs OIDC discovery over the network here
        if secret is None:
            app: Any = msal.PublicClientApplication(client_id, **options)
        else:
            credential: Any = secret
            if certificate:
                credential = {"private_key": secret, "public_certificate": certificate}
            app = msal.ConfidentialClientApplication(
                client_id, client_credential=credential, **options
            )
    except requests.HTTPError as exc:
        raise http.http_error(exc.response, str(exc)) from None
    except (requests.RequestException, OSError) as exc:
        raise http.unreachable(endpoints.login_url, exc) from None
    except ValueError:
        # A throttled or failing discovery (msal calls any 4xx a bad tenant): transient.
        if http.is_transient(session.last_response()):
            raise http.http_error(session.last_response(), "") from None
        # msal hides the tenant error behind a generic ValueError: ask discovery again,
        # which raises the precise MicrosoftError (AADSTS90002, 900023, unreachable).
        discover_directory(directory)
        raise MicrosoftError("invalid_authority", "Microsoft refused the directory.") from None
    session.observe(app.http_client)
    return app


# --- directory and consent ---------------------------------------------------------


def discover_directory(directory: str) -> str:
    """Resolve a directory (GUID or verified domain) to its tenant GUID via OIDC discovery.

    Raises MicrosoftError with code AADSTS90002 (not found), AADSTS900023 (malformed) or
    a transient error when Microsoft cannot be reached.
    """
    endpoints = http.endpoints()
    url = f"{_authority(endpoints, directory)}/v2.0/.well-known/openid-configuration"
    try:
        response = http.session(endpoints).get(url, headers={"Accept": "application/json"})
    except (requests.RequestException, OSError) as exc:
        raise http.unreachable(url, exc) from None
    if response.status_code != 200:
        raise http.login_error(http.json_body(response), response)
    token_endpoint = str(http.json_body(response).get("token_endpoint", ""))
    tenant = urlsplit(token_endpoint).path.strip("/").split("/")[0]
    if not tenant:
        raise MicrosoftError("invalid_discovery", "The discovery document has no token endpoint.")
    return tenant


def admin_consent_url(*, directory: str, client_id: str, redirect_uri: str, state: str) -> str:
    """The v2 URL: {login}/{directory}/v2.0/adminconsent?client_id&scope&redirect_uri&state."""
    endpoints = http.endpoints()
    _check_directory(directory)
    query = urlencode(
        {
            "client_id": client_id,
            "scope": f"{endpoints.graph_url}/.default",
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{endpoints.login_url}/{quote(directory)}/v2.0/adminconsent?{query}"


# --- tokens ----------------------------------------------------------------------


def acquire_app_token(
    *,
    directory: str,
    client_id: str,
    client_secret: str,
    fresh: bool = False,
    certificate: str = "",
) -> AppToken:
    """An app-only Graph token (client credentials), from msal's cache while it is fresh.
    With `certificate` (a certificate credential's public PEM), `client_secret` is its
    private key.

    Succeeds without admin consent too (the token then has no roles): look at `roles`.
    `fresh`: drop the cached token and ask Microsoft, whose new token carries the
    permissions as they are now (a cached one keeps those of when it was issued).
    """
    endpoints = http.endpoints()
    credential = _credential(endpoints, directory, client_id, client_secret, certificate)
    scope = [f"{endpoints.graph_url}/.default"]
    if not fresh and time.time() < credential.fresh_until:  # msal answers from its cache
        result = _msal_call(endpoints, lambda: credential.app.acquire_token_for_client(scope))
    else:
        # One thread of this process, and one process of all, asks Microsoft; the others
        # wait and then read the token it stored.
        with credential.lock, token_store.fetch_lock(credential.store_key):
            result = _shared_app_token(endpoints, credential, scope, fresh=fresh)
    token = str(result["access_token"])
    if credential.roles[0] != token:  # read each token's roles once, not on every check
        credential.roles = (token, token_roles(token))
    return AppToken(
        access_token=token,
        expires_in=int(result.get("expires_in", 0)),
        roles=credential.roles[1],
        from_cache=result.get("token_source") == "cache",
    )


def _shared_app_token(
    endpoints: http.Endpoints, credential: _Credential, scope: list[str], *, fresh: bool
) -> dict[str, Any]:
    """acquire_token_for_client with the token cache shared by every process: read the
    stored cache first, store it again when msal had to ask Microsoft."""
    if fresh:
        # msal refuses force_refresh for client credentials: empty its cache instead.
        credential.app.token_cache.deserialize(None)
        credential.fresh_until = 0.0
    elif time.time() >= credential.fresh_until:  # no other thread refreshed it meanwhile
        stored = token_store.load(credential.store_key)
        if stored:
            credential.app.token_cache.deserialize(stored)
    result = _msal_call(endpoints, lambda: credential.app.acquire_token_for_client(scope))
    lifetime = int(result.get("expires_in", 0)) - _EXPIRY_MARGIN_SECONDS
    if result.get("token_source") != "cache":
        token_store.save(credential.store_key, credential.app.token_cache.serialize(), lifetime)
    credential.fresh_until = time.time() + lifetime
    return result


def sign_in_with_password(
    *,
    directory: str,
    client_id: str,
    username: str,
    password: str,
    scopes: tuple[str, ...] = ("Mail.Read",),
) -> DelegatedToken:
    """A delegated Graph token from the mailbox password (ROPC, public client flows).

    `scopes` are Graph permission names. Fails with AADSTS50126 (wrong password),
    AADSTS50076 (MFA), AADSTS65001 (no consent), AADSTS7000218 (public client flows
    off), "personal_account" (Outlook.com accounts cannot use a password here) or
    "federated_domain" (the account signs in at its organisation's own identity
    provider, such as AD FS): for those two the password is never sent.
    """
    endpoints = http.endpoints()
    _check_realm(endpoints, username)
    app = _app(endpoints, directory, client_id, None)
    wanted = [f"{endpoints.graph_url}/{name}" for name in scopes]
    result = _msal_call(
        endpoints, lambda: app.acquire_token_by_username_password(username, password, wanted)
    )
    granted = str(result.get("scope", "")).split()
    return DelegatedToken(
        access_token=str(result["access_token"]),
        expires_in=int(result.get("expires_in", 0)),
        scopes=frozenset(s.rsplit("/", 1)[-1] for s in granted),
        username=username,
    )


def _check_realm(endpoints: http.Endpoints, username: str) -> None:
    """Ask Microsoft's user realm what kind of account this is, as msal does before it
    sends a password, and refuse a federated one before msal takes the password to it.

    For a federated realm msal fetches the MEX document the realm names and posts the
    password there, over WS-Trust: to a customer's AD FS (whose refusal msal raises as a
    RuntimeError) or, for Outlook.com, to login.live.com. Microsoft does not support ROPC
    for federated users (entra-docs v2-oauth-ropc.md). A realm that cannot be read says
    nothing: msal asks again and decides.
    """
    url = f"{endpoints.login_url}/common/userrealm/{quote(username, safe='@')}"
    try:
        response = http.session(endpoints).get(
            url, params={"api-version": "1.0"}, headers={"Accept": "application/json"}
        )
    except (requests.RequestException, OSError) as exc:
        raise http.unreachable(url, exc) from None
    if http.is_transient(response):
        raise http.http_error(response, "")
    realm = http.json_body(response) if response.status_code == 200 else {}
    if str(realm.get("account_type", "")).lower() != "federated":
        return
    # Outlook.com's realm names live.com (Gerenios/AADInternals Get-AADIntLoginInformation).
    if str(realm.get("domain_name", "")).lower() == "live.com":
        raise _personal_account()
    raise _federated(str(realm.get("domain_name", "")) or username.rpartition("@")[2])


def token_roles(access_token: str) -> frozenset[str]:
    """The `roles` claim, read WITHOUT verifying the token: for diagnostics only."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return frozenset()
    roles = claims.get("roles", [])
    return frozenset(str(role) for role in roles) if isinstance(roles, list) else frozenset()


def _msal_call(endpoints: http.Endpoints, call: Any) -> dict[str, Any]:
    """Run one msal call; turn every way it can fail into a MicrosoftError.

    The last HTTP status decides first: Microsoft throttles with a 429 whose body is
    plain text, on which msal fails decoding JSON (a ValueError), and a 5xx makes msal
    raise. Either is transient, with Retry-After, whatever the body; only then is the
    body (or msal's exception) read."""
    session = http.session(endpoints)
    session.observed.response = None
    try:
        result = call()
    except Exception as exc:  # every failure leaves this package as a MicrosoftError
        raise _msal_failure(endpoints, session.last_response(), exc) from None
    if not isinstance(result, dict) or "access_token" not in result:
        raise http.login_error(result or {}, session.last_response())
    return result


def _msal_failure(endpoints: http.Endpoints, last: Any, exc: Exception) -> MicrosoftError:
    if http.is_transient(last):
        return http.http_error(last, "")
    if isinstance(exc, requests.HTTPError):
        return http.http_error(exc.response, str(exc))
    if isinstance(exc, (requests.RequestException, OSError)):
        return http.unreachable(endpoints.login_url, exc)
    if isinstance(exc, msal.exceptions.MsalServiceError):
        return http.http_error(last, str(exc))
    text = str(exc)
    if isinstance(exc, ValueError) and "MEX" in text:
        return _personal_account()
    # msal's WS-Trust route (a federated realm): the customer's AD FS refused the
    # password (RuntimeError, msal wstrust_response.py) or sent no usable XML.
    if isinstance(exc, ElementTree.ParseError) or "wstrust" in text.lower() or "RSTR" in text:
        return _federated("")
    # Never the exception's text: it may quote a response, or worse.
    return MicrosoftError("unexpected", f"msal failed with {type(exc).__name__}.")


def _personal_account() -> MicrosoftError:
    return MicrosoftError(
        "personal_account",
        "Personal Microsoft accounts (Outlook.com) cannot sign in with a password here.",
    )


def _federated(domain: str | None) -> MicrosoftError:
    return MicrosoftError(
        "federated_domain",
        f"The domain {domain or 'of this account'} is federated: its sign-ins go to the "
        "organisation's own identity provider (such as AD FS), where a password sign-in "
        "cannot go.",
    )
