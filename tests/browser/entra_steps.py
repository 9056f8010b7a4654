"""The guide's steps in the emulated Entra admin center, as an admin clicks them, for
the browser tests that walk the wizard."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError


def sign_in_to_microsoft(page, upn: str, password: str) -> None:
    page.get_by_label("Email, phone, or Skype").fill(upn)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def open_in_entra(page, link_name: str):
    """Follow one of the wizard's deep links. They open the admin center in one tab
    named "entra" and reuse it; after the consent round trip through Microsoft the
    wizard's tab no longer reaches that tab (the browser cut the tie), so the next link
    opens a new one, reused from then on."""
    link = page.get_by_role("link", name=link_name)
    others = [other for other in page.context.pages if other is not page]
    before = {id(other): other.url for other in others}
    try:
        with page.context.expect_page(timeout=5_000) as opened:
            link.click()
        tab = opened.value
    except PlaywrightTimeoutError:
        tab = others[-1]  # the Entra tab, reused
        tab.wait_for_url(lambda url: url != before[id(tab)])
    tab.wait_for_load_state()
    return tab


def entra_register(tab, name: str, upn: str, password: str) -> tuple[str, str]:
    """Signs in and registers the app; returns its client id and directory id."""
    sign_in_to_microsoft(tab, upn, password)
    tab.get_by_role("heading", name="Register an application").wait_for()
    tab.get_by_label("Name", exact=True).fill(name)
    # The emulator words the option more briefly than Entra does.
    tab.get_by_label(
        re.compile(r"^Accounts in any organizational directory .* and personal")
    ).check()
    tab.get_by_label("Select a platform").select_option("Web")
    tab.get_by_label("Redirect URI").fill("https://localhost")
    tab.get_by_role("button", name="Register").click()
    return tab.locator("#client-id").inner_text(), tab.locator("#tenant-id").inner_text()


def entra_authentication(tab, uris: list[str]) -> None:
    tab.get_by_role("heading", name="Authentication").wait_for()
    for uri in uris:
        tab.get_by_label("Add URI").fill(uri)
        tab.get_by_label("Access tokens (used for implicit flows)").check()
        tab.get_by_label("ID tokens (used for implicit and hybrid flows)").check()
        tab.get_by_label("Yes").check()
        tab.get_by_role("button", name="Save").click()
        tab.get_by_text("Successfully updated").wait_for()


def entra_permissions(tab) -> None:
    tab.get_by_role("link", name="Add a permission").click()
    tab.get_by_role("link", name="Application permissions").click()
    tab.get_by_label("Select permissions").fill("mail")
    tab.get_by_role("button", name="Search").click()
    tab.get_by_label("Mail.Read", exact=True).check()
    tab.get_by_label("Mail.Send", exact=True).check()
    tab.get_by_role("button", name="Add permissions").click()


def entra_new_secret(tab) -> tuple[str, str, str]:
    """A new secret on the app's Certificates & secrets page: value, id, expiry (M/D/Y)."""
    tab.get_by_role("link", name="New client secret").click()
    tab.get_by_label("Description").fill("Mailbox portal")
    tab.get_by_label("Expires").select_option(label="Recommended: 180 days (6 months)")
    tab.get_by_role("button", name="Add").click()
    row = tab.get_by_role("row").filter(has=tab.get_by_test_id("secret-value"))
    expires = row.get_by_role("cell").nth(1).inner_text().split()[0]
    value = tab.get_by_test_id("secret-value").inner_text()
    return value, tab.get_by_test_id("secret-id").inner_text(), expires


def walk_steps_1_to_3(page, upn: str, password: str, *, with_sign_in: bool = False) -> None:
    """Steps 1 to 3 of the wizard, done in the emulated Entra as the guide says: the app
    registered under the name step 1 suggests, the redirect URIs step 2 lists (the
    mailbox sign-in address too with `with_sign_in`), the permissions, admin consent.
    Starts on step 1; ends when the portal reports the consent."""
    page.get_by_role("heading", name="Register the application").wait_for()
    name = page.get_by_role("button", name="Copy Name").first.get_attribute("data-copy")
    entra = open_in_entra(page, "New registration")
    client_id, _ = entra_register(entra, name, upn, password)
    page.get_by_label("Application (client) ID").fill(client_id)
    page.get_by_label("Directory (tenant) ID").fill("contoso.onmicrosoft.com")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("heading", name="Authentication settings", exact=True).wait_for()
    labels = ["This portal's consent address"]
    if with_sign_in:
        labels.append("This portal's mailbox sign-in address")
    uris = ["http://localhost"] + [
        page.get_by_role("button", name=f"Copy {label}").first.get_attribute("data-copy")
        for label in labels
    ]
    entra_authentication(open_in_entra(page, "Authentication for this app"), uris)
    page.get_by_label("I have set these values in Entra").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="API permissions and admin consent").wait_for()
    entra_permissions(open_in_entra(page, "API permissions for this app"))
    page.get_by_role("button", name="Grant admin consent").click()
    page.get_by_role("button", name="Accept").click()
    page.get_by_text("Admin consent reported by Microsoft's sign-in page").wait_for()


UPLOAD_LABEL = (
    "Upload a certificate (public key) with one of the following file types: .cer, .pem, .crt"
)


def entra_certificates(tab) -> dict[str, str]:
    """The certificates the app's Certificates & secrets page lists: thumbprint -> ID."""
    tab.get_by_role("heading", name="Certificates & secrets").wait_for()
    rows = (
        tab.get_by_role("table", name="Certificates")
        .get_by_role("row")
        .filter(has=tab.get_by_test_id("certificate-id"))
    )
    return {
        row.get_by_test_id("certificate-thumbprint").inner_text().strip(): (
            row.get_by_test_id("certificate-id").inner_text().strip()
        )
        for row in rows.all()
    }


def save_portal_certificate(
    page, folder, *, sign_in: tuple[str, str] | None = None
) -> tuple[str, Any]:
    """Step 4 with the certificate, as its instructions say: create it, download it,
    upload it in Entra (signing in as `sign_in` if Entra asks), copy back the
    Certificate ID and (from the Overview page) the Object ID, save. Returns the
    thumbprint and the admin center's tab."""
    section = page.locator("#certificate")
    section.get_by_role("button", name="Create a certificate").click()
    thumbprint = section.get_by_role("button", name="Copy Thumbprint").first.get_attribute(
        "data-copy"
    )
    with page.expect_download() as downloading:
        section.get_by_role("link", name="Download the certificate (.cer)").click()
    cer = folder / downloading.value.suggested_filename
    downloading.value.save_as(cer)
    entra = open_in_entra(page, "Certificates for this app")
    if sign_in is not None and entra.get_by_label("Email, phone, or Skype").count():
        sign_in_to_microsoft(entra, *sign_in)
    entra.get_by_role("heading", name="Certificates & secrets").wait_for()
    entra.get_by_label(UPLOAD_LABEL).set_input_files(cer)
    entra.get_by_label("Description").fill("Mailbox portal")
    entra.get_by_role("button", name="Add", exact=True).click()
    entra.get_by_test_id("certificate-id").first.wait_for()
    certificate_id = entra_certificates(entra)[thumbprint]
    entra.get_by_role("link", name="Overview").click()
    object_id = entra.locator("#object-id").inner_text().strip()
    page.bring_to_front()
    section.get_by_label("Certificate ID").fill(certificate_id)
    section.get_by_label("Object ID").fill(object_id)
    section.get_by_role("button", name="Save certificate").click()
    return str(thumbprint), entra
