"""The portal's words instead of Django's generic form messages (accounts/locale), the
sign-in's message, and "You are signed out"."""

from __future__ import annotations

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from django import forms

from accounts.views import SIGNED_OUT
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
CATALOG = Path(__file__).resolve().parents[2] / "accounts" / "locale" / "en" / "LC_MESSAGES"


class AnyForm(forms.Form):
    """Plain Django fields, as every form of the portal (and the Django admin) has them."""

    name = forms.CharField(max_length=5)
    email = forms.EmailField()


def test_a_null_character_is_named_and_the_way_out_given():
    form = AnyForm({"name": "a\x00b", "email": "a@example.com"})
    assert form.errors["name"] == [
        "This contains an invisible null character, which some programs add when you "
        "copy. Type it in rather than pasting it."
    ]


def test_a_malformed_address_is_shown_its_expected_shape():
    form = AnyForm({"name": "a", "email": "not an address"})
    assert form.errors["email"] == ["Enter the address as name@example.com."]


def test_a_value_too_long_says_how_long_it_is_and_what_fits():
    form = AnyForm({"name": "abcdefg", "email": "a@example.com"})
    assert form.errors["name"] == [
        "This is 7 characters long; at most 5 fit here. Check that you copied only what "
        "was asked for."
    ]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_the_compiled_catalog_is_up_to_date_with_its_source(tmp_path):
    # The .mo is what Django reads; a .po edited without `msgfmt` would change nothing.
    fresh = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(fresh), str(CATALOG / "django.po")],
        check=True,
        capture_output=True,
    )
    with fresh.open("rb") as new, (CATALOG / "django.mo").open("rb") as committed:
        expected = gettext.GNUTranslations(new)._catalog  # type: ignore[attr-defined]
        actual = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    assert actual == expected


def test_a_failed_sign_in_says_only_the_password_is_case_sensitive(client, alice):
    response = client.post(LOGIN, {"username": alice.email, "password": PASSWORD.upper()})
    page = response.content.decode()
    assert "The e-mail address or the password is not right." in page
    assert "capital letters count there (they do not in the address)" in page
    assert "Note that both fields may be case-sensitive" not in page
    # The summary at the top is what the focus moves to (static/js/portal.js).
    assert "data-error-summary" in page
    assert 'tabindex="-1"' in page


def test_the_address_may_be_typed_in_any_case(client, alice):
    response = client.post(LOGIN, {"username": alice.email.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_the_sign_in_field_is_an_email_field(client, db):
    page = client.get(LOGIN).content.decode()
    assert 'type="email" name="username"' in page
    assert 'autocomplete="email"' in page


def test_signing_out_says_so_on_the_sign_in_page(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert SIGNED_OUT in response.content.decode()


def test_signing_out_without_a_session_says_nothing_it_did_not_do(client, db):
    response = client.post("/accounts/logout/", follow=True)
    assert SIGNED_OUT not in response.content.decode()


def test_the_reset_form_names_two_different_passwords_in_the_portals_words(client, alice):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    token = default_token_generator.make_token(alice)
    start = client.get(f"/accounts/password-reset/{uid}/{token}/", follow=True)
    form_url = start.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a brand new passphrase 42", "new_password2": "another passphrase 42"},
    )
    page = response.content.decode()
    assert "The two passwords are not the same." in page
    assert "match" not in page  # Django's "The two password fields didn't match."
    assert "Repeat the new password" in page
