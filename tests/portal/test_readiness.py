"""/readyz/: each dependency tried for real, named ok or failed, 503 when one fails;
beat's heartbeat reported. /healthz/ stays the cheap liveness answer."""

from __future__ import annotations

import json

import pytest

from portal import readiness

pytestmark = pytest.mark.django_db


def answer(client):
    response = client.get("/readyz/")
    return response.status_code, json.loads(response.content)


def test_it_is_ready_when_every_dependency_answers(client):
    status, body = answer(client)
    assert status == 200
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "keyring": "ok"}


@pytest.mark.parametrize("name", ["database", "cache", "broker", "keyring"])
def test_one_failing_dependency_makes_it_not_ready_and_says_which(
    client, monkeypatch, caplog, name
):
    def broken() -> None:
        raise ConnectionError("secret-looking detail 10.0.0.7:5432")

    monkeypatch.setitem(readiness.CHECKS, name, broken)
    status, body = answer(client)
    assert status == 503
    assert body["status"] == "not ready"
    assert body["checks"][name] == "failed"
    assert [n for n, result in body["checks"].items() if result == "failed"] == [name]
    # The reason is logged by type only, and never sent to the caller.
    assert "10.0.0.7" not in json.dumps(body)
    assert f"Readiness: {name} failed (ConnectionError)" in caplog.text


def test_it_reports_beats_last_heartbeat(client):
    _, body = answer(client)
    assert body["beat"]["last_heartbeat_seconds_ago"] is None
    readiness.heartbeat(now=1000.0)
    ready, reported = readiness.report(now=1042.0)
    assert ready
    assert reported["beat"] == {"last_heartbeat_seconds_ago": 42, "expected_every_seconds": 60}


def test_beat_sends_the_heartbeat_and_a_worker_records_it(settings):
    from portal.celery import beat_heartbeat

    entry = settings.CELERY_BEAT_SCHEDULE["beat-heartbeat"]
    assert entry["task"] == "portal.beat_heartbeat"
    beat_heartbeat.delay()  # eager in tests
    _, body = readiness.report()
    assert body["beat"]["last_heartbeat_seconds_ago"] is not None
    assert body["beat"]["last_heartbeat_seconds_ago"] <= 1


def test_it_is_never_cached(client):
    assert "no-cache" in client.get("/readyz/")["Cache-Control"]
