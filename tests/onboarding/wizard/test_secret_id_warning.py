"""Step 4: why the Secret ID is asked, the way on once a secret is saved, and a warning
when a third different value arrives under one Secret ID."""

from __future__ import annotations

from datetime import date

from django.http import QueryDict
from django.urls import reverse

from onboarding.models import ClientSecret
from onboarding.wizard.forms import SAME_SECRET_ID, SecretForm

TODAY = date(2026, 11, 28)
SECRET_ID = "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def value(n: int) -> str:
    return f"Ab{n}8Q~" + "x" * 34


def saved(app, plaintext: str, secret_id: str = SECRET_ID) -> ClientSecret:
    secret = ClientSecret(app=app, secret_id=secret_id, expires_on=date(2027, 5, 27))
    secret.set_value(plaintext)
    secret.save()
    return secret


def form(app, plaintext: str, **extra) -> SecretForm:
    data = QueryDict(mutable=True)
    data.update({"value": plaintext, "secret_id": SECRET_ID, "expiry": "180", **extra})
    return SecretForm(data, app=app, today=TODAY)


def test_a_second_value_under_a_secret_id_is_a_correction_and_passes(acme_app):
    saved(acme_app, value(1))
    second = form(acme_app, value(2))
    assert second.is_valid(), second.errors
    assert second.warnings == []


def test_a_third_different_value_under_one_secret_id_is_warned_about(acme_app):
    saved(acme_app, value(1))
    saved(acme_app, value(2))
    third = form(acme_app, value(3))
    assert not third.is_valid()
    assert [w.message for w in third.secret_id_warnings] == [SAME_SECRET_ID]
    assert third.value_warnings == []


def test_the_same_value_saved_again_is_not_a_new_value(acme_app):
    saved(acme_app, value(1))
    saved(acme_app, value(2))
    again = form(acme_app, value(2))
    assert again.is_valid(), again.errors


def test_values_under_other_secret_ids_do_not_count(acme_app):
    saved(acme_app, value(1), secret_id="6b2e3d4c-5f6a-4b7c-9d8e-0f1a2b3c4d5e")
    saved(acme_app, value(2), secret_id="7c3f4e5d-6a7b-4c8d-8e9f-1a2b3c4d5e6f")
    assert form(acme_app, value(3)).is_valid()


def test_the_warning_is_confirmed_with_save_anyway(acme_app):
    saved(acme_app, value(1))
    saved(acme_app, value(2))
    confirmed = form(acme_app, value(3), acknowledged="same_secret_id", save_anyway="on")
    assert confirmed.is_valid(), confirmed.errors


def test_a_stored_value_that_no_longer_decrypts_is_left_out(acme_app):
    saved(acme_app, value(1))
    ClientSecret.objects.create(
        app=acme_app,
        secret_id=SECRET_ID,
        value_ciphertext=b"not-a-real-ciphertext",
        value_key_id="test",
        hint="Ab2",
        expires_on=date(2027, 5, 27),
    )
    assert form(acme_app, value(3)).is_valid()


def test_the_secret_id_field_says_why_it_is_asked(as_alice, acme_configured, acme):
    page = as_alice.get(reverse("onboarding:secret", args=[acme.pk])).content.decode()
    assert "Entra lists an app's secrets by this ID" in page
    assert "the portal can tell you which one to delete" in page


def test_with_a_saved_secret_the_step_offers_the_way_on(as_alice, acme_ready, acme):
    page = as_alice.get(reverse("onboarding:secret", args=[acme.pk])).content.decode()
    mailbox = reverse("onboarding:mailbox", args=[acme.pk])
    assert f'href="{mailbox}">Continue to step 5: Mailbox</a>' in page
    assert "Replace the secret" in page


def test_an_error_is_summed_up_at_the_top_with_a_link_to_its_field(as_alice, acme_configured, acme):
    response = as_alice.post(
        reverse("onboarding:secret", args=[acme.pk]),
        {"value": value(1), "secret_id": "not a guid", "expiry": "180"},
    )
    page = response.content.decode()
    assert 'role="alert" tabindex="-1" data-error-summary' in page
    assert '<a href="#id_secret_id" class="alert-link">Secret ID</a>' in page
    assert "For your safety the Value field is emptied" in page
    assert value(1) not in page


def test_the_value_field_offers_the_show_button_and_a_length_limit(as_alice, acme_configured, acme):
    page = as_alice.get(reverse("onboarding:secret", args=[acme.pk])).content.decode()
    assert 'data-show-toggle="Show value"' in page
    assert 'maxlength="1024"' in page
