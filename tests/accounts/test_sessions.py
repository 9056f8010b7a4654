"""Sign-ins end after PORTAL_SESSION_IDLE_MINUTES idle, and PORTAL_SESSION_HOURS after
they began however busy they were."""

from datetime import datetime, timedelta

import pytest

from tests.conftest import PASSWORD

HOME = "/"
START = "2026-03-02 09:00:00+00:00"


@pytest.fixture
def signed_in(client, alice, time_machine):
    time_machine.move_to(START, tick=False)
    response = client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def at(time_machine, **delta):
    time_machine.move_to(datetime.fromisoformat(START) + timedelta(**delta), tick=False)


def is_signed_in(client) -> bool:
    return client.get(HOME).status_code == 200 and "_auth_user_id" in client.session


def test_it_keeps_a_busy_sign_in(signed_in, time_machine):
    for minutes in (50, 100, 150, 200):
        at(time_machine, minutes=minutes)
        assert is_signed_in(signed_in)


def test_it_ends_a_sign_in_left_idle(signed_in, time_machine):
    at(time_machine, minutes=59)
    assert is_signed_in(signed_in)
    at(time_machine, minutes=59 + 61)
    response = signed_in.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in signed_in.session


def test_it_ends_even_a_busy_sign_in_after_the_absolute_limit(signed_in, time_machine):
    for minutes in range(30, 12 * 60, 30):
        at(time_machine, minutes=minutes)
        assert is_signed_in(signed_in), minutes
    at(time_machine, hours=12, minutes=1)
    assert signed_in.get(HOME).status_code == 302


def test_a_status_poll_does_not_keep_an_idle_sign_in(signed_in, time_machine):
    for minutes in range(10, 70, 10):
        at(time_machine, minutes=minutes)
        signed_in.get(HOME, headers={"HX-Request": "true"})
    at(time_machine, minutes=61)
    assert signed_in.get(HOME).status_code == 302


def test_it_follows_the_setting(signed_in, time_machine, settings):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    at(time_machine, minutes=6)
    assert signed_in.get(HOME).status_code == 302
