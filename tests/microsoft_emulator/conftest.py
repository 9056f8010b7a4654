"""Helpers for driving the emulator with the real msal library and a browser-like client."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit, urlunsplit

import msal
import pytest
import requests

from microsoft_emulator.scenarios import Ready, ready_directory
from microsoft_emulator.server import RunningEmulator


class PortSession(requests.Session):
    """Trusts the emulator CA; puts the port back on msal's user-realm URL (MICROSOFT.md §1)."""

    def __init__(self, emulator: RunningEmulator) -> None:
        super().__init__()
        self.trust_env = False
        self.verify = str(emulator.ca_path)
        self.port = emulator.port

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname == "127.0.0.1" and parts.port is None:
            url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.port}"))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def http(emulator: RunningEmulator) -> PortSession:
    return PortSession(emulator)


@pytest.fixture
def ready(emulator: RunningEmulator) -> Ready:
    return ready_directory(emulator)


@pytest.fixture
def cca(
    emulator: RunningEmulator, http: PortSession
) -> Callable[..., msal.ConfidentialClientApplication]:
    def build(
        client_id: str, credential: object, tenant: str
    ) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            client_id,
            client_credential=credential,
            authority=f"{emulator.login_url}/{tenant}",
            http_client=http,
            instance_discovery=False,
        )

    return build


@pytest.fixture
def pca(
    emulator: RunningEmulator, http: PortSession
) -> Callable[..., msal.PublicClientApplication]:
    def build(client_id: str, tenant: str) -> msal.PublicClientApplication:
        return msal.PublicClientApplication(
            client_id,
            authority=f"{emulator.login_url}/{tenant}",
            http_client=http,
            instance_discovery=False,
        )

    return build


def graph_scope(emulator: RunningEmulator) -> list[str]:
    return [f"{emulator.graph_url}/.default"]


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match[1]


def sign_in(
    http: requests.Session, page: requests.Response, username: str, password: str
) -> requests.Response:
    """Fill the sign-in form shown in `page`; returns the page it leads back to, unfollowed."""
    next_url = re.search(r'name="next" value="([^"]*)"', page.text)
    assert next_url, "not a sign-in page"
    parts = urlsplit(page.url)
    base = f"{parts.scheme}://{parts.netloc}"
    form = {
        "csrf": csrf(page.text),
        "next": html.unescape(next_url[1]),
        "username": username,
        "password": password,
    }
    signed_in = http.post(f"{base}/login", data=form, allow_redirects=False)
    assert signed_in.status_code == 302, signed_in.text
    return http.get(base + signed_in.headers["Location"], allow_redirects=False)


def callback(response: requests.Response) -> dict[str, str]:
    """What reaches the app's redirect URI: a 302's query, or a form_post page's fields."""
    if response.status_code == 302:
        return query(response.headers["Location"])
    assert 'id="form-post"' in response.text, response.text
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', response.text)
    return {name: html.unescape(value) for name, value in fields}


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def claims(token: str) -> dict:
    """An emulator token's claims, read without verifying it (tests only)."""
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def unconsented(emulator: RunningEmulator) -> Ready:
    """Fabrikam with the guide's app registered and no admin consent."""
    return ready_directory(emulator, "Fabrikam", consent=False)
