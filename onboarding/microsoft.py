"""The ONLY module that talks to Microsoft (identity platform through msal, and Graph).

Only three settings differ between the real cloud and the local emulator:
MICROSOFT_LOGIN_URL, MICROSOFT_GRAPH_URL and MICROSOFT_CA_BUNDLE. Every failure leaves
this module as a MicrosoftError, which never carries a secret.

Each credential keeps one msal application per process (its token cache and throttling
state are reused), and its token cache is shared by every worker process through
onboarding.token_store: one token request per credential per token lifetime.

msal gets its own requests.Session: with trust_env off (REQUESTS_CA_BUNDLE and
CURL_CA_BUNDLE would otherwise override `verify`), the configured CA bundle, proxies
still read from the environment, and the login port restored on the user-realm lookup
msal sends without it. Against the real cloud (port 443) that last fix does nothing.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import jwt
import msal
import requests
from django.conf import settings
from requests.utils import get_environ_proxies

from onboarding import token_store

# Directory IDs are GUIDs or DNS names; anything else never reaches a URL path.
_DIRECTORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
_MAX_APPS = 512
# msal treats a token with less than 5 minutes left as expired; a little more here, so a
# token counted fresh is always one msal still serves from its cache.
_EXPIRY_MARGIN_SECONDS = 330


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
class AppToken:
    """An app-only Graph token. `roles` is read from the token for diagnostics only."""

    access_token: str = field(repr=False)
    expires_in: int
    roles: frozenset[str]
    from_cache: bool


@dataclass(frozen=True)
class DelegatedToken:
    """A token for one user, from a password sign-in; `scopes` as Microsoft granted them."""

    access_token: str = field(repr=False)
    expires_in: int
    scopes: frozenset[str]
    username: str


@dataclass(frozen=True)
class InboxMessage:
    id: str
    subject: str
    received_at: datetime | None


@dataclass(frozen=True)
class SecretInfo:
    """One client secret as Graph describes it: never its value."""

    secret_id: str
    hint: str
    display_name: str
    starts_at: datetime | None
    expires_at: datetime | None


# --- configuration and HTTP --------------------------------------------------------


@dataclass(frozen=True)
class _Endpoints:
    login_url: str
    graph_url: str
    ca_bundle: str
    timeout: float


def _endpoints() -> _Endpoints:
    return _Endpoints(
        settings.MICROSOFT_LOGIN_URL.rstrip("/"),
        settings.MICROSOFT_GRAPH_URL.rstrip("/"),
        settings.MICROSOFT_CA_BUNDLE,
        float(settings.MICROSOFT_HTTP_TIMEOUT),
    )


POOL_SIZE = 32


class _Session(requests.Session):
    """The HTTP client for msal and Graph; remembers each thread's last response."""

    def __init__(self, endpoints: _Endpoints) -> None:
        super().__init__()
        self.trust_env = False
        self.verify = endpoints.ca_bundle or True
        self.timeout = endpoints.timeout
        login = urlsplit(endpoints.login_url)
        self.login_host, self.login_port = login.hostname, login.port
        self.observed = threading.local()
        self.proxies_by_host: dict[str, dict[str, str]] = {}
        # A pool at least as large as a worker's threads: a dropped connection costs a
        # new TLS handshake on the next call (requests keeps only 10 by default).
        self.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        url = self.with_login_port(str(url))
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("proxies", self.proxies_for(url))
        self.observed.response = None
        response = super().request(method, url, *args, **kwargs)
        self.observed.response = response
        return response

    def proxies_for(self, url: str) -> dict[str, str]:
        """The environment's proxies for this host, read once per host: reading them
        walks the whole environment, on every request otherwise."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self.proxies_by_host:
            self.proxies_by_host[host] = get_environ_proxies(host)
        return self.proxies_by_host[host]

    def with_login_port(self, url: str) -> str:
        """msal drops the port from the ROPC user-realm URL; put the login port back."""
        parts = urlsplit(url)
        if self.login_port and parts.hostname == self.login_host and parts.port is None:
            return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{self.login_port}"))
        return url

    def last_response(self) -> requests.Response | None:
        return getattr(self.observed, "response", None)


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
_sessions: dict[_Endpoints, _Session] = {}
_apps: OrderedDict[tuple[str, ...], _Credential] = OrderedDict()
_building: dict[tuple[str, ...], threading.Lock] = {}


def _session(endpoints: _Endpoints) -> _Session:
    with _lock:
        if endpoints not in _sessions:
            _sessions[endpoints] = _Session(endpoints)
        return _sessions[endpoints]


def forget_clients() -> None:
    """Drop the cached msal apps and sessions (after a settings change, and in tests)."""
    with _lock:
        _apps.clear()
        _building.clear()
        for session in _sessions.values():
            session.close()
        _sessions.clear()


def _authority(endpoints: _Endpoints, directory: str) -> str:
    _check_directory(directory)
    return f"{endpoints.login_url}/{directory}"


def _check_directory(directory: str) -> None:
    if not _DIRECTORY.match(directory):
        raise MicrosoftError(
            "AADSTS900023",
            f"Specified tenant identifier '{directory[:100]}' is neither a valid DNS name, "
            "nor a valid external domain.",
        )


def _app(endpoints: _Endpoints, directory: str, client_id: str, secret: str | None) -> Any:
    return _credential(endpoints, directory, client_id, secret).app


def _credential(
    endpoints: _Endpoints, directory: str, client_id: str, secret: str | None
) -> _Credential:
    """One msal app per (cloud, directory, client ID, secret fingerprint), kept so that
    its token cache and throttling state are reused; a public client when no secret."""
    fingerprint = hashlib.sha256(secret.encode()).hexdigest() if secret is not None else ""
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
            app = _new_app(endpoints, directory, client_id, secret)
            credential = _Credential(app, token_store.credential_key(*key))
            with _lock:
                _apps[key] = credential
                while len(_apps) > _MAX_APPS:
                    _apps.popitem(last=False)
        finally:
            with _lock:
                _building.pop(key, None)
    return credential


def _new_app(endpoints: _Endpoints, directory: str, client_id: str, secret: str | None) -> Any:
    options = {
        "authority": _authority(endpoints, directory),
        "http_client": _session(endpoints),
        "instance_discovery": False,
        "token_cache": msal.SerializableTokenCache(),
    }
    try:  # msal runs OIDC discovery over the network here
        if secret is None:
            app: Any = msal.PublicClientApplication(client_id, **options)
        else:
            app = msal.ConfidentialClientApplication(client_id, client_credential=secret, **options)
    except requests.HTTPError as exc:
        raise _http_error(exc.response, str(exc)) from None
    except (requests.RequestException, OSError) as exc:
        raise _unreachable(endpoints.login_url, exc) from None
    except ValueError:
        # msal hides the tenant error behind a generic ValueError: ask discovery again,
        # which raises the precise MicrosoftError (AADSTS90002, 900023, unreachable).
        discover_directory(directory)
        raise MicrosoftError("invalid_authority", "Microsoft refused the directory.") from None
    return app


def _unreachable(url: str, exc: BaseException) -> MicrosoftError:
    host = urlsplit(url).netloc
    return MicrosoftError(
        "unreachable", f"Could not reach {host} ({type(exc).__name__}).", transient=True
    )


# --- directory and consent ---------------------------------------------------------


def discover_directory(directory: str) -> str:
    """Resolve a directory (GUID or verified domain) to its tenant GUID via OIDC discovery.

    Raises MicrosoftError with code AADSTS90002 (not found), AADSTS900023 (malformed) or
    a transient error when Microsoft cannot be reached.
    """
    endpoints = _endpoints()
    url = f"{_authority(endpoints, directory)}/v2.0/.well-known/openid-configuration"
    try:
        response = _session(endpoints).get(url, headers={"Accept": "application/json"})
    except (requests.RequestException, OSError) as exc:
        raise _unreachable(url, exc) from None
    if response.status_code != 200:
        raise _login_error(_json(response), response)
    token_endpoint = str(_json(response).get("token_endpoint", ""))
    tenant = urlsplit(token_endpoint).path.strip("/").split("/")[0]
    if not tenant:
        raise MicrosoftError("invalid_discovery", "The discovery document has no token endpoint.")
    return tenant


def admin_consent_url(*, directory: str, client_id: str, redirect_uri: str, state: str) -> str:
    """The v2 URL: {login}/{directory}/v2.0/adminconsent?client_id&scope&redirect_uri&state."""
    endpoints = _endpoints()
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
    *, directory: str, client_id: str, client_secret: str, fresh: bool = False
) -> AppToken:
    """An app-only Graph token (client credentials), from msal's cache while it is fresh.

    Succeeds without admin consent too (the token then has no roles): look at `roles`.
    `fresh`: drop the cached token and ask Microsoft, whose new token carries the
    permissions as they are now (a cached one keeps those of when it was issued).
    """
    endpoints = _endpoints()
    credential = _credential(endpoints, directory, client_id, client_secret)
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
    endpoints: _Endpoints, credential: _Credential, scope: list[str], *, fresh: bool
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
    off) or "personal_account" (Outlook.com accounts cannot use a password here).
    """
    endpoints = _endpoints()
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


def token_roles(access_token: str) -> frozenset[str]:
    """The `roles` claim, read WITHOUT verifying the token: for diagnostics only."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return frozenset()
    roles = claims.get("roles", [])
    return frozenset(str(role) for role in roles) if isinstance(roles, list) else frozenset()


def _msal_call(endpoints: _Endpoints, call: Any) -> dict[str, Any]:
    """Run one msal call; turn every way it can fail into a MicrosoftError."""
    session = _session(endpoints)
    session.observed.response = None
    try:
        result = call()
    except (requests.RequestException, OSError) as exc:
        raise _unreachable(endpoints.login_url, exc) from None
    except msal.exceptions.MsalServiceError as exc:
        raise _http_error(session.last_response(), str(exc)) from None
    except ValueError as exc:
        if "MEX" in str(exc) or "wstrust" in str(exc).lower():
            raise MicrosoftError(
                "personal_account",
                "Personal Microsoft accounts (Outlook.com) cannot sign in with a password here.",
            ) from None
        raise MicrosoftError("unexpected", type(exc).__name__) from None
    if not isinstance(result, dict) or "access_token" not in result:
        raise _login_error(result or {}, session.last_response())
    return result


def _http_error(response: requests.Response | None, text: str) -> MicrosoftError:
    match = re.search(r"\b([45]\d\d)\b", text)
    status = response.status_code if response is not None else int(match[1]) if match else None
    return MicrosoftError(
        f"http_{status}" if status else "unexpected",
        f"Microsoft answered HTTP {status}." if status else "Microsoft gave no usable answer.",
        status=status,
        transient=status is None or status == 429 or status >= 500,
        retry_after=_retry_after(response),
    )


def _login_error(body: dict[str, Any], response: requests.Response | None) -> MicrosoftError:
    """A token or discovery error in Microsoft's JSON shape as a MicrosoftError."""
    codes = body.get("error_codes") or []
    error = str(body.get("error") or "unknown_error")
    description = str(body.get("error_description") or error)
    status = response.status_code if response is not None else None
    if not codes and status is not None and (status == 429 or status >= 500):
        return _http_error(response, "")
    return MicrosoftError(
        f"AADSTS{codes[0]}" if codes else error,
        description.splitlines()[0].strip(),
        status=status,
        correlation_id=str(body.get("correlation_id", "")),
        transient=error in ("temporarily_unavailable", "server_error")
        or (status is not None and (status == 429 or status >= 500)),
        retry_after=_retry_after(response),
    )


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After", "") if response is not None else ""
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- Graph -----------------------------------------------------------------------


def read_inbox(*, access_token: str, mailbox: str) -> InboxMessage | None:
    """The newest inbox message (top 1), or None for an empty inbox.

    `mailbox` is a UPN or user ID, or "me" with a delegated token. Needs Mail.Read.
    """
    response = _graph(
        "GET",
        f"{_user_path(mailbox)}/mailFolders/inbox/messages",
        access_token,
        params={"$top": "1", "$select": "id,subject,receivedDateTime"},
    )
    messages = _json(response).get("value") or []
    if not messages:
        return None
    first = messages[0]
    return InboxMessage(
        id=str(first.get("id", "")),
        subject=str(first.get("subject", "")),
        received_at=_parse_time(first.get("receivedDateTime")),
    )


def send_test_message(*, access_token: str, mailbox: str, to: str, subject: str, body: str) -> None:
    """Send a plain-text message from `mailbox` (not kept in Sent Items). Needs Mail.Send.

    Graph answers 202: accepted for delivery, not delivered yet.
    """
    message = {
        "message": {
            "subject": subject,
            "body": {"contentType": "Text", "content": body},
            "toRecipients": [{"emailAddress": {"address": to}}],
        },
        "saveToSentItems": False,
    }
    _graph("POST", f"{_user_path(mailbox)}/sendMail", access_token, json=message)


def read_app_secrets(*, access_token: str, client_id: str) -> list[SecretInfo]:
    """The app's client secrets (ID, hint, expiry). Needs Application.Read.All."""
    response = _graph(
        "GET",
        f"/applications(appId='{quote(client_id, safe='')}')",
        access_token,
        params={"$select": "displayName,passwordCredentials"},
    )
    return [
        SecretInfo(
            secret_id=str(item.get("keyId", "")),
            hint=str(item.get("hint") or ""),
            display_name=str(item.get("displayName") or ""),
            starts_at=_parse_time(item.get("startDateTime")),
            expires_at=_parse_time(item.get("endDateTime")),
        )
        for item in _json(response).get("passwordCredentials") or []
    ]


def _user_path(mailbox: str) -> str:
    return "/me" if mailbox == "me" else f"/users/{quote(mailbox, safe='@')}"


def _graph(method: str, path: str, access_token: str, **kwargs: Any) -> requests.Response:
    endpoints = _endpoints()
    url = f"{endpoints.graph_url}/v1.0{path}"
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json",
        "client-request-id": str(uuid.uuid4()),
    }
    try:
        response = _session(endpoints).request(method, url, headers=headers, **kwargs)
    except (requests.RequestException, OSError) as exc:
        raise _unreachable(url, exc) from None
    if response.status_code >= 400:
        raise _graph_error(response)
    return response


def _graph_error(response: requests.Response) -> MicrosoftError:
    error = _json(response).get("error")
    error = error if isinstance(error, dict) else {}
    status = response.status_code
    inner = error.get("innerError") or {}
    return MicrosoftError(
        str(error.get("code") or f"http_{status}"),
        str(error.get("message") or f"Microsoft Graph answered HTTP {status}."),
        status=status,
        correlation_id=str(inner.get("request-id") or response.headers.get("request-id", "")),
        transient=status == 429 or status >= 500,
        retry_after=_retry_after(response),
    )


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
