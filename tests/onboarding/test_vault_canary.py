"""A canary secret goes through the vault's whole life and never shows up anywhere.

Logs, pages, task messages and e-mails are checked by the canary plugin at the end
of each test (tests/canary.py); the database is checked here."""

import uuid
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from onboarding import vault
from onboarding.models import AppRegistration, ClientSecret, Mailbox
from portal import keyring
from portal.celery import app as celery_app
from tests.canary import assert_absent_from_database


@celery_app.task(name="tests.use_secret")
def use_secret(secret_id: str) -> int:
    # How real tasks must look: an id in, the plaintext only inside the worker.
    return len(ClientSecret.objects.get(pk=secret_id).reveal())


OLD = keyring.generate_entry("old")
NEW = keyring.generate_entry("new")


@pytest.mark.django_db(transaction=True)
def test_it_keeps_canaries_out_of_every_channel(acme, globex, canary, settings):
    value, password = canary(), canary("password")
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(OLD)
    app = AppRegistration.objects.create(tenant=acme, client_id=uuid.uuid4(), directory="acme")
    secret = ClientSecret(app=app, secret_id=uuid.uuid4(), expires_on=date(2030, 1, 1))
    secret.set_value(value)
    secret.save()
    mailbox = Mailbox(tenant=acme, address="ops@acme.example")
    mailbox.set_password(password)
    mailbox.save()
    assert use_secret.delay(str(secret.pk)).get() == len(value)

    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(f"{NEW},{OLD}")
    call_command("rotate_encryption_keys", "--batch-size", "1", "-v", "2", stdout=StringIO())
    call_command("rotate_encryption_keys", "--status", stdout=StringIO())
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(NEW)
    assert Mailbox.objects.get(pk=mailbox.pk).reveal_password() == password

    moved = Mailbox.objects.create(tenant=globex, address="ops@globex.example")
    moved.password_ciphertext = Mailbox.objects.get(pk=mailbox.pk).password_ciphertext
    with pytest.raises(vault.DecryptionError) as failure:
        moved.reveal_password()
    assert password not in str(failure.value)
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(keyring.generate_entry("other"))
    with pytest.raises(vault.DecryptionError, match="key id 'new' is not in the keyring"):
        use_secret.delay(str(secret.pk))
    assert_absent_from_database(value, password)
