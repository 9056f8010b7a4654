"""POST /api/v1/connections/{id}/token: Graph tokens from the shared msal cache, against
the emulator (real msal, real HTTP)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from api.models import ApiCall
from microsoft_emulator.scenarios import ready_directory
from onboarding import microsoft
from onboarding.microsoft import AppToken, MicrosoftError
from onboarding.models import ClientSecret, Mailbox, Tenant
from tests.onboarding.check_helpers import configure

pytestmark = pytest.mark.django_db


def token_path(box: Mailbox) -> str:
    return f"/api/v1/connections/{box.pk}/token"


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


@pytest.fixture
def box(ready, acme) -> Mailbox:
    return configure(acme, ready)


def test_twenty_calls_cost_one_token_request_to_microsoft(
    make_key, api, box, ready, emulated_microsoft
):
    client = api(make_key("tokens:issue"))
    emulated_microsoft.reset_counters()
    answers = [client.post(token_path(box)) for _ in range(20)]
    assert {a.status_code for a in answers} == {200}
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id.lower(): 1}
    assert len({a.json()["access_token"] for a in answers}) == 1
    assert ApiCall.objects.filter(action="token.issue", status=200).count() == 20


def test_the_token_reads_the_mailbox_through_graph(make_key, api, box, ready, emulated_microsoft):
    response = api(make_key("tokens:issue")).post(token_path(box))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] >= 300
    expires_at = parse_datetime(body["expires_at"])
    assert expires_at is not None
    left = expires_at - timezone.now()
    assert left >= timedelta(seconds=299)
    assert body["graph_base_url"] == f"{emulated_microsoft.graph_url}/v1.0"
    assert body["mailbox"]["upn"] == ready.mailbox.upn
    assert body["user_path"] == f"/users/{ready.mailbox.upn}"
    assert body["connection"] == {"id": str(box.pk), "health": "unknown", "diagnosis": None}
    # The operations app's next call: Graph with that token, as the examples/ client does.
    graph = requests.get(
        f"{body['graph_base_url']}{body['user_path']}/mailFolders/inbox/messages",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        params={"$top": "1"},
        verify=str(emulated_microsoft.ca_path),
        timeout=10,
    )
    assert graph.status_code == 200, graph.text
    assert graph.json()["value"][0]["subject"] == "Welcome"


def test_a_failing_connection_still_gets_a_token_with_its_health(make_key, api, box):
    Mailbox.objects.filter(pk=box.pk).update(
        health=Tenant.Health.FAILING, diagnosis_code="mailbox_not_found"
    )
    body = api(make_key("tokens:issue")).post(token_path(box)).json()
    assert body["access_token"]
    assert body["connection"]["health"] == "failing"
    assert body["connection"]["diagnosis"]["code"] == "mailbox_not_found"


def test_a_secret_microsoft_refuses_is_a_409_with_the_diagnosis_only(
    make_key, api, ready, acme, emulated_microsoft, canary
):
    wrong = canary()
    box = configure(acme, ready, secret_value=wrong)
    response = api(make_key("tokens:issue")).post(token_path(box))
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "no-store" in response["Cache-Control"]
    problem = response.json()
    assert problem["type"] == "urn:mailbox-portal:problem:connection-unusable"
    assert problem["diagnosis"]["code"] == "wrong_secret"
    assert "AADSTS" not in response.content.decode()  # no Microsoft message
    call = ApiCall.objects.get()
    assert (call.status, call.details) == (409, {"refused": "AADSTS7000215"})


def test_an_expired_secret_is_a_409_secret_expired(make_key, api, ready, acme, emulated_microsoft):
    box = configure(acme, ready)
    emulated_microsoft.advance_clock(3 * 366 * 24 * 3600)  # past the secret's end date
    response = api(make_key("tokens:issue")).post(token_path(box))
    assert response.status_code == 409
    assert response.json()["diagnosis"]["code"] == "secret_expired"


def test_a_secret_that_no_longer_decrypts_is_a_409(make_key, api, box):
    ClientSecret.objects.update(value_ciphertext=b"garbage")
    response = api(make_key("tokens:issue")).post(token_path(box))
    assert response.status_code == 409
    assert response.json()["diagnosis"]["code"] == "secret_unreadable"


def test_no_active_secret_is_a_409(make_key, api, box):
    ClientSecret.objects.update(status=ClientSecret.Status.RETIRED)
    response = api(make_key("tokens:issue")).post(token_path(box))
    assert response.status_code == 409
    assert response.json()["diagnosis"]["code"] == "secret_missing"


def test_a_cached_token_with_under_five_minutes_left_is_replaced(make_key, api, box, monkeypatch):
    calls = []

    def acquire(**kwargs):
        calls.append(kwargs["fresh"])
        left = 3599 if kwargs["fresh"] else 200
        return AppToken(
            access_token=f"t{left}", expires_in=left, roles=frozenset(), from_cache=True
        )

    monkeypatch.setattr(microsoft, "acquire_app_token", acquire)
    body = api(make_key("tokens:issue")).post(token_path(box)).json()
    assert calls == [False, True]
    assert (body["access_token"], body["expires_in"]) == ("t3599", 3599)


def test_microsoft_unavailable_is_a_503_with_retry_after(make_key, api, box, monkeypatch):
    def acquire(**kwargs):
        raise MicrosoftError(
            "http_503", "Microsoft answered HTTP 503.", 503, transient=True, retry_after=7
        )

    monkeypatch.setattr(microsoft, "acquire_app_token", acquire)
    response = api(make_key("tokens:issue")).post(token_path(box))
    assert response.status_code == 503
    assert response["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("reason=x", "application/x-www-form-urlencoded", 415),
        ("x" * 20000, "application/json", 413),
    ],
)
def test_bad_bodies_are_refused_before_any_token(
    body, content_type, status, make_key, api, box, emulated_microsoft
):
    emulated_microsoft.reset_counters()
    response = api(make_key("tokens:issue")).post(
        token_path(box), data=body, content_type=content_type
    )
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert emulated_microsoft.counters()["token_requests"] == {}
    assert not ApiCall.objects.exists()


def test_other_methods_are_405_problems(make_key, api, box):
    response = api(make_key("tokens:issue")).get(token_path(box))
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert "POST" in response["Allow"]


def test_neither_the_key_nor_the_token_reaches_a_log(
    make_key, api, box, emulated_microsoft, canary_watch
):
    key = make_key("tokens:issue")
    token = api(key).post(token_path(box)).json()["access_token"]
    api(key).post(token_path(box))  # from the cache this time
    assert canary_watch.leaks(key) == []  # not in a log, nor in any answer
    seen = canary_watch.leaks(token)
    assert seen  # the watch saw the answers that carry it...
    assert all(where.startswith("response to") for where in seen)  # ...and nothing else
