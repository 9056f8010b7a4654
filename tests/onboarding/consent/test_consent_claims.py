"""Consent a callback only claims, and what confirms it.

Microsoft's admin-consent redirect is not signed: whoever holds a state can call the
callback without Microsoft. Such a callback is recorded as "claimed" and never shows
as confirmed; only a check whose Graph calls passed with the app's token confirms it.
A state works once however many requests race for it, and a forwarded link once.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding.consent import flow as consent
from onboarding.consent.flow import SESSION_KEY
from onboarding.models import AppRegistration, AuditEvent, ConsentUse
from tests.onboarding.check_helpers import configure, run_check, through_the_wizard
from tests.onboarding.conftest import ACME_DIRECTORY_ID

CALLBACK = reverse("onboarding:consent-callback")


def state_of(response) -> str:
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def come_back(client: Client, state: str, tenant: str = ACME_DIRECTORY_ID):
    params = {"admin_consent": "True", "tenant": tenant, "state": state}
    return client.get(f"{CALLBACK}?{urlencode(params)}")


def forwarded_link(app: AppRegistration) -> str:
    return reverse("onboarding:consent-forwarded", args=[consent.forward_token(app)])


def open_and_start(link: str) -> tuple[Client, str]:
    """What anyone holding the link can do: open it, press the button, read the state
    from the redirect to Microsoft (without ever going there)."""
    holder = Client(enforce_csrf_checks=True)
    page = holder.get(link)
    assert page.status_code == 200
    response = holder.post(link, {"csrfmiddlewaretoken": page.cookies["csrftoken"].value})
    return holder, state_of(response)


def granted_events() -> int:
    return AuditEvent.objects.filter(action="consent.granted").count()


# --- one state, many concurrent callbacks ------------------------------------------


def test_a_state_is_believed_once_by_requests_that_all_read_the_same_session(
    client, alice, acme_configured, acme, fake_microsoft
):
    """Concurrent requests with one session cookie all read the session before any
    of them saves it: each call here starts from that same session, holding the state."""
    client.force_login(alice)
    state = state_of(client.post(reverse("onboarding:consent-start", args=[acme.pk])))
    pending = client.session[SESSION_KEY]

    answers = []
    for _ in range(4):
        session = client.session
        session[SESSION_KEY] = pending  # as every concurrent request read it
        session.save()
        answers.append(come_back(client, state).status_code)

    assert answers == [302, 400, 400, 400]
    assert granted_events() == 1
    assert ConsentUse.objects.filter(kind=ConsentUse.Kind.STATE).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_callbacks_with_one_state_record_one_consent(
    live_server, alice, acme_configured, acme, fake_microsoft
):
    """Four threads, one session cookie, one state, against the running portal. On
    PostgreSQL only: the tests' in-memory SQLite locks its tables across threads."""
    import threading

    import requests
    from django.db import connection

    from tests.conftest import require_service

    require_service("PostgreSQL", connection.vendor == "postgresql")

    browser = Client()
    browser.force_login(alice)
    state = state_of(browser.post(reverse("onboarding:consent-start", args=[acme.pk])))
    cookies = {name: morsel.value for name, morsel in browser.cookies.items()}
    url = f"{live_server.url}{CALLBACK}?" + urlencode(
        {"admin_consent": "True", "tenant": ACME_DIRECTORY_ID, "state": state}
    )
    barrier = threading.Barrier(4)
    codes: list[int] = []

    def call() -> None:
        barrier.wait()
        answer = requests.get(url, cookies=cookies, allow_redirects=False, timeout=30)
        codes.append(answer.status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # PostgreSQL makes the others wait for the first insert, then refuses them.
    assert sorted(codes) == [302, 400, 400, 400]
    assert granted_events() == 1
    assert ConsentUse.objects.filter(kind=ConsentUse.Kind.STATE).count() == 1


# --- the forwarded-link attack --------------------------------------------------------


def test_a_callback_made_without_microsoft_only_claims_consent(
    client, alice, acme_configured, acme, fake_microsoft
):
    """The attack: a forwarded link, the state from the redirect's Location, the
    callback called directly. Consent is claimed, never confirmed."""
    holder, state = open_and_start(forwarded_link(acme_configured))
    assert "admin consent is granted" in come_back(holder, state).content.decode()

    acme_configured.refresh_from_db()
    assert acme_configured.consent_granted_at is not None
    assert acme_configured.consent_confirmed_at is None
    client.force_login(alice)
    page = client.get(reverse("onboarding:permissions", args=[acme.pk])).content.decode()
    assert "Consent reported, not confirmed yet" in page
    assert "Consent confirmed by Microsoft" not in page


def test_a_used_forwarded_link_is_refused_and_writes_nothing(acme_configured, fake_microsoft):
    link = forwarded_link(acme_configured)
    holder, state = open_and_start(link)
    come_back(holder, state)
    events, uses = granted_events(), ConsentUse.objects.count()

    again = Client()
    assert again.get(link).status_code == 400
    assert again.post(link).status_code == 400
    assert holder.get(link).status_code == 400
    assert (granted_events(), ConsentUse.objects.count()) == (events, uses)


def test_a_forwarded_link_claims_once_even_from_two_states_started_before(
    acme_configured, fake_microsoft
):
    """Two holders start from one link before either comes back: one claim only."""
    link = forwarded_link(acme_configured)
    first, first_state = open_and_start(link)
    second, second_state = open_and_start(link)
    assert come_back(first, first_state).status_code == 200
    refused = come_back(second, second_state)
    assert refused.status_code == 400
    assert "consent_rejected" in refused.templates[0].name
    assert granted_events() == 1


def test_a_forwarded_link_dies_once_consent_is_confirmed(acme_configured, fake_microsoft):
    link = forwarded_link(acme_configured)
    holder, state = open_and_start(link)  # started before the confirmation
    AppRegistration.objects.filter(pk=acme_configured.pk).update(
        consent_granted_at=timezone.now(), consent_confirmed_at=timezone.now()
    )

    assert Client().get(link).status_code == 400
    assert come_back(holder, state).status_code == 400
    assert granted_events() == 0


# --- what confirms consent ------------------------------------------------------------


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


def test_a_passing_check_confirms_claimed_consent(
    acme, alice, ready, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)  # consent claimed by the callback
    run = run_check(mailbox, django_capture_on_commit_callbacks)

    app = AppRegistration.objects.get(tenant=acme)
    assert app.consent_confirmed_at == run.finished_at
    assert AuditEvent.objects.filter(action="consent.confirmed", tenant=acme).count() == 1
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("onboarding:permissions", args=[acme.pk])).content.decode()
    assert "Consent confirmed by Microsoft" in page
    assert "Ask a colleague" not in page


def test_a_check_in_a_directory_that_never_consented_confirms_nothing(
    acme, emulated_microsoft, django_capture_on_commit_callbacks
):
    """The forged claim stays a claim: Graph refuses the app's token."""
    unconsented = ready_directory(emulated_microsoft, consent=False)
    mailbox = configure(acme, unconsented)
    through_the_wizard(acme, unconsented)
    run_check(mailbox, django_capture_on_commit_callbacks)

    app = AppRegistration.objects.get(tenant=acme)
    assert app.consent_granted_at is not None
    assert app.consent_confirmed_at is None
    assert not AuditEvent.objects.filter(action="consent.confirmed").exists()


def test_another_app_forgets_the_confirmation(acme, acme_configured, fake_microsoft):
    from accounts.actors import Actor
    from onboarding.wizard.services import save_registration
    from tests.onboarding.conftest import GLOBEX_CLIENT_ID

    now = timezone.now()
    AppRegistration.objects.filter(pk=acme_configured.pk).update(
        consent_granted_at=now, consent_confirmed_at=now
    )
    save_registration(
        acme,
        client_id=GLOBEX_CLIENT_ID,
        directory=ACME_DIRECTORY_ID,
        directory_id=ACME_DIRECTORY_ID,
        actor=Actor(user=None),
    )
    acme_configured.refresh_from_db()
    assert acme_configured.consent_granted_at is None
    assert acme_configured.consent_confirmed_at is None
