"""The start page: how the admin connects, offered when the portal has more than one
way; the choice, its bad input, and the steps a mode does not need."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, Tenant
from tests.personal_mailbox import text

pytestmark = pytest.mark.django_db
VENDOR_ID = "3f9a7c1e-5b2d-4e8f-a6c4-9d1b2e3f4a5b"


@pytest.fixture
def vendor_on(settings):
    settings.PORTAL_VENDOR_APP_ID = VENDOR_ID
    settings.PORTAL_VENDOR_APP_NAME = "Mail connector"


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def start_url(tenant: Tenant) -> str:
    return reverse("onboarding:start", args=[tenant.pk])


def test_a_new_admin_is_asked_how_to_connect_when_the_vendor_app_is_offered(
    as_alice, acme, vendor_on
):
    response = as_alice.get(reverse("onboarding:resume", args=[acme.pk]))
    assert response["Location"] == start_url(acme)
    page = text(as_alice.get(start_url(acme)))
    assert "How do you want to connect?" in page
    assert "Consent to the vendor's app (quickest)" in page
    assert "Register your own app" in page
    # One sentence each on what it asks and what the vendor then holds.
    assert page.count("What it asks of you:") == 2
    assert page.count("What the vendor then holds:") == 2
    assert "Mail connector" in page


def test_the_portal_registering_the_app_is_offered_with_its_app(
    as_alice, acme, vendor_on, settings
):
    settings.PORTAL_PROVISIONING_APP_ID = "6c2e8a4f-1d3b-4f5a-9e7c-2b4d6f8a0c1e"
    page = text(as_alice.get(start_url(acme)))
    assert "Let the portal register your own app" in page
    assert page.count("What it asks of you:") == 3
    as_alice.post(start_url(acme), {"mode": "automatic"})
    acme.refresh_from_db()
    assert acme.setup_mode == "automatic"
    step_1 = text(as_alice.get(reverse("onboarding:register", args=[acme.pk])))
    assert "Sign in with Microsoft and register the app" in step_1


def test_without_a_vendor_app_the_guides_way_starts_at_once(as_alice, acme, settings):
    settings.PORTAL_VENDOR_APP_ID = ""
    response = as_alice.get(reverse("onboarding:resume", args=[acme.pk]))
    assert response["Location"] == reverse("onboarding:register", args=[acme.pk])


def test_choosing_the_vendor_app_skips_steps_1_2_and_4(as_alice, acme, vendor_on):
    response = as_alice.post(start_url(acme), {"mode": "vendor"})
    assert response["Location"] == reverse("onboarding:resume", args=[acme.pk])
    acme.refresh_from_db()
    assert acme.setup_mode == "vendor"
    assert acme.onboarding_step == 3  # support's lists: waiting at consent, not step 1
    event = AuditEvent.objects.get(action="setup_mode.chosen")
    assert (event.details["mode"], event.details["previous"]) == ("vendor", "")
    step_3 = reverse("onboarding:permissions", args=[acme.pk])
    assert as_alice.get(reverse("onboarding:resume", args=[acme.pk]))["Location"] == step_3
    for name in ("register", "authentication", "secret"):
        assert as_alice.get(reverse(f"onboarding:{name}", args=[acme.pk]))["Location"] == step_3
    page = text(as_alice.get(step_3))
    assert "Admin consent to the vendor's app" in page
    assert "Not needed with the vendor's app" in page
    assert "Grant admin consent" in page
    assert "Mail.Read" in page and "User.Read" in page  # noqa: PT018 - one sentence each


def test_choosing_the_own_app_opens_step_1(as_alice, acme, vendor_on):
    as_alice.post(start_url(acme), {"mode": "manual"})
    response = as_alice.get(reverse("onboarding:resume", args=[acme.pk]))
    assert response["Location"] == reverse("onboarding:register", args=[acme.pk])


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({}, "Choose how you want to connect."),
        ({"mode": "evil"}, "Choose one of the ways listed."),
        ({"mode": ""}, "Choose how you want to connect."),
    ],
)
def test_bad_input_says_what_is_wrong_and_changes_nothing(
    as_alice, acme, vendor_on, posted, message
):
    response = as_alice.post(start_url(acme), posted)
    assert response.status_code == 200
    assert message in text(response)
    acme.refresh_from_db()
    assert acme.setup_mode == ""


def test_the_vendor_way_cannot_be_chosen_when_it_is_not_offered(as_alice, acme, settings):
    settings.PORTAL_VENDOR_APP_ID = ""
    response = as_alice.post(start_url(acme), {"mode": "vendor"})
    assert "Choose one of the ways listed." in text(response)
    acme.refresh_from_db()
    assert acme.setup_mode == ""


def test_once_the_app_is_registered_the_way_no_longer_changes(as_alice, acme, acme_app, vendor_on):
    acme.setup_mode = "manual"
    acme.save(update_fields=["setup_mode"])
    response = as_alice.post(start_url(acme), {"mode": "vendor"})
    assert response.status_code == 200
    assert "can no longer change here" in text(response)
    acme.refresh_from_db()
    assert acme.setup_mode == "manual"


def test_another_tenants_admin_gets_404(client, bob, acme, vendor_on):
    client.force_login(bob)
    assert client.get(start_url(acme)).status_code == 404
    assert client.post(start_url(acme), {"mode": "vendor"}).status_code == 404
    acme.refresh_from_db()
    assert acme.setup_mode == ""


def test_the_choice_needs_the_csrf_token(alice, acme, vendor_on):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(start_url(acme), {"mode": "vendor"}).status_code == 403
