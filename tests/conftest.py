"""Shared fixtures. Personas: alice administers Acme, bob administers Globex,
charlie is support staff."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache

from accounts.models import SUPPORT_GROUP, User
from microsoft_emulator.server import RunningEmulator
from onboarding import microsoft
from onboarding.models import Membership, Tenant
from portal import keyring
from portal.celery import app as celery_app

# Canary secrets watched in logs, pages, task messages and the database (tests/canary.py);
# the Microsoft emulator fixture (tests/emulator_fixture.py).
pytest_plugins = ["tests.canary", "tests.emulator_fixture", "tests.personal_mailbox"]

# A fresh keyring of the run's own: tests never read or create var/encryption.keys and
# work on a fresh clone. Tests that need other keys use the `settings` fixture.
settings.ENCRYPTION_KEYRING = keyring.parse_keyring(
    keyring.generate_entry("test-1"), source="tests"
)

# An in-memory cache of the run's own (not var/cache), emptied after every test
# (_empty_cache), so no test sees another's token caches, locks or sent digests.
settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery staple"


def require_service(name: str, available: bool) -> None:
    """Skip locally, fail in CI: CI must never silently skip a service test."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI but is not reachable.")
    pytest.skip(f"{name} is not reachable")


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests sign in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "")
    require_service("Redis", bool(url))
    return url


@pytest.fixture
def acme(db) -> Tenant:
    return Tenant.objects.create(name="Acme Logistics")


@pytest.fixture
def globex(db) -> Tenant:
    return Tenant.objects.create(name="Globex Freight")


@pytest.fixture
def alice(acme: Tenant) -> User:
    user = User.objects.create_user("alice@acme.example", PASSWORD, full_name="Alice Admin")
    Membership.objects.create(tenant=acme, user=user)
    return user


@pytest.fixture
def bob(globex: Tenant) -> User:
    user = User.objects.create_user("bob@globex.example", PASSWORD, full_name="Bob Admin")
    Membership.objects.create(tenant=globex, user=user)
    return user


@pytest.fixture
def charlie(db) -> User:
    user = User.objects.create_user(
        "charlie@vendor.example", PASSWORD, full_name="Charlie Support", is_staff=True
    )
    user.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    return user


@pytest.fixture
def emulated_microsoft(emulator: RunningEmulator, settings) -> Iterator[RunningEmulator]:
    """The emulator (empty), with the portal's three Microsoft settings pointing at it."""
    settings.MICROSOFT_LOGIN_URL = emulator.login_url
    settings.MICROSOFT_GRAPH_URL = emulator.graph_url
    settings.MICROSOFT_CA_BUNDLE = str(emulator.ca_path)
    microsoft.forget_clients()
    yield emulator
    microsoft.forget_clients()


# Tasks run inline in tests unless a test starts a real worker on purpose.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch):
    """Mailbox checks are recorded instead of run; broker.deliver() runs the next one
    (tests/onboarding/check_helpers.py)."""
    from onboarding.tasks import run_mailbox_check
    from tests.onboarding.check_helpers import Broker

    recorder = Broker()
    monkeypatch.setattr(run_mailbox_check, "apply_async", recorder.apply_async)
    return recorder
