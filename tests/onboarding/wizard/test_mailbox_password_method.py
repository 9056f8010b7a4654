"""Step 5 and settings.OPERATIONS_SIGN_IN: the mailbox password exists only for the
operations app's password sign-in, so without that method nothing asks for it."""

import pytest
from django.test import override_settings
from django.urls import reverse

from onboarding.checks.results import TEST_HEADER, TEST_SUBJECT_PREFIX
from onboarding.models import Mailbox
from onboarding.wizard.forms import PASSWORD_NOT_NEEDED, MailboxForm
from tests.onboarding.wizard.conftest import mailbox_url

BOTH = frozenset({"interactive", "password"})
WITHOUT_PASSWORD = [frozenset(), frozenset({"interactive"})]


def edit_url(tenant, mailbox):
    return reverse("onboarding:mailbox-edit", args=[tenant.pk, mailbox.pk])


def stored_password(tenant, value="kept"):
    mailbox = tenant.mailboxes.get()
    mailbox.set_password(value)
    mailbox.save()
    return mailbox


# --- the password method on (the default): as before --------------------------------


@override_settings(OPERATIONS_SIGN_IN=BOTH)
def test_with_the_password_method_step_5_asks_for_the_optional_password(
    as_alice, at_mailbox_step, acme
):
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert 'name="password"' in page
    assert "Mailbox password (optional)" in page
    assert "multi-factor authentication" in page


@override_settings(OPERATIONS_SIGN_IN=frozenset({"password"}))
def test_with_the_password_method_a_typed_password_is_stored(as_alice, at_mailbox_step, acme):
    as_alice.post(mailbox_url(acme), {"address": "dispatch@acme.example", "password": "pw 1"})
    assert Mailbox.objects.get().reveal_password() == "pw 1"


@override_settings(OPERATIONS_SIGN_IN=BOTH)
def test_with_the_password_method_the_list_says_whether_one_is_stored(as_alice, acme_ready, acme):
    stored_password(acme)
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert "password stored" in page


# --- the password method off ---------------------------------------------------------


@pytest.mark.parametrize("methods", WITHOUT_PASSWORD)
def test_without_the_password_method_step_5_has_no_password_field(
    as_alice, at_mailbox_step, acme, settings, methods
):
    settings.OPERATIONS_SIGN_IN = methods
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert 'name="password"' not in page
    assert "Mailbox password" not in page
    assert "multi-factor authentication" not in page
    assert "Mail.Read" not in page  # the delegated permission is the password method's


@pytest.mark.parametrize("methods", WITHOUT_PASSWORD)
def test_without_the_password_method_a_posted_password_is_ignored(
    as_alice, at_mailbox_step, acme, settings, methods
):
    settings.OPERATIONS_SIGN_IN = methods
    response = as_alice.post(
        mailbox_url(acme), {"address": "dispatch@acme.example", "password": "sneaked in"}
    )
    assert response.status_code == 302
    assert Mailbox.objects.get().has_password is False


def test_without_the_password_method_a_stored_password_is_kept_but_not_shown(
    as_alice, acme_ready, acme, settings
):
    settings.OPERATIONS_SIGN_IN = frozenset()
    mailbox = stored_password(acme)
    listing = as_alice.get(mailbox_url(acme)).content.decode()
    assert "password stored" not in listing
    assert "no password" not in listing
    edit = as_alice.get(edit_url(acme, mailbox)).content.decode()
    assert 'name="password"' not in edit
    assert PASSWORD_NOT_NEEDED in edit
    # Saving another change keeps it: the vendor may turn the method back on.
    as_alice.post(edit_url(acme, mailbox), {"address": "dispatch@acme.example"})
    mailbox.refresh_from_db()
    assert mailbox.reveal_password() == "kept"


def test_without_the_password_method_a_stored_password_can_be_removed(
    as_alice, acme_ready, acme, settings
):
    settings.OPERATIONS_SIGN_IN = frozenset({"interactive"})
    mailbox = stored_password(acme)
    as_alice.post(
        edit_url(acme, mailbox), {"address": "dispatch@acme.example", "forget_password": "on"}
    )
    mailbox.refresh_from_db()
    assert mailbox.has_password is False


def test_without_the_password_method_no_stored_password_means_nothing_about_one(
    as_alice, acme_ready, acme, settings
):
    settings.OPERATIONS_SIGN_IN = frozenset()
    mailbox = acme.mailboxes.get()
    edit = as_alice.get(edit_url(acme, mailbox)).content.decode()
    assert "password" not in edit.lower().split("<main", 1)[-1].split("</main>")[0]


@pytest.mark.parametrize("methods", WITHOUT_PASSWORD)
def test_the_form_without_the_password_method_cleans_to_no_password(
    acme_ready, acme, settings, methods
):
    settings.OPERATIONS_SIGN_IN = methods
    data = {"address": "other@acme.example", "password": "x"}
    form = MailboxForm(data, tenant=acme, mailbox=None)
    assert form.is_valid(), form.errors
    assert "password" not in form.fields
    assert form.cleaned_data["password"] == ""


# --- what saving sends, said before the button ----------------------------------------


@pytest.mark.parametrize("methods", [BOTH, frozenset()])
def test_step_5_says_saving_sends_one_test_message_to_the_mailbox_itself(
    as_alice, at_mailbox_step, acme, settings, methods
):
    settings.OPERATIONS_SIGN_IN = methods
    settings.PORTAL_CHECK_SEND_TO = ""
    page = as_alice.get(mailbox_url(acme)).content.decode()
    note = page.index("Saving starts the first check")
    assert note < page.index("Save mailbox</button>")
    said = page[note : page.index("</p>", note)]
    assert "from the mailbox to itself" in said
    assert TEST_SUBJECT_PREFIX in said
    assert TEST_HEADER in said


def test_step_5_names_the_deployments_check_address_when_set(
    as_alice, at_mailbox_step, acme, settings
):
    settings.PORTAL_CHECK_SEND_TO = "checks@vendor.example"
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert "from the mailbox to checks@vendor.example" in page
