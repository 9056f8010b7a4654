"""The webhook knobs in portal/settings.py (read afresh from the environment), the
sweeper's beat entry, and the signing secret's storage in the vault's own format."""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from onboarding import vault
from portal.celery import app
from webhooks import endpoints, signing

SETTINGS = Path(__file__).resolve().parents[2] / "portal" / "settings.py"
PRODUCTION = {
    "PORTAL_ENV": "production",
    "PORTAL_SECRET_KEY": "p" * 60,
    "PORTAL_ENCRYPTION_KEYS": "k1:" + "A" * 43 + "=",
    "PORTAL_ALLOWED_HOSTS": "portal.example.com",
    "PORTAL_BASE_URL": "https://portal.example.com",
}


def load(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_it_defaults_to_standard_webhooks_schedule_over_about_a_day(monkeypatch):
    loaded = load(monkeypatch)
    schedule = loaded["WEBHOOK_RETRY_SCHEDULE"]
    assert schedule == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert 24 * 3600 <= sum(schedule) <= 30 * 3600
    assert loaded["WEBHOOK_TIMEOUT_SECONDS"] == 10
    assert loaded["WEBHOOK_ALLOW_HTTP"] is True  # development
    assert loaded["WEBHOOK_ALLOWED_ADDRESSES"] == frozenset()


def test_production_allows_only_https_and_public_addresses(monkeypatch):
    loaded = load(monkeypatch, **PRODUCTION)
    assert loaded["WEBHOOK_ALLOW_HTTP"] is False
    assert loaded["WEBHOOK_ALLOWED_ADDRESSES"] == frozenset()


@pytest.mark.parametrize(
    "env",
    [{"PORTAL_WEBHOOK_ALLOW_HTTP": "true"}, {"PORTAL_WEBHOOK_ALLOW_ADDRESSES": "127.0.0.1"}],
)
def test_production_refuses_the_development_allowances(monkeypatch, env):
    with pytest.raises(ImproperlyConfigured, match="not allowed in production"):
        load(monkeypatch, **PRODUCTION, **env)


@pytest.mark.parametrize("value", ["5,soon", "0", "-5", "5,,x"])
def test_it_refuses_a_bad_retry_schedule(monkeypatch, value):
    with pytest.raises(ImproperlyConfigured, match="PORTAL_WEBHOOK_RETRY_SECONDS"):
        load(monkeypatch, PORTAL_WEBHOOK_RETRY_SECONDS=value)


def test_it_reads_a_retry_schedule(monkeypatch):
    loaded = load(monkeypatch, PORTAL_WEBHOOK_RETRY_SECONDS="1, 2,3")
    assert loaded["WEBHOOK_RETRY_SCHEDULE"] == (1, 2, 3)


def test_the_sweeper_runs_every_minute_under_its_fixed_name():
    # What a worker does at start: import every installed app's tasks module.
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["webhooks-sweep"]
    assert entry["task"] == "webhooks.tasks.sweep"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == timedelta(minutes=1)
    assert settings.CELERY_BEAT_SCHEDULE["webhooks-prune"]["task"] == "webhooks.tasks.prune"
    for name in (
        "webhooks.tasks.deliver",
        "webhooks.tasks.notify_endpoint_disabled",
        "webhooks.tasks.prune",
    ):
        assert name in app.tasks
    assert app.tasks["webhooks.tasks.deliver"].acks_late is True


def test_a_bad_allowed_address_is_named(settings):
    from webhooks.addresses import allowed_addresses

    settings.WEBHOOK_ALLOWED_ADDRESSES = frozenset({"localhost"})
    with pytest.raises(ImproperlyConfigured, match="'localhost', which is not an IP address"):
        allowed_addresses()


def test_the_secret_is_sealed_in_the_vault_s_format_so_its_rotation_can_take_it(account):
    endpoint, secret = endpoints.create(
        account.pk, url="http://127.0.0.1:9/hook", events=["connection.failing"]
    )
    endpoints.rotate(endpoint)
    endpoint.refresh_from_db()
    ring = signing.current_keyring()
    for field in ("secret", "previous_secret"):
        column = vault.SecretColumn("webhooks.Endpoint", field)
        blob = getattr(endpoint, column.ciphertext_attr)
        plaintext = vault.decrypt_blob(column, endpoint.pk, blob, ring)
        assert plaintext.startswith("whsec_")
        assert getattr(endpoint, column.key_id_attr) == ring.active_key_id
    assert (
        vault.decrypt_blob(
            vault.SecretColumn("webhooks.Endpoint", "previous_secret"),
            endpoint.pk,
            endpoint.previous_secret_ciphertext,
            ring,
        )
        == secret
    )


def test_it_prunes_old_events_but_never_one_still_pending(account, settings):
    import time_machine
    from django.db import transaction

    from tests.webhooks.conftest import CONNECTION
    from webhooks import outbox, tasks
    from webhooks.models import Delivery, OutboxEvent

    settings.WEBHOOK_RETENTION_DAYS = 30
    endpoints.create(account.pk, url="http://127.0.0.1:9/hook", events=["connection.failing"])
    with time_machine.travel("2026-01-01T00:00Z", tick=False):
        with transaction.atomic():
            old_done = outbox.record(
                "connection.failing", tenant_id=CONNECTION, connection_id=CONNECTION, data={}
            )
            old_pending = outbox.record(
                "connection.failing", tenant_id=CONNECTION, connection_id=CONNECTION, data={}
            )
        Delivery.objects.filter(event=old_done).update(state=Delivery.State.DELIVERED)
    with time_machine.travel("2026-01-30T00:00Z", tick=False):
        with transaction.atomic():
            recent = outbox.record(
                "connection.failing", tenant_id=CONNECTION, connection_id=CONNECTION, data={}
            )
        Delivery.objects.filter(event=recent).update(state=Delivery.State.DELIVERED)
    with time_machine.travel("2026-02-05T00:00Z", tick=False):
        assert tasks.prune() == 1
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert Delivery.objects.count() == 2
