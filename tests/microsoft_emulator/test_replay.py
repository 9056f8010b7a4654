"""Recorded Microsoft responses served verbatim by the emulator ("replay")."""

import pytest

from tests.recordings import load, names


def test_it_serves_a_recording_verbatim_then_answers_as_itself_again(emulator, http, ready):
    recorded = load("token_throttled_plain_text")
    recorded.replay_into(emulator)
    url = f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": ready.app.client_id,
        "client_secret": ready.secret.value,
        "scope": f"{emulator.graph_url}/.default",
    }
    replayed = http.post(url, data=form)
    assert (replayed.status_code, replayed.text) == (429, "Too Many Requests")
    assert replayed.headers["Retry-After"] == "60"
    assert http.post(url, data=form).status_code == 200
    assert emulator.counters()["injected"] == {"token:replay": 1}


def test_it_replays_in_order_and_as_many_times_as_asked(emulator, http, ready):
    emulator.replay("graph.user", status=503, body="first", times=2)
    emulator.replay("graph.user", status=404, body="second")
    url = f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}"
    answers = [http.get(url) for _ in range(4)]
    assert [(a.status_code, a.text) for a in answers[:3]] == [
        (503, "first"),
        (503, "first"),
        (404, "second"),
    ]
    assert answers[3].status_code == 401  # no token: the emulator's own answer


def test_the_control_api_takes_a_recording_and_refuses_a_bad_one(emulator, http):
    control = http
    base = f"{emulator.base_url}/_emulator/replay"
    ok = control.put(f"{base}/token", json={"status": 429, "body": "Too Many Requests"})
    assert ok.status_code == 200
    assert ok.json()["replays"] == {"token": 1}
    assert control.put(f"{base}/nowhere", json={"status": 429}).status_code == 400
    assert control.put(f"{base}/token", json={"status": 42}).status_code == 400
    assert control.put(f"{base}/token", json={"status": 200, "times": 0}).status_code == 400
    emulator.clear_faults()
    assert control.get(f"{emulator.base_url}/_emulator/faults").json()["replays"] == {}


@pytest.mark.parametrize("name", names())
def test_every_recording_names_its_source_and_date(name):
    recording = load(name)
    assert recording.source.startswith(("https://", "MicrosoftDocs/", "msal "))
    assert recording.endpoint
