"""Admin consent callbacks Microsoft really sent (tests/recordings/adminconsent_*.json),
fed to the portal's callback with a state it made in the same session; and the round trip
through the emulator's own pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.consent import flow as consent
from onboarding.models import AuditEvent
from tests.microsoft_emulator.conftest import PortSession, query, sign_in
from tests.onboarding.conftest import make_app
from tests.recordings import load

CALLBACK = reverse("onboarding:consent-callback")


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def begin(client, tenant) -> str:
    response = client.post(reverse("onboarding:consent-start", args=[tenant.pk]))
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def replay(client, name: str, state: str):
    """The recorded query, its state (redacted or foreign in the source) made ours."""
    return client.get(f"{CALLBACK}?{urlencode({**load(name).callback, 'state': state})}")


def test_it_shows_the_forward_page_for_the_need_admin_approval_return_link(
    as_alice, alice, acme_configured, acme, fake_microsoft
):
    response = replay(as_alice, "adminconsent_not_admin_return_link", begin(as_alice, acme))
    content = response.content.decode()
    assert response.status_code == 200
    assert "An administrator needs to grant consent" in content
    assert "Privileged Role Administrator" in content
    # The link names who asked, so the colleague can tell it from phishing.
    assert consent.forward_url(acme_configured, asked_by=alice) in content
    event = AuditEvent.objects.get(action="consent.failed")
    assert (event.details["code"], event.details["via"]) == ("access_denied", "wizard")
    acme_configured.refresh_from_db()
    assert acme_configured.consent_granted_at is None


def test_it_offers_the_forwarded_link_again_when_the_colleague_is_no_admin_either(
    client, acme_configured, fake_microsoft
):
    link = reverse("onboarding:consent-forwarded", args=[consent.forward_token(acme_configured)])
    started = client.post(link)
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    content = replay(client, "adminconsent_not_admin_return_link", state).content.decode()
    assert "An administrator needs to grant consent" in content
    # "Try again": the same request, and Microsoft offers another account this time.
    assert f'href="{consent.forward_url(acme_configured)}?select_account=1"' in content


def test_it_explains_the_recorded_decline(as_alice, acme_configured, acme, fake_microsoft):
    content = replay(as_alice, "adminconsent_declined", begin(as_alice, acme)).content.decode()
    assert "Consent was declined" in content
    assert "AADSTS65004" in content


def test_it_tells_an_admin_of_another_directory_to_sign_in_with_their_own(
    as_alice, acme_configured, acme, fake_microsoft
):
    response = replay(as_alice, "adminconsent_other_directory", begin(as_alice, acme))
    content = response.content.decode()
    assert response.status_code == 200
    assert "That account belongs to another organisation" in content
    assert "administrator account of your own directory" in content
    assert str(acme_configured.directory_id) in content
    assert "Use another account" in content
    assert AuditEvent.objects.get(action="consent.failed").details["code"] == "AADSTS50020"


def test_it_reads_a_bare_cancel_as_not_an_admin_and_nothing_else():
    bare = consent.failure_from(load("adminconsent_not_admin_return_link").callback)
    assert bare == consent.ConsentFailure("not_admin", "access_denied", "")
    # A code in the description still decides; a cancel without access_denied is "other".
    declined = {"error": "access_denied", "error_subcode": "cancel"}
    declined["error_description"] = "AADSTS65004: User declined to consent to access the app."
    assert consent.failure_from(declined).kind == "declined"
    assert consent.failure_from({"error": "server_error", "error_subcode": "cancel"}).kind == (
        "other"
    )


def test_it_refuses_a_callback_with_two_error_subcodes(
    as_alice, acme_configured, acme, fake_microsoft
):
    state = begin(as_alice, acme)
    query_string = urlencode(
        [("error", "access_denied"), ("error_subcode", "cancel"), ("error_subcode", "x")]
    )
    response = as_alice.get(f"{CALLBACK}?{query_string}&state={state}")
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="consent.failed").exists()


# --- the round trip through the emulator's pages ----------------------------------------


@pytest.fixture
def emulated(emulated_microsoft, acme):
    """Acme's app registered in an emulated directory, with the portal's callback."""
    ready = ready_directory(emulated_microsoft, consent=False)
    emulated_microsoft.update_app(
        ready.app, redirect_uris=[*ready.app.redirect_uris, consent.callback_url()]
    )
    app = make_app(
        acme, ready.app.client_id, ready.directory.id, authentication_confirmed_at=timezone.now()
    )
    return ready, app


def at_microsoft(client, emulated_microsoft, tenant, upn: str, password: str):
    """Start consent in the portal; sign in at the emulator; its answer, unfollowed."""
    location = client.post(reverse("onboarding:consent-start", args=[tenant.pk]))["Location"]
    browser = PortSession(emulated_microsoft)
    return browser, sign_in(browser, browser.get(location), upn, password)


def back_to_portal(client, url: str):
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == consent.callback_url()
    return client.get(f"{parts.path}?{parts.query}")


def test_it_shows_the_forward_page_after_the_emulators_need_admin_approval(
    as_alice, alice, acme, emulated, emulated_microsoft
):
    ready, app = emulated
    _, page = at_microsoft(as_alice, emulated_microsoft, acme, ready.mailbox.upn, "Mailbox-pass-1")
    assert "Need admin approval" in page.text
    back = page.text.split("Return to the application")[0].rsplit('href="', 1)[1].split('"')[0]
    back = back.replace("&amp;", "&")
    assert set(query(back)) == {"error", "error_subcode", "state"}
    content = back_to_portal(as_alice, back).content.decode()
    assert "An administrator needs to grant consent" in content
    assert consent.forward_url(app, asked_by=alice) in content


def test_it_explains_the_emulators_answer_to_an_admin_of_another_directory(
    as_alice, acme, emulated, emulated_microsoft
):
    _, app = emulated
    globex = ready_directory(emulated_microsoft, "Globex")
    _, answer = at_microsoft(as_alice, emulated_microsoft, acme, globex.admin.upn, "Admin-pass-1")
    assert answer.status_code == 302
    content = back_to_portal(as_alice, answer.headers["Location"]).content.decode()
    assert "That account belongs to another organisation" in content
    assert str(app.directory_id) in content
