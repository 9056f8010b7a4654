"""The HTTP client that msal and Graph share, and how its failures become MicrosoftErrors.

msal gets its own requests.Session: with trust_env off (REQUESTS_CA_BUNDLE and
CURL_CA_BUNDLE would otherwise override `verify`), the configured CA bundle, proxies
still read from the environment, and the login port restored on the user-realm lookup
msal sends without it. Against the real cloud (port 443) that last fix does nothing.
Only three settings differ between the real cloud and the local emulator:
MICROSOFT_LOGIN_URL, MICROSOFT_GRAPH_URL and MICROSOFT_CA_BUNDLE.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.utils import get_environ_proxies

from onboarding.microsoft.errors import MicrosoftError


@dataclass(frozen=True)
class Endpoints:
    login_url: str
    graph_url: str
    ca_bundle: str
    timeout: float


def endpoints() -> Endpoints:
    return Endpoints(
        settings.MICROSOFT_LOGIN_URL.rstrip("/"),
        settings.MICROSOFT_GRAPH_URL.rstrip("/"),
        settings.MICROSOFT_CA_BUNDLE,
        float(settings.MICROSOFT_HTTP_TIMEOUT),
    )


POOL_SIZE = 32


class Session(requests.Session):
    """The HTTP client for msal and Graph; remembers each thread's last response."""

    def __init__(self, endpoints: Endpoints) -> None:
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

    def last_response(self) -> Any:
        """The last response this thread's caller got: a requests.Response, or one that
        msal's throttling cache replayed (see `observe`). None before any."""
        return getattr(self.observed, "response", None)

    def observe(self, client: Any) -> None:
        """Record as the last response each one `client` (msal's throttling wrapper
        around this session) hands to msal. For up to Retry-After seconds msal answers a
        request that got a 429 or 5xx from its own cache, without sending it: this
        session alone would never see that answer."""
        for name in ("get", "post"):
            send = getattr(client, name)

            def observed(*args: Any, _send: Any = send, **kwargs: Any) -> Any:
                response = _send(*args, **kwargs)
                self.observed.response = response
                return response

            setattr(client, name, observed)


_lock = threading.Lock()
_sessions: dict[Endpoints, Session] = {}


def session(endpoints: Endpoints) -> Session:
    with _lock:
        if endpoints not in _sessions:
            _sessions[endpoints] = Session(endpoints)
        return _sessions[endpoints]


def forget_sessions() -> None:
    with _lock:
        for open_session in _sessions.values():
            open_session.close()
        _sessions.clear()
        msal_http_cache.clear()


# msal's `http_cache` for the apps made for one call (onboarding.microsoft.signin): the
# authority's OpenID configuration and msal's throttling state (a 429 is not asked again
# before its Retry-After), kept per process as msal documents. Bounded there.
msal_http_cache: dict[Any, Any] = {}


def unreachable(url: str, exc: BaseException) -> MicrosoftError:
    host = urlsplit(url).netloc
    return MicrosoftError(
        "unreachable", f"Could not reach {host} ({type(exc).__name__}).", transient=True
    )


def http_error(response: Any, text: str) -> MicrosoftError:
    match = re.search(r"\b([45]\d\d)\b", text)
    status = response.status_code if response is not None else int(match[1]) if match else None
    return MicrosoftError(
        f"http_{status}" if status else "unexpected",
        f"Microsoft answered HTTP {status}." if status else "Microsoft gave no usable answer.",
        status=status,
        transient=status is None or status == 429 or status >= 500,
        retry_after=retry_after(response),
    )


def login_error(body: dict[str, Any], response: Any) -> MicrosoftError:
    """A token or discovery error in Microsoft's JSON shape as a MicrosoftError."""
    codes = body.get("error_codes") or []
    error = str(body.get("error") or "unknown_error")
    description = str(body.get("error_description") or error)
    status = response.status_code if response is not None else None
    if not codes and is_transient(response):
        return http_error(response, "")
    return MicrosoftError(
        f"AADSTS{codes[0]}" if codes else _named_code(description) or error,
        first_sentence(description),
        status=status,
        correlation_id=str(body.get("correlation_id", "")),
        transient=error in ("temporarily_unavailable", "server_error") or is_transient(response),
        retry_after=retry_after(response),
    )


# A body without error_codes whose message still starts with its code, as posted in
# tests/recordings/token_password_mfa_required.json: read by that code.
_NAMED_CODE = re.compile(r"\s*(AADSTS\d+):")


def _named_code(description: str) -> str:
    match = _NAMED_CODE.match(description)
    return match[1] if match else ""


# Microsoft's documented error_description puts CR LF before "Trace ID:"; real responses
# also come with a space (tests/recordings/token_missing_service_principal.json).
_TRAILER = re.compile(r"(?:^|\s+)Trace ID:.*", re.DOTALL)


def first_sentence(description: str) -> str:
    """Microsoft's own words of an error_description, without its trace trailer."""
    lines = _TRAILER.sub("", description).splitlines()
    return lines[0].strip() if lines else ""


def is_transient(response: Any) -> bool:
    """Throttled (429) or failing (5xx): worth retrying, whatever the body says. Microsoft
    throttles the token endpoint with a plain-text body, not OAuth JSON
    (tests/recordings/token_throttled_plain_text.json)."""
    status = getattr(response, "status_code", None)
    return isinstance(status, int) and (status == 429 or status >= 500)


def retry_after(response: Any) -> float | None:
    """Retry-After in seconds. The header name in any case: msal hands on the responses
    its throttling cache replays with their header names lower-cased."""
    headers = getattr(response, "headers", None) or {}
    value = next((str(v) for k, v in headers.items() if k.lower() == "retry-after"), "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
