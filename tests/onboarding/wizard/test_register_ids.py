"""Step 1 catches the IDs mixed up under Essentials (the Object ID between the two asked
for, the same ID twice, the two swapped) without signing anyone in, and reads a pasted
Essentials block; and a live tenant's app changes only after a confirmation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding.client_secrets import LIVE_STATUSES
from onboarding.models import AppRegistration, AuditEvent, Mailbox, Tenant
from onboarding.wizard.forms import RegisterForm
from onboarding.wizard.validators import parse_essentials
from tests.onboarding.conftest import (
    ACME_CLIENT_ID,
    ACME_DIRECTORY_ID,
    GLOBEX_CLIENT_ID,
    GLOBEX_DIRECTORY_ID,
)

OBJECT_ID = "0f1e2d3c-4b5a-4697-8877-665544332211"
# As the admin center's Overview shows it, copied with the mouse.
ESSENTIALS = f"""Essentials
Display name
:
Acme Logistics mailbox connection (1a2b3c4d)
Application (client) ID
:
{ACME_CLIENT_ID.upper()}
Object ID
:
{OBJECT_ID}
Directory (tenant) ID
:
{ACME_DIRECTORY_ID}
Supported account types
:
Multiple organizations"""


def url(name, tenant):
    return reverse(f"onboarding:{name}", args=[tenant.pk])


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


# --- the Essentials block -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(ESSENTIALS, id="lines"),
        # A one-line field drops the line breaks of a paste.
        pytest.param(ESSENTIALS.replace("\n", ""), id="line breaks dropped"),
        pytest.param(
            f"Application (client) ID : {ACME_CLIENT_ID}\tObject ID : {OBJECT_ID}\t"
            f"Directory (tenant) ID : {ACME_DIRECTORY_ID}",
            id="one line with colons",
        ),
    ],
)
def test_it_reads_the_ids_of_a_pasted_essentials_block(text):
    assert parse_essentials(text) == {
        "client_id": ACME_CLIENT_ID,
        "object_id": OBJECT_ID,
        "directory_id": ACME_DIRECTORY_ID,
    }


@pytest.mark.parametrize("text", ["", ACME_CLIENT_ID, "acme.onmicrosoft.com", "Object ID"])
def test_it_finds_no_block_in_a_plain_value(text):
    assert parse_essentials(text) == {}


def test_a_block_pasted_into_the_first_field_fills_both(as_alice, acme, fake_microsoft):
    response = as_alice.post(url("register", acme), {"client_id": ESSENTIALS, "directory": ""})
    assert response["Location"] == url("authentication", acme)
    app = AppRegistration.objects.get(tenant=acme)
    assert (str(app.client_id), str(app.directory_id)) == (ACME_CLIENT_ID, ACME_DIRECTORY_ID)
    assert fake_microsoft.lookups == [ACME_DIRECTORY_ID]
    page = as_alice.get(response["Location"]).content.decode()
    assert "Read from the Essentials text you pasted" in page
    # The Object ID comes with it, for the certificate's automatic renewal.
    assert str(app.object_id) == OBJECT_ID


def test_another_app_forgets_the_object_id_of_the_first(as_alice, acme, fake_microsoft):
    as_alice.post(url("register", acme), {"client_id": ESSENTIALS, "directory": ""})
    other = {"client_id": GLOBEX_CLIENT_ID, "directory": ACME_DIRECTORY_ID}
    assert as_alice.post(url("register", acme), other).status_code == 302
    app = AppRegistration.objects.get(tenant=acme)
    assert str(app.client_id) == GLOBEX_CLIENT_ID
    assert app.object_id is None


def test_a_block_pasted_into_the_second_field_counts_too(acme, fake_microsoft):
    form = RegisterForm({"client_id": "", "directory": ESSENTIALS})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["client_id"] == ACME_CLIENT_ID
    assert form.from_essentials


def test_a_long_paste_is_not_cut_by_the_browser(as_alice, acme):
    page = as_alice.get(url("register", acme)).content.decode()
    assert 'maxlength="64"' not in page


def test_step_1_names_the_object_id_between_the_two_ids(as_alice, acme):
    page = as_alice.get(url("register", acme)).content.decode()
    assert "Object ID" in page
    assert "Not the Object ID, the line below it." in page


def test_it_names_the_object_id_pasted_with_its_label(fake_microsoft):
    form = RegisterForm({"client_id": f"Object ID {OBJECT_ID}", "directory": ACME_DIRECTORY_ID})
    assert not form.is_valid()
    assert "This is the Object ID" in form.errors["client_id"][0]
    assert fake_microsoft.lookups == []


# --- mixed-up IDs, caught before anyone signs in ------------------------------------


def test_it_catches_the_same_id_twice_without_asking_microsoft(fake_microsoft):
    form = RegisterForm({"client_id": ACME_CLIENT_ID, "directory": ACME_CLIENT_ID.upper()})
    assert not form.is_valid()
    assert "Both fields hold the same ID" in form.errors["client_id"][0]
    assert "Object ID" in form.errors["client_id"][0]
    assert fake_microsoft.lookups == []


def test_it_catches_the_directory_id_as_client_id_by_the_domain_looked_up(fake_microsoft):
    form = RegisterForm({"client_id": ACME_DIRECTORY_ID, "directory": "acme.onmicrosoft.com"})
    assert not form.is_valid()
    assert "This is the Directory (tenant) ID" in form.errors["client_id"][0]


def test_it_says_when_the_two_ids_are_swapped(fake_microsoft):
    form = RegisterForm({"client_id": ACME_DIRECTORY_ID, "directory": ACME_CLIENT_ID})
    assert not form.is_valid()
    assert "wrong way round" in form.errors["directory"][0]
    # Only the public discovery of each ID: no sign-in, nothing in the sign-in logs.
    assert fake_microsoft.lookups == [ACME_CLIENT_ID, ACME_DIRECTORY_ID]


def test_it_names_the_client_id_typed_as_the_directory_id(fake_microsoft):
    form = RegisterForm({"client_id": GLOBEX_CLIENT_ID, "directory": ACME_CLIENT_ID})
    assert not form.is_valid()
    error = form.errors["directory"][0]
    assert "If you copied the Application (client) ID or the Object ID" in error
    assert "third ID under Essentials" in error


def test_an_unknown_domain_keeps_its_own_message(fake_microsoft):
    form = RegisterForm({"client_id": ACME_CLIENT_ID, "directory": "nobody.onmicrosoft.com"})
    assert not form.is_valid()
    assert "Microsoft does not know this directory" in form.errors["directory"][0]
    assert fake_microsoft.lookups == ["nobody.onmicrosoft.com"]


# --- changing the app of a live tenant ------------------------------------------------


def verified(tenant):
    Mailbox.objects.filter(tenant=tenant).update(health=Tenant.Health.HEALTHY)
    Tenant.objects.filter(pk=tenant.pk).update(health=Tenant.Health.HEALTHY)


def test_a_live_tenants_app_changes_only_after_a_confirmation(
    as_alice, acme_ready, acme, fake_microsoft
):
    verified(acme)
    new = {"client_id": GLOBEX_CLIENT_ID, "directory": ACME_DIRECTORY_ID}
    response = as_alice.post(url("register", acme), new)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Change the app registration?" in content
    assert "admin consent granted on" in content
    assert "The verification of dispatch@acme.example" in content
    assert "The client secret Ab1… of the old app" in content
    acme_ready.refresh_from_db()
    assert str(acme_ready.client_id) == ACME_CLIENT_ID  # nothing changed yet
    assert acme_ready.consent_granted_at is not None
    assert not AuditEvent.objects.filter(action="app_registration.saved").exists()

    token = response.context["change"].token
    done = as_alice.post(url("register", acme), {**new, "confirm_change": token}, follow=True)
    assert "consent must be granted again" in done.content.decode()
    acme_ready.refresh_from_db()
    assert str(acme_ready.client_id) == GLOBEX_CLIENT_ID
    assert acme_ready.consent_granted_at is None
    assert not acme_ready.secrets.filter(status__in=LIVE_STATUSES).exists()
    acme.refresh_from_db()
    assert acme.health == Tenant.Health.UNKNOWN  # recomputed by the one writer
    event = AuditEvent.objects.get(action="app_registration.saved")
    assert event.details["secrets_retired"] == 1


def test_cancelling_the_change_keeps_everything(as_alice, acme_ready, acme, fake_microsoft):
    verified(acme)
    new = {"client_id": GLOBEX_CLIENT_ID, "directory": ACME_DIRECTORY_ID}
    content = as_alice.post(url("register", acme), new).content.decode()
    assert f'href="{url("register", acme)}">Cancel, keep the current app' in content
    page = as_alice.get(url("register", acme)).content.decode()
    assert ACME_CLIENT_ID in page
    acme_ready.refresh_from_db()
    assert acme_ready.consent_granted_at is not None
    assert acme_ready.secrets.filter(status__in=LIVE_STATUSES).exists()


def test_a_confirmation_counts_only_for_the_change_it_was_shown_for(
    as_alice, acme_ready, acme, fake_microsoft
):
    shown = as_alice.post(
        url("register", acme), {"client_id": GLOBEX_CLIENT_ID, "directory": ACME_DIRECTORY_ID}
    )
    token = shown.context["change"].token
    other = {"client_id": GLOBEX_CLIENT_ID, "directory": GLOBEX_DIRECTORY_ID}
    response = as_alice.post(url("register", acme), {**other, "confirm_change": token})
    assert "Change the app registration?" in response.content.decode()
    acme_ready.refresh_from_db()
    assert str(acme_ready.client_id) == ACME_CLIENT_ID


def test_a_new_directory_for_the_same_app_keeps_its_secret(
    as_alice, acme_ready, acme, fake_microsoft
):
    new = {"client_id": ACME_CLIENT_ID, "directory": GLOBEX_DIRECTORY_ID}
    shown = as_alice.post(url("register", acme), new)
    disconnects = shown.context["change"].disconnects
    assert any("admin consent" in item for item in disconnects)
    assert not any("client secret" in item for item in disconnects)
    as_alice.post(url("register", acme), {**new, "confirm_change": shown.context["change"].token})
    acme_ready.refresh_from_db()
    assert str(acme_ready.directory_id) == GLOBEX_DIRECTORY_ID
    assert acme_ready.secrets.filter(status__in=LIVE_STATUSES).exists()


def test_saving_the_same_ids_again_asks_nothing(as_alice, acme_ready, acme, fake_microsoft):
    same = {"client_id": ACME_CLIENT_ID, "directory": ACME_DIRECTORY_ID}
    assert as_alice.post(url("register", acme), same)["Location"] == url("authentication", acme)
    acme_ready.refresh_from_db()
    assert acme_ready.consent_granted_at is not None


def test_an_app_with_nothing_to_lose_changes_at_once(as_alice, acme_app, acme, fake_microsoft):
    new = {"client_id": GLOBEX_CLIENT_ID, "directory": ACME_DIRECTORY_ID}
    assert as_alice.post(url("register", acme), new)["Location"] == url("authentication", acme)
