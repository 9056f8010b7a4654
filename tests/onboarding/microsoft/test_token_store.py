"""The msal token cache shared by worker processes (onboarding.microsoft.token_store)."""

import threading

import pytest
from django.core.cache import cache

from microsoft_emulator.scenarios import ready_directory
from onboarding import microsoft
from onboarding.microsoft import token_store
from portal import keyring


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


def app_token(ready):
    return microsoft.acquire_app_token(
        directory=ready.directory.id,
        client_id=ready.app.client_id,
        client_secret=ready.secret.value,
    )


def test_a_new_process_reads_the_token_another_one_stored(emulated_microsoft, ready):
    first = app_token(ready)
    microsoft.forget_clients()  # what a second worker process starts with: no msal app
    second = app_token(ready)
    assert second.access_token == first.access_token
    assert second.roles == {"Mail.Read", "Mail.Send"}
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id: 1}


def test_it_stores_the_cache_encrypted_under_a_key_that_names_no_secret():
    key = token_store.credential_key("https://login", "contoso", "client-id", "s3cret-value")
    assert "s3cret" not in key
    assert "client-id" not in key
    serialized = '{"AccessToken": {"k": {"secret": "eyJ.bearer.token"}}}'
    token_store.save(key, serialized, 60)
    raw = cache.get(key)
    assert isinstance(raw, bytes)
    assert b"bearer" not in raw
    assert token_store.load(key) == serialized


def test_it_asks_again_when_the_stored_cache_cannot_be_read(emulated_microsoft, ready, settings):
    app_token(ready)
    microsoft.forget_clients()
    # The vault's keys changed (a rotation that dropped the old key): the blob is unreadable.
    settings.ENCRYPTION_KEYRING = keyring.parse_keyring(keyring.generate_entry("other"), source="t")
    app_token(ready)
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id: 2}


def test_it_keeps_the_stored_cache_only_while_the_token_lives():
    key = token_store.credential_key("a", "b")
    token_store.save(key, "{}", 0)
    assert token_store.load(key) is None
    token_store.save(key, '{"AccessToken": {}}', 60)
    assert token_store.load(key) == '{"AccessToken": {}}'


def test_it_ignores_a_foreign_value_under_its_key():
    key = token_store.credential_key("a", "b")
    cache.set(key, b"\x01garbage")
    assert token_store.load(key) is None
    cache.set(key, "not bytes")
    assert token_store.load(key) is None


def test_a_blob_moved_to_another_credentials_key_does_not_decrypt():
    one, other = token_store.credential_key("one"), token_store.credential_key("other")
    token_store.save(one, '{"AccessToken": {}}', 60)
    cache.set(other, cache.get(one))
    assert token_store.load(other) is None


def test_one_holder_of_the_fetch_lock_at_a_time():
    key = token_store.credential_key("locked")
    with token_store.fetch_lock(key) as held:
        assert held
        with token_store.fetch_lock(key, wait=0.2) as second:
            assert not second  # gave up waiting: the caller goes ahead alone
    with token_store.fetch_lock(key, wait=0.2) as again:
        assert again  # released on exit


def test_a_waiter_gets_the_lock_once_the_holder_releases_it():
    key = token_store.credential_key("handover")
    order: list[str] = []
    entered = threading.Event()

    def holder() -> None:
        with token_store.fetch_lock(key):
            entered.set()
            order.append("holder")
            threading.Event().wait(0.3)

    thread = threading.Thread(target=holder)
    thread.start()
    entered.wait(5)
    with token_store.fetch_lock(key, wait=5) as held:
        order.append("waiter")
    thread.join()
    assert held
    assert order == ["holder", "waiter"]
