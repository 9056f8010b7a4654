"""Fixtures (a pytest plugin: tests/conftest.py) for a tenant whose mailbox is a personal
Outlook.com account, against the emulator, and the browser's part of Microsoft's sign-in
played with requests (the emulator's pages)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from microsoft_emulator.scenarios import Ready, ready_directory
from onboarding.delegated import flow
from onboarding.models import Mailbox
from tests.microsoft_emulator.conftest import PortSession, csrf, sign_in
from tests.onboarding.check_helpers import configure, through_the_wizard

UPN, PASSWORD = "someone@outlook.com", "Outlook-Personal-2026!"


@dataclass
class Personal:
    ready: Ready
    mailbox: Mailbox
    person: Any


def open_to_personal_accounts(emulator: Any, ready: Ready) -> Any:
    """The guide's app for work and personal accounts, with the portal's sign-in address
    among its redirect URIs; someone@outlook.com with one order in its inbox (returned)."""
    emulator.update_app(
        ready.app,
        sign_in_audience="AzureADandPersonalMicrosoftAccount",
        redirect_uris=[*ready.app.redirect_uris, flow.callback_url()],
    )
    person = emulator.add_personal_account(UPN, PASSWORD)
    emulator.add_message(person, "Order 1", "Two pallets.", sender="shop@example.com")
    return person


@pytest.fixture
def personal(acme, emulated_microsoft) -> Personal:
    """open_to_personal_accounts, and a portal mailbox for someone@outlook.com, set up
    to step 5."""
    ready = ready_directory(emulated_microsoft)
    person = open_to_personal_accounts(emulated_microsoft, ready)
    mailbox = configure(acme, ready, address=UPN)
    through_the_wizard(acme, ready)
    return Personal(ready, mailbox, person)


def at_microsoft(
    emulator: Any, auth_uri: str, upn: str = UPN, password: str = PASSWORD, decision: str = "accept"
) -> dict[str, str]:
    """Sign in on Microsoft's (the emulator's) page and answer its consent page; the
    query Microsoft sends back to the portal's callback."""
    http = PortSession(emulator)
    page = sign_in(http, http.get(auth_uri, allow_redirects=False), upn, password)
    if page.status_code == 200 and "Permissions requested" in page.text:
        form = {"csrf": csrf(page.text), "decision": decision}
        page = http.post(page.url, data=form, allow_redirects=False)
    assert page.status_code == 302, page.text[:500]
    location = page.headers["Location"]
    assert location.startswith(flow.callback_url()), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def start(client, mailbox: Mailbox) -> str:
    """Press "Connect with Microsoft" for the mailbox; where the portal sends the browser."""
    url = reverse("onboarding:connect-start", args=[mailbox.tenant_id, mailbox.pk])
    response = client.post(url)
    assert response.status_code == 302, response.content[:500]
    return str(response["Location"])


def callback(client, answer: dict[str, str]):
    return client.get(reverse("onboarding:connect-callback"), answer)


def text(response) -> str:
    """The page's words, without tags."""
    words = html.unescape(re.sub(r"<[^>]+>", "", response.content.decode()))
    return re.sub(r"\s+", " ", words)


def connect(client, personal: Personal, emulator: Any, capture: Any) -> Any:
    """The admin connects the mailbox (as in test_connect); its first check runs."""
    from onboarding.models import MailboxSignIn

    answer = at_microsoft(emulator, start(client, personal.mailbox))
    with capture(execute=True):
        assert callback(client, answer).status_code == 302
    return MailboxSignIn.objects.get(mailbox=personal.mailbox)


@pytest.fixture
def connected(client, alice, personal, emulated_microsoft, django_capture_on_commit_callbacks):
    client.force_login(alice)
    return connect(client, personal, emulated_microsoft, django_capture_on_commit_callbacks)
