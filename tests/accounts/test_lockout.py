import json

from axes.models import AccessAttempt

from onboarding.models import AuditEvent
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
WRONG = "hunter2-this-is-the-wrong-password"


def fail(client, email, times, ip="198.51.100.7"):
    return [
        client.post(LOGIN, {"username": email, "password": WRONG}, REMOTE_ADDR=ip)
        for _ in range(times)
    ]


def test_it_locks_after_five_failures_and_says_how_long_to_wait(client, alice):
    responses = fail(client, alice.email, 5)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    locked = responses[4]
    assert locked.status_code == 429
    assert "Please wait 15\xa0minutes before you try again." in locked.content.decode()
    assert "accounts/locked_out.html" in [t.name for t in locked.templates]


def test_it_refuses_even_the_right_password_while_locked(client, alice):
    fail(client, alice.email, 5)
    response = client.post(
        LOGIN, {"username": alice.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_counts_spellings_of_one_address_together(client, alice):
    fail(client, "alice@acme.example", 3)
    responses = fail(client, "ALICE@Acme.Example", 2)
    assert responses[-1].status_code == 429


def test_it_does_not_lock_the_same_user_name_from_another_address(client, alice):
    fail(client, alice.email, 5)
    response = client.post(
        LOGIN, {"username": alice.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.50"
    )
    assert response.status_code == 302


def test_it_forgets_failures_after_a_success(client, alice):
    fail(client, alice.email, 4)
    client.post(LOGIN, {"username": alice.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    client.post("/accounts/logout/")
    responses = fail(client, alice.email, 4)
    assert [r.status_code for r in responses] == [200] * 4


def test_it_locks_unknown_addresses_the_same_way(client, db):
    responses = fail(client, "nobody@nowhere.example", 5)
    assert responses[4].status_code == 429


def test_it_lets_in_again_after_the_cool_off(client, alice, time_machine):
    time_machine.move_to("2026-03-01 10:00:00+00:00", tick=False)
    fail(client, alice.email, 5)
    time_machine.move_to("2026-03-01 10:16:00+00:00", tick=False)
    response = client.post(
        LOGIN, {"username": alice.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 302


def test_it_audits_failures_and_the_lock_without_the_password(client, alice):
    fail(client, alice.email, 5)
    events = list(AuditEvent.objects.values("action", "details", "ip_address"))
    actions = [event["action"] for event in events]
    assert actions.count("login.failed") == 5
    assert "login.locked_out" in actions
    assert {"username": alice.email} in [event["details"] for event in events]
    assert WRONG not in json.dumps(events, default=str)
    assert all(WRONG not in attempt.post_data for attempt in AccessAttempt.objects.all())


def test_it_does_not_audit_a_password_typed_as_the_user_name(client, db):
    client.post(LOGIN, {"username": "MySecretPassw0rd", "password": "x"})
    event = AuditEvent.objects.get(action="login.failed")
    assert event.details == {"username": ""}
