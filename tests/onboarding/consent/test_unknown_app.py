"""AADSTS700016 at admin consent: Microsoft knows no such app in the directory, most
often because the Object ID was saved as the client ID. Held against the page Microsoft
really shows (tests/recordings/adminconsent_unknown_client_id.json): the emulator's
page, the portal's explanation on step 3, and its callback page should one carry it."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.consent import flow as consent
from onboarding.models import AuditEvent
from tests.microsoft_emulator.conftest import PortSession
from tests.onboarding.conftest import make_app
from tests.recordings import load

RECORDED = load("adminconsent_unknown_client_id")
CURLY_APOSTROPHE = "\u2019"  # Microsoft's page writes "we\u2019re"
CALLBACK = reverse("onboarding:consent-callback")


def recorded_lines() -> tuple[str, str]:
    heading, message = (line.strip() for line in RECORDED.statement.split("\n"))
    return heading, message


def page_text(markup: str) -> str:
    """What the page says, tags dropped; apostrophes made straight (the emulator's
    template writes a straight one where Microsoft's page has a curly one)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    return " ".join(text.replace(CURLY_APOSTROPHE, "'").split())


@pytest.fixture
def with_object_id(emulated_microsoft, acme):
    """Acme's app saved with the Object ID of its registration as the client ID."""
    ready = ready_directory(emulated_microsoft, consent=False)
    emulated_microsoft.update_app(
        ready.app, redirect_uris=[*ready.app.redirect_uris, consent.callback_url()]
    )
    app = make_app(
        acme, ready.app.object_id, ready.directory.id, authentication_confirmed_at=timezone.now()
    )
    return ready, app


def test_the_emulator_shows_microsofts_page_for_an_object_id_used_as_client_id(
    client, alice, acme, with_object_id, emulated_microsoft
):
    ready, _ = with_object_id
    client.force_login(alice)
    location = client.post(reverse("onboarding:consent-start", args=[acme.pk]))["Location"]
    answer = PortSession(emulated_microsoft).get(location, allow_redirects=False)
    # A page of Microsoft's own, never a way back to the portal: a dead end, as recorded.
    assert "Location" not in answer.headers
    heading, message = recorded_lines()
    shown = page_text(answer.text)
    assert heading.replace(CURLY_APOSTROPHE, "'") in shown
    ours = message.replace("{appID}", ready.app.object_id).replace(
        "53fe2caa-607b-41c9-bdd6-cebd25cece19", ready.directory.id
    )
    assert ours in shown


@pytest.mark.usefixtures("with_object_id")
def test_step_3_explains_aadsts700016_with_the_fix(client, alice, acme):
    client.force_login(alice)
    page = page_text(client.get(reverse("onboarding:permissions", args=[acme.pk])).content.decode())
    assert "AADSTS700016" in page
    # The words the admin sees on Microsoft's page, so the note is found by them.
    assert "was not found in the directory" in recorded_lines()[1]
    assert "was not found in the directory" in page
    assert "Object ID was saved as the client ID" in page
    assert "another directory" in page


def test_a_callback_carrying_aadsts700016_explains_the_object_id(
    client, alice, acme_configured, acme, fake_microsoft
):
    client.force_login(alice)
    started = client.post(reverse("onboarding:consent-start", args=[acme.pk]))["Location"]
    state = started.split("state=")[1].split("&")[0]
    description = recorded_lines()[1]
    query = urlencode(
        {"error": "unauthorized_client", "error_description": description, "state": state}
    )
    response = client.get(f"{CALLBACK}?{query}")
    content = page_text(response.content.decode())
    assert "Microsoft does not know this app in your directory" in content
    assert "Object ID" in content
    assert reverse("onboarding:register", args=[acme.pk]) in response.content.decode()
    assert AuditEvent.objects.get(action="consent.failed").details["code"] == "AADSTS700016"


def test_it_reads_the_recorded_message_as_an_unknown_app():
    failure = consent.failure_from(
        {"error": "unauthorized_client", "error_description": recorded_lines()[1]}
    )
    assert (failure.kind, failure.code) == ("app_not_found", "AADSTS700016")
    assert failure.message.startswith("Application with identifier")
