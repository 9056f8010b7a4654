import os
import signal
import subprocess
import sys
import threading
import uuid
from datetime import date
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from onboarding import vault
from onboarding.models import AppRegistration, ClientSecret, Mailbox
from portal import keyring
from tests.conftest import require_service

OLD = keyring.generate_entry("old")
NEW = keyring.generate_entry("new")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def old_rows(acme, settings):
    """Seven client secrets and three mailbox passwords, all under the old key."""
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(OLD)
    app = AppRegistration.objects.create(tenant=acme, client_id=uuid.uuid4(), directory="acme")
    values = {}
    for number in range(7):
        secret = ClientSecret(app=app, secret_id=uuid.uuid4(), expires_on=date(2030, 1, 1))
        secret.set_value(f"abc8Q~value-{number}")
        secret.save()
        values[secret.pk] = f"abc8Q~value-{number}"
    for number in range(3):
        mailbox = Mailbox(tenant=acme, address=f"box{number}@acme.example")
        mailbox.set_password(f"password-{number}")
        mailbox.save()
        values[mailbox.pk] = f"password-{number}"
    Mailbox.objects.create(tenant=acme, address="nopassword@acme.example")
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(f"{NEW},{OLD}")
    return values


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def key_ids() -> dict[str, int]:
    counts: dict[str, int] = {}
    for per_column in vault.key_counts().values():
        for key_id, rows in per_column.items():
            counts[key_id] = counts.get(key_id, 0) + rows
    return counts


def assert_all_readable(values, keys: str) -> None:
    ring = keyring.parse_keyring(keys)
    for secret in ClientSecret.objects.all():
        assert vault.decrypt_blob(vault.SECRET_COLUMNS[0], secret.pk, secret.value_ciphertext, ring)
        assert values[secret.pk] == secret.reveal()
    for mailbox in Mailbox.objects.exclude(password_ciphertext=None):
        assert values[mailbox.pk] == mailbox.reveal_password()


def test_it_rotates_every_secret_column_to_the_active_key(old_rows, settings):
    output = rotate("--batch-size", "3")
    assert "onboarding.ClientSecret.value: 7 rows re-encrypted under key new in 3 batches" in output
    assert "onboarding.Mailbox.password: 3 rows re-encrypted under key new in 1 batch." in output
    assert key_ids() == {"new": 10}
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(NEW)
    assert_all_readable(old_rows, NEW)


def test_it_is_idempotent(old_rows):
    rotate()
    blobs = list(ClientSecret.objects.values_list("value_ciphertext", flat=True))
    output = rotate()
    assert "0 rows re-encrypted" in output
    assert list(ClientSecret.objects.values_list("value_ciphertext", flat=True)) == blobs


def test_it_shows_rows_per_key_id_and_which_key_can_be_retired(old_rows):
    before = rotate("--status")
    assert "Active key: new. Keyring: new, old." in before
    assert "onboarding.ClientSecret.value" in before
    assert "Key old: 10 rows left; run rotate_encryption_keys before retiring it." in before
    rotate()
    after = rotate("--status")
    assert "Key new: active, 10 rows." in after
    assert "Key old: no rows left; it can be retired" in after
    line = next(row for row in after.splitlines() if row.startswith("onboarding.Mailbox"))
    assert line.split() == ["onboarding.Mailbox.password", "new", "3"]


def test_it_flags_rows_under_a_key_missing_from_the_keyring(old_rows, settings):
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(NEW)
    output = rotate("--status")
    assert "Key old: 10 rows under a key that is NOT in the keyring" in output


def test_it_leaves_undecryptable_rows_alone_and_fails(old_rows, settings, caplog):
    broken = ClientSecret.objects.order_by("pk")[0]
    ClientSecret.objects.filter(pk=broken.pk).update(value_ciphertext=b"\x01\x03oldjunk")
    with pytest.raises(CommandError, match="1 rows could not be decrypted"):
        rotate()
    assert key_ids() == {"new": 9, "old": 1}
    assert f"ALERT vault: Cannot decrypt onboarding.clientsecret {broken.pk}" in caplog.text


def test_it_refuses_a_batch_size_below_one(old_rows):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        rotate("--batch-size", "0")


def crash_on_call(number, original):
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise KeyboardInterrupt("killed")
        return original(*args, **kwargs)

    return wrapper


@pytest.mark.django_db(transaction=True)
def test_it_resumes_after_a_crash_between_batches(old_rows, settings):
    with (
        mock.patch.object(vault, "_rotate_batch", crash_on_call(3, vault._rotate_batch)),
        pytest.raises(KeyboardInterrupt),
    ):
        rotate("--batch-size", "3")
    assert key_ids() == {"new": 6, "old": 4}
    assert_all_readable(old_rows, f"{NEW},{OLD}")
    rotate("--batch-size", "3")
    assert key_ids() == {"new": 10}
    assert_all_readable(old_rows, NEW)


@pytest.mark.django_db(transaction=True)
def test_it_resumes_after_a_crash_inside_a_batch(old_rows, settings):
    # The 5th row is the second of the second batch: that batch is rolled back whole.
    with (
        mock.patch.object(vault, "decrypt_blob", crash_on_call(5, vault.decrypt_blob)),
        pytest.raises(KeyboardInterrupt),
    ):
        rotate("--batch-size", "3")
    assert key_ids() == {"new": 3, "old": 7}
    assert_all_readable(old_rows, f"{NEW},{OLD}")
    rotate("--batch-size", "3")
    assert key_ids() == {"new": 10}
    assert_all_readable(old_rows, NEW)


def require_postgres() -> None:
    require_service("PostgreSQL", connection.vendor == "postgresql")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_skips_a_row_a_writer_holds_and_never_clobbers_its_write(old_rows, settings):
    require_postgres()
    target = ClientSecret.objects.order_by("pk")[0]
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            secret = ClientSecret.objects.select_for_update().get(pk=target.pk)
            locked.set()
            release.wait(10)
            secret.set_value("abc8Q~written-meanwhile")
            secret.save()
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert locked.wait(10)
    try:
        output = rotate("--batch-size", "4")
    finally:
        release.set()
        thread.join(10)
    assert "1 rows are still under another key (written by others meanwhile)" in output
    assert ClientSecret.objects.get(pk=target.pk).reveal() == "abc8Q~written-meanwhile"
    assert key_ids() == {"new": 10}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_survives_being_killed_mid_run(acme, settings):
    """SIGKILL a real rotation process while it works; every row stays readable."""
    require_postgres()
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(OLD)
    app = AppRegistration.objects.create(tenant=acme, client_id=uuid.uuid4(), directory="acme")
    values = {}
    for number in range(3000):
        secret = ClientSecret(app=app, secret_id=uuid.uuid4(), expires_on=date(2030, 1, 1))
        secret.set_value(f"abc8Q~killed-{number}")
        values[secret.pk] = f"abc8Q~killed-{number}"
        secret.save()
    process = subprocess.Popen(
        [sys.executable, "-u", "manage.py", "rotate_encryption_keys", "--batch-size", "10", "-v2"],
        cwd=ROOT,
        env=database_env(f"{NEW},{OLD}"),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert "rows so far" in process.stdout.readline()
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    counts = key_ids()
    # Whole batches only: the one being written when killed was rolled back.
    assert counts["new"] % 10 == 0
    assert 0 < counts["new"] < 3000
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(f"{NEW},{OLD}")
    rotate()
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(NEW)
    assert {secret.pk: secret.reveal() for secret in ClientSecret.objects.all()} == values
    assert key_ids() == {"new": 3000}


def database_env(keys: str) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("PORTAL_")}
    return {**env, "DATABASE_URL": url, "PORTAL_ENCRYPTION_KEYS": keys}
