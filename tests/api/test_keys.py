"""Service keys: shown once, stored as a hash, recognisable, expiring, rotating, revoked."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.actors import Actor
from api import keys
from api.models import ServiceAccount, ServiceKey
from onboarding.models import AuditEvent
from tests.canary import assert_absent_from_database

pytestmark = pytest.mark.django_db


def test_a_key_is_recognisable_and_stored_only_as_a_hash(charlie):
    issued = keys.create_account(
        name="Ops", scopes=["tokens:issue", "connections:read"], actor=Actor(user=charlie)
    )
    assert keys.KEY_PATTERN.match(issued.value)
    assert issued.value.startswith(f"mbp_live_{issued.key.key_id}_")
    secret = issued.value.rsplit("_", 1)[1]
    stored = ServiceKey.objects.get()
    assert stored.secret_hash == keys.secret_hash(stored.key_id, secret)
    assert_absent_from_database(issued.value, secret)
    event = AuditEvent.objects.get(action="api.service_account_created")
    assert event.actor == charlie
    assert event.details["scopes"] == ["connections:read", "tokens:issue"]
    assert secret not in str(event.details)


def test_it_refuses_unknown_scopes_and_nameless_accounts():
    with pytest.raises(keys.ServiceKeyError, match="Unknown scope: mail:everything"):
        keys.create_account(name="Ops", scopes=["mail:everything"])
    with pytest.raises(keys.ServiceKeyError, match="needs a name"):
        keys.create_account(name="  ", scopes=["tokens:issue"])
    assert not ServiceAccount.objects.exists()


def test_only_the_exact_key_authenticates():
    value = keys.create_account(name="Ops", scopes=["tokens:issue"]).value
    assert keys.authenticate(value) is not None
    key_id = ServiceKey.objects.get().key_id
    wrong_secret = f"mbp_live_{key_id}_{'A' * keys.SECRET_LENGTH}"
    unknown_id = "mbp_live_" + "z" * keys.KEY_ID_LENGTH + value[-(keys.SECRET_LENGTH + 1) :]
    for bad in (wrong_secret, unknown_id, value[:-1], value + "x", "", "Bearer", value.upper()):
        assert keys.authenticate(bad) is None, bad


def test_expired_and_revoked_keys_and_accounts_stop_working():
    issued = keys.create_account(
        name="Ops", scopes=["tokens:issue"], expires_at=timezone.now() + timedelta(days=1)
    )
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert keys.authenticate(issued.value) is None
    assert keys.revoke_key(issued.key)
    assert not keys.revoke_key(issued.key)  # once
    assert keys.authenticate(issued.value) is None
    other = keys.create_account(name="Other", scopes=["tokens:issue"])
    assert keys.revoke_account(other.key.account)
    assert keys.authenticate(other.value) is None
    assert AuditEvent.objects.filter(action="api.service_key_revoked").count() == 1
    assert AuditEvent.objects.filter(action="api.service_account_revoked").count() == 1


def test_a_rotation_keeps_the_old_key_until_the_time_given():
    old = keys.create_account(name="Ops", scopes=["tokens:issue"])
    until = timezone.now() + timedelta(hours=2)
    new = keys.rotate(old.key.account, old_valid_until=until)
    assert keys.authenticate(old.value) is not None
    assert keys.authenticate(new.value) is not None
    with time_machine.travel(until + timedelta(seconds=1)):
        assert keys.authenticate(old.value) is None
        assert keys.authenticate(new.value) is not None
    # A rotation "now" ends the older keys at once.
    newest = keys.rotate(old.key.account, old_valid_until=timezone.now())
    assert keys.authenticate(new.value) is None
    assert keys.authenticate(newest.value) is not None
    assert AuditEvent.objects.filter(action="api.service_key_rotated").count() == 2


def test_last_used_is_written_at_most_once_a_minute():
    issued = keys.create_account(name="Ops", scopes=["tokens:issue"])
    key = keys.authenticate(issued.value)
    assert key is not None
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        keys.touch(key)
        first = ServiceKey.objects.get().last_used_at
        assert first is not None
        traveller.shift(30)
        again = keys.authenticate(issued.value)  # another process: a fresh row
        assert again is not None
        keys.touch(again)
        assert ServiceKey.objects.get().last_used_at == first
        traveller.shift(31)
        later = keys.authenticate(issued.value)
        assert later is not None
        keys.touch(later)
        last_used = ServiceKey.objects.get().last_used_at
        assert last_used is not None
        assert last_used > first


def test_the_list_for_the_dashboard_has_keys_and_tenants(acme):
    keys.create_account(name="B ops", scopes=["tokens:issue"], tenants=[acme])
    keys.create_account(name="A ops", scopes=["connections:read"])
    listed = list(keys.accounts())
    assert [a.name for a in listed] == ["A ops", "B ops"]
    assert [t.name for t in listed[1].tenants.all()] == [acme.name]
    assert len(listed[0].keys.all()) == 1


def test_the_command_prints_the_key_once_and_restricts_to_tenants(acme):
    out = StringIO()
    call_command(
        "create_service_key",
        "Operations app",
        "--scope=tokens:issue",
        "--scope=connections:read",
        f"--tenant={acme.name}",
        "--expires-days=30",
        stdout=out,
    )
    printed = out.getvalue()
    match = keys.KEY_PATTERN.search(printed.split()[-1])
    assert match, printed
    account = ServiceAccount.objects.get()
    assert account.scopes == ["connections:read", "tokens:issue"]
    assert list(account.tenants.all()) == [acme]
    assert account.expires_at is not None
    assert keys.authenticate(printed.split()[-1]) is not None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["Ops"], "at least one --scope"),
        (["Ops", "--scope=tokens:issue", "--tenant=Nobody Ltd"], "No single tenant"),
        (["Ops", "--scope=tokens:issue", "--expires-days=0"], "1 or more"),
    ],
)
def test_the_command_refuses_bad_arguments(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_service_key", *arguments, stdout=StringIO())
    assert not ServiceAccount.objects.exists()
