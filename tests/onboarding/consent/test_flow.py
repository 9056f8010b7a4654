from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import QueryDict

from onboarding.consent import flow as consent
from onboarding.consent.flow import ConsentRejected
from tests.onboarding.conftest import ACME_DIRECTORY_ID, LOGIN

DECLINED = (
    "AADSTS65004: User declined to consent to access the app.\r\n"
    "Trace ID: 1b2c3d4e-0000-4000-8000-000000000001\r\n"
    "Correlation ID: 2c3d4e5f-0000-4000-8000-000000000002\r\n"
    "Timestamp: 2026-11-28 03:31:19Z"
)


@pytest.fixture
def session():
    return SessionStore()


def start(session, app, user_id="u1", **kwargs):
    url = consent.consent_start(session, app, user_id=user_id, **kwargs)
    return parse_qs(urlsplit(url).query)["state"][0]


def query(**params):
    result = QueryDict(mutable=True)
    for name, value in params.items():
        result[name] = value
    return result


def granted(state, tenant=ACME_DIRECTORY_ID):
    return query(admin_consent="True", tenant=tenant, state=state)


def test_it_sends_the_admin_to_microsoft_with_the_registered_callback(
    session, acme_configured, fake_microsoft
):
    url = consent.consent_start(session, acme_configured, user_id="u1")
    parts = urlsplit(url)
    params = parse_qs(parts.query)
    assert url.startswith(f"{LOGIN}/{ACME_DIRECTORY_ID}/v2.0/adminconsent?")
    assert params["client_id"] == [str(acme_configured.client_id)]
    assert params["redirect_uri"] == ["http://127.0.0.1:8000/onboarding/consent/callback/"]
    assert len(params["state"][0]) >= 43


def test_it_makes_a_new_state_each_time(session, acme_configured, fake_microsoft):
    assert start(session, acme_configured) != start(session, acme_configured)


def test_it_accepts_a_granted_consent_once(session, acme_configured, fake_microsoft):
    state = start(session, acme_configured)
    outcome = consent.consent_callback(session, granted(state), user_id="u1")
    assert outcome.app == acme_configured
    assert outcome.failure is None
    with pytest.raises(ConsentRejected):
        consent.consent_callback(session, granted(state), user_id="u1")


def test_it_accepts_the_tenant_in_capitals(session, acme_configured, fake_microsoft):
    state = start(session, acme_configured)
    callback = granted(state, tenant=ACME_DIRECTORY_ID.upper())
    assert consent.consent_callback(session, callback, user_id="u1").failure is None


def test_it_accepts_a_state_just_under_ten_minutes_old(session, acme_configured, fake_microsoft):
    with time_machine.travel("2026-11-28 10:00:00Z", tick=False) as clock:
        state = start(session, acme_configured)
        clock.shift(timedelta(minutes=10))
        assert consent.consent_callback(session, granted(state), user_id="u1").failure is None


def test_it_refuses_a_state_over_ten_minutes_old(session, acme_configured, fake_microsoft):
    with time_machine.travel("2026-11-28 10:00:00Z", tick=False) as clock:
        state = start(session, acme_configured)
        clock.shift(timedelta(minutes=10, seconds=1))
        with pytest.raises(ConsentRejected, match="expired"):
            consent.consent_callback(session, granted(state), user_id="u1")


def test_it_refuses_a_state_of_another_user(session, acme_configured, fake_microsoft):
    state = start(session, acme_configured, user_id="u1")
    with pytest.raises(ConsentRejected, match="another user"):
        consent.consent_callback(session, granted(state), user_id="u2")


def test_it_refuses_a_state_from_another_session(session, acme_configured, fake_microsoft):
    state = start(session, acme_configured)
    with pytest.raises(ConsentRejected, match="unknown"):
        consent.consent_callback(SessionStore(), granted(state), user_id="u1")


def test_it_refuses_consent_for_another_directory(session, acme_configured, fake_microsoft):
    state = start(session, acme_configured)
    other = "1d3c5b7a-9e8f-4d6c-8b4a-2f1e0d9c8b7a"
    with pytest.raises(ConsentRejected, match="another directory"):
        consent.consent_callback(session, granted(state, tenant=other), user_id="u1")


def test_it_refuses_when_the_app_changed_meanwhile(session, acme_configured, fake_microsoft):
    state = start(session, acme_configured)
    acme_configured.client_id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    acme_configured.save()
    with pytest.raises(ConsentRejected, match="changed"):
        consent.consent_callback(session, granted(state), user_id="u1")


def test_it_keeps_only_the_newest_states(session, acme_configured, fake_microsoft):
    states = [start(session, acme_configured) for _ in range(consent.MAX_PENDING + 1)]
    with pytest.raises(ConsentRejected):
        consent.consent_callback(session, granted(states[0]), user_id="u1")
    assert consent.consent_callback(session, granted(states[-1]), user_id="u1").failure is None


def test_it_reads_the_decline_as_microsoft_really_sends_it(
    session, acme_configured, fake_microsoft
):
    state = start(session, acme_configured)
    callback = query(
        error="access_denied",
        error_description=DECLINED,
        error_uri="https://login.microsoftonline.com/error?code=65004",
        admin_consent="True",
        state=state,
    )
    failure = consent.consent_callback(session, callback, user_id="u1").failure
    assert failure == consent.ConsentFailure(
        "declined",
        "AADSTS65004",
        "User declined to consent to access the app.",
        "2c3d4e5f-0000-4000-8000-000000000002",
    )


@pytest.mark.parametrize(
    ("description", "kind", "code"),
    [
        ("AADSTS90094: Admin consent is required.", "not_admin", "AADSTS90094"),
        ("AADSTS50011: The redirect URI 'x' does not match.", "redirect_uri", "AADSTS50011"),
        ("AADSTS50020: User account from a foreign provider.", "wrong_directory", "AADSTS50020"),
        ("", "other", "consent_required"),
    ],
)
def test_it_classifies_error_callbacks(
    session, acme_configured, fake_microsoft, description, kind, code
):
    state = start(session, acme_configured)
    callback = query(error="consent_required", error_description=description, state=state)
    failure = consent.consent_callback(session, callback, user_id="u1").failure
    assert failure is not None
    assert (failure.kind, failure.code) == (kind, code)


def test_it_uses_up_the_state_on_an_error_callback(session, acme_configured, fake_microsoft):
    state = start(session, acme_configured)
    consent.consent_callback(session, query(error="access_denied", state=state), user_id="u1")
    with pytest.raises(ConsentRejected):
        consent.consent_callback(session, granted(state), user_id="u1")


def test_it_round_trips_a_forward_link(acme_configured):
    assert consent.app_for_forward_token(consent.forward_token(acme_configured)) == acme_configured


def test_it_refuses_an_altered_forward_link(acme_configured):
    token = consent.forward_token(acme_configured)
    with pytest.raises(ConsentRejected):
        consent.app_for_forward_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))


def test_it_refuses_a_forward_link_after_seven_days(acme_configured):
    with time_machine.travel("2026-11-28 10:00:00Z", tick=False) as clock:
        token = consent.forward_token(acme_configured)
        clock.shift(timedelta(days=7, seconds=1))
        with pytest.raises(ConsentRejected):
            consent.app_for_forward_token(token)


def test_it_refuses_a_forward_link_for_an_app_since_changed(acme_configured):
    token = consent.forward_token(acme_configured)
    acme_configured.directory_id = "1d3c5b7a-9e8f-4d6c-8b4a-2f1e0d9c8b7a"
    acme_configured.save()
    with pytest.raises(ConsentRejected):
        consent.app_for_forward_token(token)


def test_it_marks_a_forwarded_consent(session, acme_configured, fake_microsoft):
    state = start(session, acme_configured, user_id=None, forwarded=True)
    outcome = consent.consent_callback(session, granted(state), user_id=None)
    assert outcome.forwarded
