"""Injected latency, 429s and 5xxs; Outlook's concurrency limit; counters."""

import threading
import time

import msal
import pytest

from tests.microsoft_emulator.conftest import PortSession, graph_scope


@pytest.fixture
def access_token(emulator, cca, ready):
    return cca(
        ready.app.client_id, ready.secret.value, ready.directory.id
    ).acquire_token_for_client(graph_scope(emulator))["access_token"]


def read(emulator, http, ready, token):
    return http.get(
        f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}/messages",
        params={"$top": "1"},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_it_throttles_exactly_the_configured_share_with_retry_after(
    emulator, http, ready, access_token
):
    emulator.set_fault("graph.messages", throttle_share=0.5, retry_after=7)
    statuses = [read(emulator, http, ready, access_token) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 429, 200, 429]
    assert statuses[1].headers["Retry-After"] == "7"
    assert statuses[1].json()["error"]["code"] == "TooManyRequests"
    assert emulator.counters()["injected"] == {"graph.messages:429": 2}


def test_it_fails_the_configured_share_with_a_5xx(emulator, http, ready, access_token):
    emulator.set_fault("graph.messages", error_share=1.0, error_status=503)
    response = read(emulator, http, ready, access_token)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ServiceUnavailable"


def test_it_rejects_the_token_on_a_graph_endpoint_with_a_401(emulator, http, ready, access_token):
    emulator.set_fault("graph.messages", error_share=1.0, error_status=401)
    response = read(emulator, http, ready, access_token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_it_injects_a_401_on_graph_endpoints_only(emulator):
    with pytest.raises(ValueError, match="graph endpoint"):
        emulator.set_fault("token", error_share=1.0, error_status=401)


def test_it_applies_a_wildcard_fault_to_every_endpoint(emulator, http, ready):
    emulator.set_fault("*", error_share=1.0, error_status=500)
    response = http.get(
        f"{emulator.login_url}/{ready.directory.id}/v2.0/.well-known/openid-configuration"
    )
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


def test_it_adds_latency(emulator, http, ready, access_token):
    emulator.set_fault("graph.messages", latency_ms=150)
    started = time.perf_counter()
    read(emulator, http, ready, access_token)
    assert time.perf_counter() - started >= 0.15


def test_it_makes_msal_replay_a_throttled_token_response_from_its_cache(emulator, http, ready):
    emulator.set_fault("token", throttle_share=1.0, retry_after=30)
    app = msal.ConfidentialClientApplication(
        ready.app.client_id,
        client_credential=ready.secret.value,
        authority=f"{emulator.login_url}/{ready.directory.id}",
        http_client=http,
        instance_discovery=False,
    )
    # Microsoft's plain-text 429: msal fails decoding it, the second time from its cache.
    for _ in range(2):
        with pytest.raises(ValueError, match="Expecting value"):
            app.acquire_token_for_client(graph_scope(emulator))
    assert emulator.counters()["requests"]["token"] == 1  # msal did not send the second


def test_it_makes_msal_raise_on_a_token_5xx(emulator, cca, ready):
    emulator.set_fault("token", error_share=1.0, error_status=500)
    app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
    with pytest.raises(msal.exceptions.MsalServiceError, match="HTTP Error: 500"):
        app.acquire_token_for_client(graph_scope(emulator))


def test_it_allows_four_concurrent_requests_per_app_and_mailbox(emulator, ready, access_token):
    emulator.set_fault("graph.messages", latency_ms=600)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def one() -> None:
        session = PortSession(emulator)
        barrier.wait()
        statuses.append(read(emulator, session, ready, access_token).status_code)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 200, 429, 429]
    counters = emulator.counters()
    # Four in flight plus the one being refused: a refused request never holds a slot.
    assert counters["peak_concurrency"] == {ready.mailbox.upn: 5}
    assert counters["throttled_mailboxes"] == {ready.mailbox.upn: 2}
    assert counters["peak_concurrency_per_app"] == {f"{ready.app.client_id} {ready.mailbox.upn}": 5}


def test_it_answers_past_the_limit_with_application_throttled(emulator, http, ready, access_token):
    emulator.set_mailbox_limit(1)
    with emulator.emulator.faults.mailbox_slot(ready.app.client_id, ready.mailbox.upn):
        response = read(emulator, http, ready, access_token)
    assert response.status_code == 429
    assert response.json()["error"] == {
        **response.json()["error"],
        "code": "ApplicationThrottled",
        "message": "Application is over its MailboxConcurrency limit.",
    }
    assert "Retry-After" in response.headers
    assert read(emulator, http, ready, access_token).status_code == 200


def test_it_counts_requests_per_endpoint_and_tokens_per_client(emulator, http, ready, access_token):
    read(emulator, http, ready, access_token)
    counters = emulator.counters()
    assert counters["requests"] == {"discovery": 1, "token": 1, "graph.messages": 1}
    assert counters["token_requests"] == {ready.app.client_id: 1}
    assert counters["grants"] == {"client_credentials": 1}


@pytest.mark.parametrize(
    "fields",
    [
        {"throttle_share": 1.5},
        {"error_share": -0.1},
        {"error_status": 404},
        {"latency_ms": -1},
    ],
)
def test_it_refuses_impossible_faults(emulator, fields):
    with pytest.raises(ValueError, match="must"):
        emulator.set_fault("token", **fields)


def test_it_refuses_an_unknown_endpoint(emulator):
    with pytest.raises(ValueError, match="unknown endpoint"):
        emulator.set_fault("graph.nothing", latency_ms=1)
