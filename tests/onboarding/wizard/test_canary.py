"""Secrets typed into the wizard's real forms never show up anywhere but encrypted.

Logs, pages, task messages and e-mails are checked by the canary plugin at the end
of the test (tests/canary.py); the database here."""

import pytest
from django.urls import reverse

from onboarding.models import ClientSecret, Mailbox
from tests.canary import assert_absent_from_database

SECRET_ID = "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@pytest.mark.django_db(transaction=True)
def test_it_keeps_wizard_secrets_out_of_every_channel(client, alice, acme, acme_consented, canary):
    value, password = canary(), canary("password")
    client.force_login(alice)
    secret_url = reverse("onboarding:secret", args=[acme.pk])
    # A warning first (the value padded and oddly cut), so the form is shown again.
    warned = client.post(secret_url, {"value": value[:20], "secret_id": SECRET_ID, "expiry": "90"})
    assert warned.status_code == 200
    client.post(secret_url, {"value": f" {value} ", "secret_id": SECRET_ID, "expiry": "180"})
    client.get(secret_url)
    mailbox_url = reverse("onboarding:mailbox", args=[acme.pk])
    client.post(mailbox_url, {"address": "not an address", "password": password})
    client.post(mailbox_url, {"address": "ops@acme.example", "password": password})
    client.get(mailbox_url)
    client.get(reverse("onboarding:verify", args=[acme.pk]))
    assert ClientSecret.objects.get(status="pending").reveal() == value
    assert Mailbox.objects.get().reveal_password() == password
    assert_absent_from_database(value, password)
