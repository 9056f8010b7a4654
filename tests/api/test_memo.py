"""The token call's rows kept in memory (api/memo.py): no query for them while nothing
changed, and every change seen on the very next call."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.actors import SYSTEM
from api import keys, memo
from api.models import ServiceKey
from microsoft_emulator.scenarios import ready_directory
from onboarding import changes, client_secrets
from onboarding.checks import health
from onboarding.models import ClientSecret, Mailbox, Tenant
from onboarding.wizard.services import remove_mailbox
from tests.onboarding.check_helpers import configure

pytestmark = pytest.mark.django_db


@pytest.fixture
def box(emulated_microsoft, acme) -> Mailbox:
    return configure(acme, ready_directory(emulated_microsoft))


def path(box: Mailbox) -> str:
    return f"/api/v1/connections/{box.pk}/token"


def queries_of(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries]


def test_a_repeated_call_reads_no_rows_only_writes_its_call_record(make_key, api, box):
    client = api(make_key("tokens:issue"))
    assert client.post(path(box)).status_code == 200
    sql = queries_of(lambda: client.post(path(box)))
    assert [q.split()[0] for q in sql if not q.startswith(("SAVEPOINT", "RELEASE"))] == [
        "INSERT"
    ], sql
    assert "api_apicall" in " ".join(sql)


def test_the_first_call_after_a_change_reads_the_rows_again(make_key, api, box):
    client = api(make_key("tokens:issue"))
    client.post(path(box))
    changes.changed()
    sql = queries_of(lambda: client.post(path(box)))
    assert sum(q.startswith("SELECT") for q in sql) >= 3  # key, mailbox, secret


def test_a_revoked_key_is_refused_on_the_next_call(make_key, api, box):
    client = api(make_key("tokens:issue"))
    assert client.post(path(box)).status_code == 200
    keys.revoke_key(ServiceKey.objects.get())
    assert client.post(path(box)).status_code == 401


def test_a_revoked_account_is_refused_on_the_next_call(make_key, api, box):
    client = api(make_key("tokens:issue"))
    assert client.post(path(box)).status_code == 200
    keys.revoke_account(ServiceKey.objects.get().account)
    assert client.post(path(box)).status_code == 401


def test_a_tenant_taken_off_the_account_is_404_on_the_next_call(make_key, api, box, globex):
    client = api(make_key("tokens:issue", tenants=[box.tenant]))
    assert client.post(path(box)).status_code == 200
    ServiceKey.objects.get().account.tenants.set([globex])
    assert client.post(path(box)).status_code == 404


def test_a_removed_mailbox_is_404_on_the_next_call(make_key, api, box):
    client = api(make_key("tokens:issue"))
    assert client.post(path(box)).status_code == 200
    remove_mailbox(box, actor=SYSTEM)
    assert client.post(path(box)).status_code == 404


def test_a_health_change_shows_on_the_next_call(make_key, api, box):
    client = api(make_key("tokens:issue"))
    box.health, box.diagnosis_code = Tenant.Health.FAILING, "mailbox_not_found"
    box.save()
    assert client.post(path(box)).json()["connection"]["health"] == "failing"
    # verification_reset writes with a queryset UPDATE, which announces itself by hand.
    health.verification_reset(box.tenant)
    assert client.post(path(box)).json()["connection"] == {
        "id": str(box.pk),
        "health": "unknown",
        "diagnosis": None,
    }


def test_a_retired_secret_is_no_longer_used_on_the_next_call(make_key, api, box):
    client = api(make_key("tokens:issue"))
    assert client.post(path(box)).status_code == 200
    client_secrets.secret_retire(ClientSecret.objects.get())
    answer = client.post(path(box))
    assert answer.status_code == 409
    assert answer.json()["diagnosis"]["code"] == "secret_missing"


def test_an_unannounced_change_is_seen_after_max_age(make_key, api, box, monkeypatch):
    client = api(make_key("tokens:issue"))
    client.post(path(box))
    # A queryset UPDATE that (wrongly) says nothing: memory still answers...
    Mailbox.objects.filter(pk=box.pk).update(health=Tenant.Health.FAILING)
    assert client.post(path(box)).json()["connection"]["health"] == "unknown"
    # ...until its entries end.
    later = time.monotonic() + memo.MAX_AGE + 1
    monkeypatch.setattr(memo, "monotonic", lambda: later)
    assert client.post(path(box)).json()["connection"]["health"] == "failing"


def test_a_lost_version_is_never_matched_again(make_key, api, box):
    client = api(make_key("tokens:issue"))
    client.post(path(box))
    before = changes.version()
    cache.delete(changes.KEY)  # Redis restarted, say
    after = changes.version()
    assert after != before
    sql = queries_of(lambda: client.post(path(box)))
    assert sum(q.startswith("SELECT") for q in sql) >= 3


def test_the_memo_keeps_only_found_rows_and_starts_over_when_full(monkeypatch):
    kept = memo.Memo()
    loads: list[str] = []

    def load(value):
        def inner():
            loads.append(str(value))
            return value

        return inner

    assert kept.get("missing", "v1", load(None)) is None
    assert kept.get("missing", "v1", load(None)) is None
    assert loads == ["None", "None"]  # a miss is never kept
    assert kept.get("a", "v1", load("A")) == "A"
    assert kept.get("a", "v1", load("other")) == "A"
    assert kept.get("a", "v2", load("A2")) == "A2"  # a new version reads again
    monkeypatch.setattr(memo, "MAX_ENTRIES", 2)
    kept.get("b", "v2", load("B"))
    kept.get("c", "v2", load("C"))  # full: starts over with just this one
    assert kept.get("a", "v2", load("A3")) == "A3"


def test_a_save_still_succeeds_when_the_cache_is_away(acme, monkeypatch, caplog):
    def away(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(cache, "set", away)
    mailbox = Mailbox.objects.create(tenant=acme, address="orders@acme.example")
    mailbox.health = Tenant.Health.FAILING
    mailbox.save()
    assert Mailbox.objects.get(pk=mailbox.pk).health == "failing"
    assert "could not be replaced" in caplog.text
