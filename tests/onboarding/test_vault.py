import logging
import stat
from datetime import date

import pytest
from django.apps import apps
from django.db import models

from onboarding import vault
from onboarding.models import AppRegistration, ClientSecret, Mailbox
from portal import keyring
from tests.canary import new_canary

OLD = keyring.generate_entry("old")
NEW = keyring.generate_entry("new")


@pytest.fixture
def app(acme):
    return AppRegistration.objects.create(
        tenant=acme, client_id="11111111-2222-3333-4444-555555555555", directory="acme.example"
    )


def make_secret(app, value: str) -> ClientSecret:
    secret = ClientSecret(
        app=app, secret_id="99999999-2222-3333-4444-555555555555", expires_on=date(2030, 1, 1)
    )
    secret.set_value(value)
    secret.save()
    return secret


def test_it_round_trips_a_client_secret_through_the_database(app, canary):
    value = canary()
    secret = make_secret(app, value)
    stored = ClientSecret.objects.get(pk=secret.pk)
    assert stored.reveal() == value
    assert stored.hint == value[:3]
    assert stored.value_key_id == "test-1"
    assert value.encode() not in bytes(stored.value_ciphertext)


def test_it_round_trips_a_mailbox_password_and_clears_it(acme, canary):
    password = canary("password")
    mailbox = Mailbox(tenant=acme, address="ops@acme.example")
    mailbox.set_password(password)
    mailbox.save()
    assert Mailbox.objects.get(pk=mailbox.pk).reveal_password() == password
    mailbox.set_password(None)
    mailbox.save()
    stored = Mailbox.objects.get(pk=mailbox.pk)
    assert (stored.reveal_password(), stored.password_key_id, stored.has_password) == (
        None,
        "",
        False,
    )


def test_it_keeps_no_plaintext_on_the_instance(app, canary):
    value = canary()
    secret = make_secret(app, value)
    assert not any(value in str(attribute) for attribute in vars(secret).values())


def test_it_refuses_an_empty_client_secret(app):
    with pytest.raises(ValueError, match="cannot be empty"):
        make_secret(app, "")


def test_it_uses_a_fresh_nonce_for_each_encryption():
    ring = keyring.parse_keyring(NEW)
    binding = keyring.Binding("onboarding.clientsecret", "1", "value")
    first, second = ring.encrypt("same", binding), ring.encrypt("same", binding)
    assert first != second
    assert ring.decrypt(first, binding) == ring.decrypt(second, binding) == "same"


def test_it_lays_out_the_blob_as_version_key_id_nonce_and_sealed_text():
    ring = keyring.parse_keyring(NEW)
    blob = ring.encrypt("abc", keyring.Binding("m", "1", "f"))
    assert blob[0] == keyring.FORMAT_VERSION
    assert blob[2 : 2 + blob[1]] == b"new"
    assert len(blob) == 2 + 3 + keyring.NONCE_BYTES + 3 + keyring.TAG_BYTES


def test_it_rejects_every_single_bit_flip_of_a_blob(app, settings):
    settings.ENCRYPTION_KEYRING = ring = keyring.parse_keyring(f"{NEW},{OLD}")
    secret = make_secret(app, new_canary())
    blob = bytes(secret.value_ciphertext)
    binding = vault.secret_column(secret, "value").binding(secret.pk)
    flips = 0
    for index in range(len(blob)):
        for bit in range(8):
            tampered = bytearray(blob)
            tampered[index] ^= 1 << bit
            with pytest.raises(vault.DecryptionError):
                ring.decrypt(bytes(tampered), binding)
            flips += 1
    assert flips == len(blob) * 8
    assert ring.decrypt(blob, binding) == secret.reveal()


def test_it_rejects_a_truncated_or_extended_blob(app):
    secret = make_secret(app, new_canary())
    blob = bytes(secret.value_ciphertext)
    for tampered in (blob[:-1], blob + b"\0", b"", blob[:2]):
        secret.value_ciphertext = tampered
        with pytest.raises(vault.DecryptionError):
            secret.reveal()


def test_it_rejects_a_ciphertext_moved_to_another_row(app):
    first, second = make_secret(app, new_canary()), make_secret(app, new_canary())
    second.value_ciphertext = first.value_ciphertext
    with pytest.raises(vault.DecryptionError, match=str(second.pk)):
        second.reveal()


def test_it_rejects_a_ciphertext_moved_to_another_field(app, acme):
    secret = make_secret(app, new_canary())
    mailbox = Mailbox(tenant=acme, address="ops@acme.example", id=secret.pk)
    mailbox.password_ciphertext = secret.value_ciphertext
    with pytest.raises(vault.DecryptionError, match="field password"):
        mailbox.reveal_password()


def test_it_rejects_a_ciphertext_moved_to_another_tenant(acme, globex):
    ours = Mailbox.objects.create(tenant=acme, address="ops@acme.example")
    theirs = Mailbox.objects.create(tenant=globex, address="ops@globex.example")
    ours.set_password(new_canary("password"))
    ours.save()
    Mailbox.objects.filter(pk=theirs.pk).update(
        password_ciphertext=ours.password_ciphertext, password_key_id=ours.password_key_id
    )
    with pytest.raises(vault.DecryptionError):
        Mailbox.objects.get(pk=theirs.pk).reveal_password()


def test_it_fails_loudly_when_the_key_was_retired(app, settings, caplog):
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(OLD)
    secret = make_secret(app, new_canary())
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(NEW)
    with pytest.raises(vault.DecryptionError, match="key id 'old' is not in the keyring"):
        ClientSecret.objects.get(pk=secret.pk).reveal()
    assert f"ALERT vault: Cannot decrypt onboarding.clientsecret {secret.pk}" in caplog.text


def test_it_names_the_row_but_never_the_secret_when_decryption_fails(app, caplog):
    value = new_canary()
    secret = make_secret(app, value)
    secret.value_ciphertext = bytes(secret.value_ciphertext)[:-1] + b"\0"
    with pytest.raises(vault.DecryptionError) as failure:
        secret.reveal()
    assert str(secret.pk) in str(failure.value)
    assert value not in str(failure.value)
    assert value not in caplog.text
    assert [record.levelname for record in caplog.records] == ["ERROR"]


def test_it_raises_for_an_empty_stored_password_instead_of_returning_it(acme):
    mailbox = Mailbox(tenant=acme, address="ops@acme.example", password_ciphertext=b"")
    with pytest.raises(vault.DecryptionError, match="unknown blob format"):
        mailbox.reveal_password()


def test_it_registers_every_ciphertext_field_as_a_secret_column():
    declared = {
        (model._meta.label, field.name.removesuffix("_ciphertext"))
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.BinaryField) and field.name.endswith("_ciphertext")
    }
    registered = {(column.model_label, column.field) for column in vault.SECRET_COLUMNS}
    assert declared == registered
    for column in vault.SECRET_COLUMNS:
        key_id_field = column.model()._meta.get_field(column.key_id_attr)
        assert getattr(key_id_field, "db_index", False)


def test_it_shows_only_key_ids_in_a_keyring_repr():
    ring = keyring.parse_keyring(f"{NEW},{OLD}")
    assert repr(ring) == "<Keyring active='new' keys=['new', 'old']>"
    assert NEW.split(":")[1] not in repr(ring)


def test_it_reads_comments_new_lines_and_url_safe_base64():
    urlsafe = OLD.replace("+", "-").replace("/", "_")
    ring = keyring.parse_keyring(f"# keys, newest first\n{NEW}\n\n{urlsafe},\n")
    assert ring.key_ids == ["new", "old"]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("no-colon-here", "entry 2 is not of the form key_id:base64key"),
        (":" + NEW.split(":")[1], "entry 2 has an invalid key id"),
        ("bad id:" + NEW.split(":")[1], "entry 2 has an invalid key id"),
        ("x" * 33 + ":" + NEW.split(":")[1], "entry 2 has an invalid key id"),
        ("k2:not*base64!", "entry 2 has a key that is not valid base64"),
        ("k2:" + NEW.split(":")[1][:-4], "entry 2 has a 30-byte key; AES-256 needs 32"),
        ("old:" + NEW.split(":")[1], "entry 2 repeats an earlier key id"),
    ],
)
def test_it_names_the_position_of_a_malformed_entry_without_its_content(entry, problem):
    with pytest.raises(keyring.KeyringError, match=problem) as failure:
        keyring.parse_keyring(f"{OLD},{entry},{NEW}", source="PORTAL_ENCRYPTION_KEYS")
    message = str(failure.value)
    assert message.startswith("PORTAL_ENCRYPTION_KEYS: entry 2")
    assert (entry.partition(":")[2] or entry)[:8] not in message
    assert OLD.split(":")[1][:8] not in message


def test_it_refuses_an_empty_key_list():
    with pytest.raises(keyring.KeyringError, match="holds no key"):
        keyring.parse_keyring(" , \n# nothing\n")


def test_it_creates_a_private_development_key_file_once(tmp_path):
    key_file = tmp_path / "var" / "encryption.keys"
    assert keyring.ensure_key_file(key_file) is True
    first = key_file.read_text()
    assert keyring.ensure_key_file(key_file) is False
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keyring.read_keyring_file(key_file).key_ids == ["dev-1"]
    assert [path.name for path in key_file.parent.iterdir()] == ["encryption.keys"]


def test_it_falls_back_to_the_development_key_file_on_first_use(settings, tmp_path):
    settings.ENCRYPTION_KEYRING = None
    settings.ENCRYPTION_KEYS_DEV_FILE = tmp_path / "encryption.keys"
    binding = keyring.Binding("m", "1", "f")
    blob = vault.current_keyring().encrypt("hello", binding)
    assert settings.ENCRYPTION_KEYS_DEV_FILE.exists()
    assert keyring.read_keyring_file(settings.ENCRYPTION_KEYS_DEV_FILE).decrypt(blob, binding) == (
        "hello"
    )


def test_it_refuses_the_development_file_in_production(settings):
    settings.ENCRYPTION_KEYRING = None
    settings.PRODUCTION = True
    with pytest.raises(keyring.KeyringError, match="PORTAL_ENCRYPTION_KEYS must be set"):
        vault.current_keyring()


def test_it_refuses_an_unregistered_field(app):
    secret = ClientSecret(app=app)
    with pytest.raises(LookupError, match="not a registered secret column"):
        vault.seal(secret, "hint", "abc")


def test_it_logs_nothing_when_all_is_well(app, caplog):
    caplog.set_level(logging.DEBUG, logger="onboarding")
    make_secret(app, new_canary()).reveal()
    assert caplog.records == []
