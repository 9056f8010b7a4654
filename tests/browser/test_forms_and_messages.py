"""The portal's own words on its forms, as a new user meets them (issue 15, #8, #6, #12):
the sign-in's message and "You are signed out", the error summary that takes the focus,
the secret's Show button and the note on a cut paste, the way on from a saved secret, a
mailbox outside the app's directory, and removing a mailbox only after a question."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from microsoft_emulator.scenarios import ready_directory
from onboarding import progress
from onboarding.models import AppRegistration, ClientSecret, Mailbox
from tests.browser.conftest import DESKTOP, PHONE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


@pytest.fixture
def context_at(chromium_browser):
    contexts = []

    def open_page(viewport):
        context = chromium_browser.new_context(viewport=viewport)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context, context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def through_step_3(emulated_microsoft, acme):
    """Contoso set up as the guide says; Acme's steps 1 to 3 done against it."""
    ready = ready_directory(emulated_microsoft)
    app = AppRegistration.objects.create(
        tenant=acme,
        client_id=ready.app.client_id,
        directory=ready.directory.id,
        directory_id=ready.directory.id,
        authentication_confirmed_at=timezone.now(),
        consent_granted_at=timezone.now(),
    )
    progress.record_progress(acme)
    return ready, app


@pytest.fixture
def through_step_4(through_step_3, acme):
    ready, app = through_step_3
    secret = ClientSecret(
        app=app, secret_id=ready.secret.key_id, expires_on=date.today() + timedelta(days=180)
    )
    secret.set_value(ready.secret.value)
    secret.save()
    progress.record_progress(acme)
    return ready


def sign_in(page, portal, user, password=PASSWORD) -> None:
    page.goto(f"{portal.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def focused_text(page) -> str:
    return page.evaluate("document.activeElement.innerText || document.activeElement.id")


@WIDTHS
def test_a_wrong_password_is_summed_up_and_signing_out_says_so(
    context_at, live_server, alice, screenshot, viewport
):
    _, page = context_at(viewport)
    sign_in(page, live_server, alice, password="not the password")
    summary = page.get_by_role("alert").filter(has_text="You are not signed in yet.")
    summary.wait_for()
    assert "The e-mail address or the password is not right." in summary.inner_text()
    assert "capital letters count there" in summary.inner_text()
    assert "case-sensitive" not in page.content()
    # The focus starts on the summary, so a screen reader reads it first.
    assert "You are not signed in yet." in focused_text(page)
    screenshot(page, "login-wrong-password")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome, Alice").wait_for()
    if page.get_by_role("button", name="Menu").is_visible():
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_text("You are signed out.").wait_for()
    screenshot(page, "signed-out")


def test_a_null_character_and_a_bad_address_get_the_portals_words(page, live_server, db):
    page.goto(f"{live_server.url}/accounts/password-reset/")
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_role("button", name="Send the link").click()
    summary = page.get_by_role("alert").filter(has_text="No link was sent yet.")
    summary.wait_for()
    assert "Enter the address as name@example.com." in summary.inner_text()
    assert "Enter a valid email address" not in page.content()
    # The link in the summary puts the cursor in the field.
    summary.get_by_role("link", name="E-mail address").click()
    assert page.evaluate("document.activeElement.id") == "id_email"


@WIDTHS
def test_the_secret_can_be_shown_a_cut_paste_is_named_and_errors_lead_to_their_field(
    context_at, portal, through_step_3, acme, alice, screenshot, viewport
):
    ready, _ = through_step_3
    context, page = context_at(viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal.url)
    sign_in(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/4/")
    page.get_by_text("Entra lists an app's secrets by this ID").wait_for()

    value = page.get_by_label("Value")
    show = page.get_by_role("button", name="Show value")
    assert value.get_attribute("type") == "password"
    assert show.get_attribute("aria-pressed") == "false"
    value.fill(ready.secret.value)
    show.click()
    assert value.get_attribute("type") == "text"
    assert show.get_attribute("aria-pressed") == "true"
    show.click()
    assert value.get_attribute("type") == "password"

    # A paste longer than the field holds: the browser cuts it, the page says so.
    value.fill("")
    page.evaluate("text => navigator.clipboard.writeText(text)", "x" * 1100)
    value.focus()
    page.keyboard.press("Control+V")
    note = page.get_by_text("What you pasted is 1100 characters long")
    note.wait_for()
    assert "holds 1024, so the end was cut off" in note.inner_text()
    screenshot(page, "secret-paste-cut")

    # Saved anyway: the server refuses it, and the summary leads to the field.
    page.get_by_label("Secret ID").fill("not a secret id")
    page.get_by_role("button", name="Save secret").click()
    summary = page.get_by_role("alert").filter(has_text="Nothing was saved yet")
    summary.wait_for()
    assert "Nothing was saved yet" in focused_text(page)
    screenshot(page, "secret-error-summary")
    summary.get_by_role("link", name="Secret ID").click()
    assert page.evaluate("document.activeElement.id") == "id_secret_id"

    value.fill(ready.secret.value)
    page.get_by_label("Secret ID").fill(ready.secret.key_id)
    page.get_by_role("button", name="Save secret").click()
    page.get_by_text(f"Secret {ready.secret.value[:3]}… saved, encrypted").wait_for()

    # Back in step 4 with the secret saved, the way on is the first thing offered.
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/4/")
    page.get_by_role("link", name="Continue to step 5: Mailbox").click()
    page.get_by_role("heading", name="Mailbox", exact=True).wait_for()


def test_three_values_under_one_secret_id_are_warned_about(
    page, portal, through_step_3, acme, alice
):
    ready, app = through_step_3
    for n in (1, 2):
        earlier = ClientSecret(app=app, secret_id=ready.secret.key_id, expires_on=date.today())
        earlier.set_value(f"Ab{n}8Q~" + "y" * 34)
        earlier.save()
    sign_in(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/4/")
    page.get_by_label("Value").fill(ready.secret.value)
    page.get_by_label("Secret ID").fill(ready.secret.key_id)
    page.get_by_role("button", name="Replace the secret").click()
    page.get_by_text("Three different values have now been entered with this Secret ID").wait_for()
    page.get_by_label("Value").fill(ready.secret.value)
    page.get_by_label("I have checked the warnings above: save it anyway.").check()
    page.get_by_role("button", name="Replace the secret").click()
    page.get_by_text(f"Secret {ready.secret.value[:3]}… saved, encrypted").wait_for()


@WIDTHS
def test_a_mailbox_outside_the_directory_is_warned_about_and_removing_asks_first(
    context_at, portal, through_step_4, acme, alice, screenshot, viewport
):
    ready = through_step_4
    _, page = context_at(viewport)
    sign_in(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/5/")
    address = page.get_by_label("Mailbox address")
    assert address.get_attribute("type") == "email"

    # A domain no Microsoft 365 directory has (a typo): a warning, nothing saved yet.
    address.fill("dispatch@contoso-typo.example")
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text("Nothing was saved yet: please check the warning below.").wait_for()
    page.get_by_text("contoso-typo.example is not a verified domain").wait_for()
    # The warning is read out with the field it is about.
    assert "id_address_warning_1" in address.get_attribute("aria-describedby").split()
    screenshot(page, "mailbox-unknown-domain")
    assert not Mailbox.objects.exists()

    # The right address, at a verified domain of the app's directory, saves at once.
    page.get_by_label("Mailbox address").fill(ready.mailbox.upn)
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text(f"{ready.mailbox.upn} added").wait_for()

    # Removing asks first; "Keep it" keeps it.
    page.get_by_role("link", name=f"Remove {ready.mailbox.upn}").click()
    page.get_by_role("heading", name=f"Remove {ready.mailbox.upn}?").wait_for()
    page.get_by_text("Nothing changes in Microsoft 365").wait_for()
    screenshot(page, "mailbox-remove-question")
    page.get_by_role("link", name="Keep it").click()
    page.get_by_text(ready.mailbox.upn).first.wait_for()
    assert Mailbox.objects.filter(address=ready.mailbox.upn).exists()
    page.get_by_role("link", name=f"Remove {ready.mailbox.upn}").click()
    page.get_by_role("button", name=f"Remove {ready.mailbox.upn}").click()
    page.get_by_text(f"{ready.mailbox.upn} removed").wait_for()
    assert not Mailbox.objects.exists()


def test_a_mailbox_of_another_directory_can_be_saved_after_confirming(
    page, portal, through_step_4, emulated_microsoft, acme, alice
):
    emulated_microsoft.add_directory("Fabrikam", "fabrikam.example")
    sign_in(page, portal, alice)
    page.goto(f"{portal.url}/onboarding/{acme.pk}/step/5/")
    page.get_by_label("Mailbox address").fill("orders@fabrikam.example")
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text("fabrikam.example belongs to another Microsoft 365 directory").wait_for()
    page.get_by_label("The address is right: save it anyway.").check()
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_text("orders@fabrikam.example added").wait_for()
