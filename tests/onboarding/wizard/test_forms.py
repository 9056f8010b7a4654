from datetime import date

import pytest
from django.http import QueryDict

from onboarding.models import Mailbox
from onboarding.wizard.forms import MailboxForm, SecretForm, add_months
from tests.onboarding.conftest import ACME_CLIENT_ID, ACME_DIRECTORY_ID

TODAY = date(2026, 11, 28)
SECRET_ID = "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
VALUE = "Ab18Q~" + "x" * 34


def secret_form(app, **fields):
    data = QueryDict(mutable=True)
    data.update({"value": VALUE, "secret_id": SECRET_ID, "expiry": "180", **fields})
    return SecretForm(data, app=app, today=TODAY)


def test_it_accepts_a_secret_with_a_preset_expiry(acme_app):
    form = secret_form(acme_app)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["expires_on"] == date(2027, 5, 27)
    assert (form.warnings, form.notices) == ([], [])


@pytest.mark.parametrize(
    ("days", "expected"), [("90", date(2027, 2, 26)), ("730", date(2028, 11, 27))]
)
def test_it_counts_the_days_entra_offers(acme_app, days, expected):
    form = secret_form(acme_app, expiry=days)
    assert form.is_valid()
    assert form.cleaned_data["expires_on"] == expected


def test_it_trims_the_value_and_says_so(acme_app):
    form = secret_form(acme_app, value=f"  {VALUE}\n")
    assert form.is_valid()
    assert form.cleaned_data["value"] == VALUE
    assert [notice.code for notice in form.notices] == ["trimmed"]


def test_it_asks_before_saving_a_value_that_looks_like_the_secret_id(acme_app):
    form = secret_form(acme_app, value="0f6c1b7e-3a52-4d1e-9c5b-2b1f0e9a7d41")
    assert not form.is_valid()
    assert form.needs_confirmation
    assert "copy the Value column" in form.value_warnings[0].message
    assert "value" not in form.errors
    assert "save anyway" in form.errors["save_anyway"][0]
    assert form.data["acknowledged"] == "guid"


def test_it_saves_after_the_warning_was_confirmed(acme_app):
    value = "0f6c1b7e-3a52-4d1e-9c5b-2b1f0e9a7d41"
    form = secret_form(acme_app, value=value, acknowledged="guid", save_anyway="on")
    assert form.is_valid(), form.errors


def test_it_asks_again_when_a_new_warning_appears(acme_app):
    form = secret_form(acme_app, value="short", acknowledged="guid", save_anyway="on")
    assert not form.is_valid()
    assert form.needs_confirmation
    assert form.data["acknowledged"] == "unknown_shape"


def test_it_does_not_take_save_anyway_without_having_shown_the_warning(acme_app):
    form = secret_form(acme_app, value="short", save_anyway="on")
    assert not form.is_valid()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SECRET_ID, "This is the Secret ID"),
        (ACME_CLIENT_ID, "Application (client) ID"),
        (ACME_DIRECTORY_ID, "Directory (tenant) ID"),
        ("Ab1" + "*" * 37, "add a new client secret"),
        ("   ", "Paste the Value column"),
    ],
)
def test_it_blocks_a_wrong_value_even_with_save_anyway(acme_app, value, expected):
    form = secret_form(acme_app, value=value, save_anyway="on", acknowledged="guid,unknown_shape")
    assert not form.is_valid()
    assert not form.needs_confirmation
    assert expected in " ".join(form.errors["value"])


def test_it_wants_the_secret_id_as_a_guid(acme_app):
    form = secret_form(acme_app, secret_id="Oauth")
    assert "Secret ID" in form.errors["secret_id"][0]


def test_it_spots_the_client_id_in_the_secret_id_field(acme_app):
    form = secret_form(acme_app, secret_id=ACME_CLIENT_ID)
    assert "ID of the app" in form.errors["secret_id"][0]


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("5/27/2027", date(2027, 5, 27)),
        ("2027-05-27", date(2027, 5, 27)),
        ("28.11.2028", date(2028, 11, 28)),
    ],
)
def test_it_takes_the_date_entra_displays(acme_app, shown, expected):
    form = secret_form(acme_app, expiry="custom", expires_on=shown)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["expires_on"] == expected


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("", "Enter the date"),
        ("soon", "for example 5/27/2027"),
        ("11/28/2026", "has passed"),
        ("2025-01-01", "has passed"),
        ("2028-11-30", "24 months"),
    ],
)
def test_it_refuses_an_impossible_custom_date(acme_app, shown, expected):
    form = secret_form(acme_app, expiry="custom", expires_on=shown)
    assert not form.is_valid()
    assert expected in form.errors["expires_on"][0]


def test_it_asks_which_date_was_meant_when_day_and_month_could_swap(acme_app):
    form = secret_form(acme_app, expiry="custom", expires_on="06/05/2027")
    assert not form.is_valid()
    message = form.expiry_warnings[0].message
    assert "5 June 2027" in message
    assert "2027-05-06" in message
    again = secret_form(
        acme_app,
        expiry="custom",
        expires_on="06/05/2027",
        acknowledged="date_ambiguous",
        save_anyway="on",
    )
    assert again.is_valid()
    assert again.cleaned_data["expires_on"] == date(2027, 6, 5)


def test_it_refuses_an_unknown_expiry_choice(acme_app):
    assert "expiry" in secret_form(acme_app, expiry="9999").errors


def test_it_adds_months_at_the_end_of_february():
    assert add_months(date(2024, 2, 29), 24) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def mailbox_form(tenant, mailbox=None, **data):
    return MailboxForm(data, tenant=tenant, mailbox=mailbox)


def test_it_refuses_a_mailbox_already_in_the_list(acme):
    Mailbox.objects.create(tenant=acme, address="dispatch@acme.example")
    form = mailbox_form(acme, address="Dispatch@acme.example")
    assert "already" in form.errors["address"][0]


def test_it_lets_a_mailbox_keep_its_own_address(acme):
    mailbox = Mailbox.objects.create(tenant=acme, address="dispatch@acme.example")
    assert mailbox_form(acme, mailbox, address="dispatch@acme.example").is_valid()


def test_it_allows_the_same_address_in_another_tenant(acme, globex):
    Mailbox.objects.create(tenant=globex, address="dispatch@acme.example")
    assert mailbox_form(acme, address="dispatch@acme.example").is_valid()


def test_it_takes_a_personal_account_as_mailbox_for_its_owner_to_connect(acme):
    form = mailbox_form(acme, address="Me@Outlook.com")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["address"] == "me@outlook.com"


def test_it_offers_to_forget_a_password_only_when_one_is_stored(acme):
    bare = Mailbox.objects.create(tenant=acme, address="a@acme.example")
    stored = Mailbox.objects.create(tenant=acme, address="b@acme.example", password_ciphertext=b"x")
    assert "forget_password" not in mailbox_form(acme, bare).fields
    assert "forget_password" in mailbox_form(acme, stored).fields


def test_it_refuses_a_new_password_and_forgetting_it_at_once(acme):
    stored = Mailbox.objects.create(tenant=acme, address="b@acme.example", password_ciphertext=b"x")
    form = mailbox_form(acme, stored, address="b@acme.example", password="pw", forget_password="on")
    assert "not both" in form.errors["password"][0]


def test_it_keeps_spaces_in_a_password(acme):
    form = mailbox_form(acme, address="a@acme.example", password=" pass word ")
    assert form.is_valid()
    assert form.cleaned_data["password"] == " pass word "


def test_the_password_field_says_what_the_password_sign_in_needs_in_entra(acme):
    # A setup that follows the guide has only application permissions: the password
    # sign-in then fails with "consent missing" unless the admin is told this up front.
    help_text = str(MailboxForm(tenant=acme, mailbox=None)["password"].help_text)
    assert "delegated Microsoft Graph permission Mail.Read" in help_text
    assert "step 3" in help_text
