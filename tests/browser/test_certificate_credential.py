"""Step 4 with a certificate, walked as a new admin would: from the invitation through
the guide's steps in the emulated Entra admin center; the portal makes the certificate,
the admin downloads it, uploads it under Certificates & secrets > Certificates, copies
the Certificate ID back, and the check signs in with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from onboarding.models import AppRegistration, CertificateDraft, ClientSecret, Mailbox
from tests.browser.conftest import accept_invitation, fits_a_phone
from tests.browser.entra_steps import (
    open_in_entra,
    save_portal_certificate,
    walk_steps_1_to_3,
)
from tests.conftest import PASSWORD
from tests.onboarding.check_helpers import request_check

pytestmark = pytest.mark.browser

ADMIN = "admin@contoso.onmicrosoft.com"
MS_PASSWORD = "Admin-pass-1"
MAILBOX = "dispatch@contoso.onmicrosoft.com"
UPLOAD_LABEL = (
    "Upload a certificate (public key) with one of the following file types: .cer, .pem, .crt"
)


@pytest.fixture
def contoso(emulated_microsoft):
    directory = emulated_microsoft.add_directory("Contoso", "contoso.onmicrosoft.com")
    emulated_microsoft.add_user(directory, ADMIN, MS_PASSWORD, admin=True)
    emulated_microsoft.add_user(directory, MAILBOX, MS_PASSWORD)
    return directory


def step(page, screenshot, name: str, heading: str) -> None:
    page.get_by_role("heading", name=heading, exact=True).wait_for()
    fits_a_phone(page)
    screenshot(page, name)


def copied(page, label: str) -> str:
    value = page.get_by_role("button", name=f"Copy {label}").first.get_attribute("data-copy")
    assert value is not None
    return value


def test_a_new_admin_connects_with_a_certificate_uploaded_in_entra(
    admin_page,
    portal,
    emulated_microsoft,
    contoso,
    acme,
    charlie,
    settings,
    screenshot,
    tmp_path: Path,
):
    settings.ENTRA_ADMIN_URL = emulated_microsoft.base_url
    page = admin_page
    accept_invitation(page, portal, acme, charlie)
    page.get_by_role("link", name="Set up the mailbox connection").click()

    walk_steps_1_to_3(page, ADMIN, MS_PASSWORD)

    # Step 4: the certificate instead of a secret.
    page.get_by_role("heading", name="Client secret", exact=True).wait_for()
    section = page.locator("#certificate")
    expect(section.get_by_role("heading", name="Certificate (recommended)")).to_be_visible()
    section.get_by_role("button", name="Create a certificate").click()
    page.get_by_text(re.compile(r"Certificate made \(thumbprint [0-9A-F]{40}\)")).wait_for()
    thumbprint = copied(section, "Thumbprint")
    assert re.fullmatch(r"[0-9A-F]{40}", thumbprint)
    # The message names the 40-character thumbprint: it wraps on a phone too.
    step(page, screenshot, "4-certificate-made", "Client secret")

    with page.expect_download() as downloading:
        section.get_by_role("link", name="Download the certificate (.cer)").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".cer")
    cer = tmp_path / download.suggested_filename
    download.save_as(cer)
    body = cer.read_text()
    assert body.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in body

    entra = open_in_entra(page, "Certificates for this app")
    entra.get_by_role("heading", name="Certificates & secrets").wait_for()
    entra.get_by_label(UPLOAD_LABEL).set_input_files(cer)
    entra.get_by_label("Description").fill("Mailbox portal")
    entra.get_by_role("button", name="Add", exact=True).click()
    listed = (
        entra.get_by_role("table", name="Certificates")
        .get_by_role("row")
        .filter(has=entra.get_by_test_id("certificate-id"))
    )
    expect(listed).to_have_count(1)
    expect(listed.get_by_test_id("certificate-thumbprint")).to_have_text(thumbprint)
    expect(listed).to_contain_text("Mailbox portal")
    certificate_id = listed.get_by_test_id("certificate-id").inner_text().strip()
    screenshot(entra, "4-entra-certificate-uploaded")

    # A wrong Certificate ID (the thumbprint, not a GUID) is refused; nothing is saved.
    page.bring_to_front()
    section.get_by_label("Certificate ID").fill(thumbprint)
    section.get_by_role("button", name="Save certificate").click()
    summary = page.get_by_role("alert").filter(has_text="Nothing was saved yet")
    expect(summary).to_contain_text("The Certificate ID is 32 letters and digits in five groups")
    expect(section.get_by_label("Certificate ID")).to_have_value(thumbprint)
    step(page, screenshot, "4-certificate-id-wrong", "Client secret")
    app = AppRegistration.objects.get(tenant=acme)
    assert not ClientSecret.objects.filter(app=app).exists()
    assert CertificateDraft.objects.filter(app=app, thumbprint=thumbprint).exists()

    # The Object ID, for the automatic renewal, is on the app's Overview page.
    entra.bring_to_front()
    entra.get_by_role("link", name="Overview").click()
    object_id = entra.locator("#object-id").inner_text().strip()
    client_id = entra.locator("#client-id").inner_text().strip()

    # The Application (client) ID pasted as the Object ID is named and refused.
    page.bring_to_front()
    section.get_by_label("Certificate ID").fill(certificate_id)
    section.get_by_label("Object ID").fill(client_id)
    section.get_by_role("button", name="Save certificate").click()
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved yet")).to_contain_text(
        "This is the Application (client) ID"
    )
    assert not ClientSecret.objects.filter(app=app).exists()

    section.get_by_label("Certificate ID").fill(certificate_id)
    section.get_by_label("Object ID").fill(object_id)
    section.get_by_role("button", name="Save certificate").click()
    page.get_by_text(f"Certificate {thumbprint} saved").wait_for()
    assert str(AppRegistration.objects.get(tenant=acme).object_id) == object_id.lower()

    step(page, screenshot, "5-certificate-saved", "Mailbox")
    page.get_by_label("Mailbox address").fill(MAILBOX)
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text(f"{MAILBOX} added").wait_for()
    step(page, screenshot, "5-mailbox-added", "Mailbox")
    page.get_by_role("link", name="Continue to verify").click()

    step(page, screenshot, "6-verify", "Verify")
    # The real check ran (eager tasks): msal signed in with the certificate's key.
    page.locator('.check-status [data-status="passed"]').wait_for()
    screenshot(page, "6-verify-passed")
    assert "PRIVATE" not in page.content()

    # Step 4 now says a certificate is saved, with its thumbprint and ID.
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/4/")
    saved = page.get_by_role("status").filter(has_text="A certificate is saved")
    expect(saved).to_contain_text(thumbprint)
    expect(saved).to_contain_text(certificate_id)
    step(page, screenshot, "4-certificate-saved", "Client secret")

    # The Done page says the certificate renews itself, and from when.
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/7/")
    expect(page.locator(".connection-facts")).to_contain_text("Certificate expires")
    expect(page.locator(".connection-facts .rollover")).to_contain_text(
        "The portal renews it by itself from"
    )
    expect(page.get_by_role("link", name="Switch to a certificate")).to_have_count(0)
    step(page, screenshot, "7-done-certificate", "Your mailbox is connected")

    credential = ClientSecret.objects.get(app=app)
    assert credential.kind == "certificate"
    assert credential.is_certificate
    assert credential.thumbprint == thumbprint
    assert str(credential.secret_id).lower() == certificate_id.lower()
    assert "PRIVATE KEY" in credential.reveal()
    assert not CertificateDraft.objects.filter(app=app).exists()
    assert Mailbox.objects.get(tenant=acme).address == MAILBOX


def test_an_admin_on_a_client_secret_switches_to_a_certificate_from_the_done_page(
    admin_page,
    portal,
    emulated_microsoft,
    through_step_4,
    acme,
    alice,
    settings,
    screenshot,
    tmp_path: Path,
):
    """The secret keeps working until the certificate is proved; then the page names
    the Secret ID to delete in Entra."""
    settings.ENTRA_ADMIN_URL = emulated_microsoft.base_url
    ready = through_step_4
    mailbox = Mailbox.objects.create(tenant=acme, address=ready.mailbox.upn)
    request_check(mailbox=mailbox, trigger="wizard")  # eager: the secret is proved
    secret = ClientSecret.objects.get(app__tenant=acme)
    assert secret.status == ClientSecret.Status.ACTIVE

    page = admin_page
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/7/")
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your mailbox is connected").wait_for()
    expect(page.locator(".connection-facts")).to_contain_text("Client secret expires")
    step(page, screenshot, "7-done-secret", "Your mailbox is connected")
    page.get_by_role("link", name="Switch to a certificate").click()

    page.get_by_role("heading", name="Client secret", exact=True).wait_for()
    thumbprint, _ = save_portal_certificate(
        page, tmp_path, sign_in=(ready.admin.upn, "Admin-pass-1")
    )
    status = page.get_by_role("status").filter(has_text="is now in use")
    expect(status).to_contain_text(f"The new certificate {thumbprint} is now in use")
    expect(page.get_by_role("button", name="Copy Secret ID to delete")).to_have_attribute(
        "data-copy", str(secret.secret_id)
    )
    step(page, screenshot, "renewed-to-certificate", "Moving Acme Logistics to a certificate")
    assert ClientSecret.objects.get(pk=secret.pk).status == ClientSecret.Status.RETIRED
    certificate = ClientSecret.objects.get(app__tenant=acme, status="active")
    assert certificate.is_certificate
    assert certificate.thumbprint == thumbprint

    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/7/")
    expect(page.locator(".connection-facts .rollover")).to_contain_text(
        "The portal renews it by itself from"
    )
    expect(page.get_by_role("link", name="Switch to a certificate")).to_have_count(0)
