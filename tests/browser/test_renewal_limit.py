"""A renewal that fails, then Entra's two-secret limit, as a new admin meets it: the
portal says which secret to delete before a new one, takes "I deleted it", explains
Entra's refusal, and the next renewal works."""

import re

import pytest
from django.urls import reverse

from microsoft_emulator.app_limits import TooManyAppPasswords
from microsoft_emulator.scenarios import ready_directory
from onboarding.models import AuditEvent
from tests.conftest import PASSWORD
from tests.onboarding.check_helpers import configure

GUIDE_AUDIENCE = "AzureADandPersonalMicrosoftAccount"


def delete_in_entra(emulator, app, key_id):
    """What the admin does in Entra's Certificates & secrets (emulated)."""
    with emulator.store.lock:
        app.secrets = [s for s in app.secrets if s.key_id != key_id]
    emulator.store.changed()


def submit_secret(page, value, secret_id):
    page.get_by_label("Value").fill(value)
    page.get_by_label("Secret ID").fill(secret_id)
    page.get_by_role("button", name="Verify and switch to the new secret").click()


def test_it_names_the_secret_to_delete_when_entra_is_full(
    page, live_server, emulated_microsoft, emulator, acme, alice, screenshot
):
    ready = ready_directory(emulator)
    emulator.update_app(ready.app, sign_in_audience=GUIDE_AUDIENCE)
    configure(acme, ready)
    renew = live_server.url + reverse("onboarding:renew-secret", args=[acme.pk])

    page.goto(renew)
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("there is room for a new one").wait_for()

    # A first renewal with a mistyped value fails: Entra keeps the new secret anyway.
    created = emulator.add_secret(ready.app, display_name="Renewal")
    submit_secret(
        page, created.value[:-1] + ("A" if created.value[-1] != "A" else "B"), created.key_id
    )
    page.get_by_role("heading", name="The new secret did not work").wait_for()
    page.get_by_text("Entra keeps the secret that failed").wait_for()
    screenshot(page, "renewal-failed")

    # Entra now refuses a third secret; the renewal page says which one to delete first.
    with pytest.raises(TooManyAppPasswords):
        emulator.add_secret(ready.app)
    page.goto(renew)
    warning = page.get_by_role("alert").filter(has_text="First make room in Entra")
    warning.wait_for()
    to_delete = warning.locator(".copy-row").filter(has_text="Secret ID to delete")
    assert to_delete.locator("code").inner_text() == created.key_id
    assert f"Keep the secret in use (Secret ID {ready.secret.key_id})" in warning.inner_text()
    screenshot(page, "make-room")

    # The admin reports Entra's refusal and reads why.
    page.get_by_role("button", name="Entra says I can't add another secret").click()
    page.get_by_role("heading", name="Entra allows this app two client secrets only").wait_for()
    page.get_by_text("Not allowed to add 3 passwords").first.wait_for()
    screenshot(page, "entra-refused")

    # Deleted in Entra, then "I deleted it": there is room again.
    delete_in_entra(emulator, ready.app, created.key_id)
    page.get_by_role("button", name="I deleted it").click()
    page.get_by_text("is deleted in Entra, so there is room for a new one").wait_for()
    page.get_by_text("there is room for a new one").last.wait_for()

    fresh = emulator.add_secret(ready.app, display_name="Renewal 2")
    submit_secret(page, fresh.value, fresh.key_id)
    page.get_by_role("heading", name=re.compile("is now in use")).wait_for()
    page.get_by_role("button", name="I deleted it").wait_for()
    screenshot(page, "renewed-delete-old")
    assert fresh.value not in page.content()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"client_secret.limit_reported", "client_secret.deleted_in_entra"} <= actions
