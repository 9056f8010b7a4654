"""The portal's own certificate rollover when something goes wrong on the way: Graph
throttling or down, Microsoft refusing the proof or the key, a worker killed mid-stage,
the new certificate failing its check, an unreadable stored key, a skewed clock,
removeKey failing, an admin's own replacement, and two workers racing on PostgreSQL.

Whatever happens, no credential is lost: the certificate in use stays ACTIVE and keeps
passing checks until a new one has proved itself, and a rollover that stops ends with
a named diagnosis (the admins and support told once) or waits and tries again."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from onboarding import tasks
from onboarding.client_secrets import secret_retire
from onboarding.microsoft import http
from onboarding.models import AuditEvent, CertificateRollover, ClientSecret, Mailbox
from onboarding.renewal import rollover
from tests.conftest import require_service
from tests.onboarding.certificates import test_rollover as happy_path
from tests.onboarding.check_helpers import run_check
from tests.recordings import load

pytestmark = pytest.mark.django_db

# The happy path's set-up, shared: a tenant whose certificate is in use, 20 days from
# expiry (fixtures `ready` and `certified`), and the beat's scan-then-advance.
ready = happy_path.ready
certified = happy_path.certified
advance_all = happy_path.advance_all
thumbprints = happy_path.thumbprints

Stage = CertificateRollover.Stage
ACTIVE = ClientSecret.Status.ACTIVE


# --- helpers --------------------------------------------------------------------------


def the_row() -> CertificateRollover:
    return CertificateRollover.objects.get()


def assert_old_still_works(mailbox: Mailbox, old: ClientSecret, capture: Any) -> None:
    """The certificate in use was never touched: ACTIVE, and a check with it passes."""
    assert ClientSecret.objects.get(pk=old.pk).status == ACTIVE
    assert ClientSecret.objects.filter(status=ACTIVE).count() == 1
    run = run_check(mailbox, capture)
    assert run.status == "passed", run.steps


def assert_alerted_once(old: ClientSecret) -> None:
    """One rollover_failed e-mail to each of the tenant's recipients and support."""
    expected = old.app.tenant.recipients(settings.SUPPORT_EMAIL)
    assert settings.SUPPORT_EMAIL in expected
    sent = sorted(address for message in mail.outbox for address in message.to)
    assert sent == sorted(expected)
    assert all(len(message.to) == 1 for message in mail.outbox)
    assert all("renew the certificate" in message.subject for message in mail.outbox)


def actions(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def to_key_made(capture: Any) -> CertificateRollover:
    assert advance_all(capture) == [Stage.KEY_MADE]
    row = the_row()
    assert row.stage == Stage.KEY_MADE
    return row


def advance_at(when: datetime, capture: Any) -> list[str | None]:
    with time_machine.travel(when):
        return advance_all(capture)


# --- 1. Graph 429 with Retry-After on addKey ------------------------------------------

RETRY_AFTER = 30


def _throttle_by_fault(emulator: Any) -> None:
    emulator.set_fault("graph.application", throttle_share=1.0, retry_after=RETRY_AFTER)


def _throttle_by_recording(emulator: Any) -> None:
    # Graph's documented 429 (recorded for graph.messages: Graph throttles every
    # resource with the same answer), with its Retry-After made RETRY_AFTER seconds.
    recorded = load("graph_throttled_documented")
    headers = {**recorded.headers, "Retry-After": str(RETRY_AFTER)}
    emulator.replay("graph.application", status=429, body=recorded.body, headers=headers)


@pytest.mark.parametrize("throttle", [_throttle_by_fault, _throttle_by_recording])
def test_a_throttled_addkey_waits_for_retry_after_then_adds_the_key(
    throttle: Callable[[Any], None],
    certified,
    ready,
    emulated_microsoft,
    django_capture_on_commit_callbacks,
):
    mailbox, old = certified
    capture = django_capture_on_commit_callbacks
    to_key_made(capture)
    throttle(emulated_microsoft)
    before = timezone.now()
    assert advance_all(capture) == [Stage.KEY_MADE]
    row = the_row()
    assert row.stage == Stage.KEY_MADE
    assert row.attempts == 1
    assert row.error_code == "TooManyRequests"
    assert row.next_attempt_at >= before + timedelta(seconds=RETRY_AFTER)
    assert row.lease_until is None  # the worker let go
    assert emulated_microsoft.counters()["injected"]  # Graph really was asked
    assert thumbprints(ready.app) == {old.thumbprint}
    assert actions("certificate.rollover_retrying") == 1
    emulated_microsoft.clear_faults()
    assert advance_all(capture) == []  # not before Retry-After
    assert_old_still_works(mailbox, old, capture)

    assert advance_at(row.next_attempt_at + timedelta(seconds=1), capture) == [Stage.KEY_ADDED]
    row.refresh_from_db()
    assert row.attempts == 0
    assert row.new is not None
    assert thumbprints(ready.app) == {old.thumbprint, row.thumbprint}
    assert mail.outbox == []


# --- 2. Graph down on addKey until MAX_ATTEMPTS ---------------------------------------


def _graph_503(emulator: Any, monkeypatch: Any) -> str:
    emulator.set_fault("graph.application", error_share=1.0, error_status=503)
    return "ServiceUnavailable"


def _graph_unreachable(emulator: Any, monkeypatch: Any) -> str:
    """Graph's host refuses connections (sign-in still answers): the HTTP client's own
    error, as requests raises it, for every addKey."""
    real = http.Session.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.endswith("/addKey"):
            raise requests.ConnectionError(f"Connection refused: {url}")
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(http.Session, "request", request)
    return "unreachable"


def _give_up(
    down: Callable[[Any, Any], str], emulator: Any, monkeypatch: Any, capture: Any
) -> tuple[CertificateRollover, str]:
    """addKey fails transiently MAX_ATTEMPTS times; the row after the last one."""
    row = to_key_made(capture)
    code = down(emulator, monkeypatch)
    for attempt in range(1, rollover.MAX_ATTEMPTS):
        assert advance_at(row.next_attempt_at + timedelta(seconds=1), capture) == [Stage.KEY_MADE]
        row.refresh_from_db()
        assert (row.stage, row.attempts, row.error_code) == (Stage.KEY_MADE, attempt, code)
        assert mail.outbox == []  # nobody told while it retries
    assert advance_at(row.next_attempt_at + timedelta(seconds=1), capture) == [Stage.FAILED]
    row.refresh_from_db()
    return row, code


@pytest.mark.parametrize("down", [_graph_503, _graph_unreachable])
def test_graph_down_on_every_attempt_ends_failed_and_alerts_each_recipient_once(
    down, certified, ready, emulated_microsoft, monkeypatch, django_capture_on_commit_callbacks
):
    mailbox, old = certified
    capture = django_capture_on_commit_callbacks
    row, code = _give_up(down, emulated_microsoft, monkeypatch, capture)
    assert row.stage == Stage.FAILED
    assert row.error_code == code
    assert row.new is None
    assert row.diagnosis_key == "rollover_gave_up"
    assert actions("certificate.rollover_retrying") == rollover.MAX_ATTEMPTS - 1
    assert actions("certificate.rollover_failed") == 1
    assert_alerted_once(old)
    assert thumbprints(ready.app) == {old.thumbprint}
    emulated_microsoft.clear_faults()
    monkeypatch.undo()
    assert advance_all(capture) == []  # ended: never tried again by itself
    assert len(mail.outbox) == len(old.app.tenant.recipients(settings.SUPPORT_EMAIL))
    assert_old_still_works(mailbox, old, capture)


@pytest.mark.parametrize("down", [_graph_503, _graph_unreachable])
def test_graph_down_on_every_attempt_is_diagnosed_rollover_gave_up(
    down, certified, emulated_microsoft, monkeypatch, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    row, _ = _give_up(down, emulated_microsoft, monkeypatch, capture)
    assert row.diagnosis_key == "rollover_gave_up"


# --- 3. Microsoft's recorded refusals of the proof ------------------------------------


def _recorded_proof_malformed(emulator: Any, monkeypatch: Any) -> str:
    load("graph_addkey_proof_malformed").replay_into(emulator)
    return "Authentication_MissingOrMalformed"


def _without_proof(emulator: Any, monkeypatch: Any) -> str:
    # graph_addkey_without_proof is a statement (no response to replay): the emulator
    # answers a missing proof with Graph's 403 Authorization_RequestDenied, as it says.
    monkeypatch.setattr(rollover.certificates, "proof", lambda **kwargs: "")
    return "Authorization_RequestDenied"


@pytest.mark.parametrize("refuse", [_recorded_proof_malformed, _without_proof])
def test_microsofts_refusal_of_the_proof_is_named_and_the_current_one_keeps_working(
    refuse, certified, ready, emulated_microsoft, monkeypatch, django_capture_on_commit_callbacks
):
    mailbox, old = certified
    capture = django_capture_on_commit_callbacks
    to_key_made(capture)
    code = refuse(emulated_microsoft, monkeypatch)
    assert advance_all(capture) == [Stage.FAILED]
    monkeypatch.undo()
    row = the_row()
    assert row.diagnosis_key == "rollover_proof_refused"
    assert row.error_code == code
    assert row.attempts == 0  # not retried: a refusal is not transient
    assert row.new is None
    assert thumbprints(ready.app) == {old.thumbprint}
    assert_alerted_once(old)
    assert_old_still_works(mailbox, old, capture)


# --- 4. Killed workers --------------------------------------------------------------------


def test_a_row_leased_by_another_worker_is_left_alone_until_its_lease_runs_out(
    certified, ready, django_capture_on_commit_callbacks
):
    _, old = certified
    capture = django_capture_on_commit_callbacks
    row = to_key_made(capture)
    held = timezone.now() + rollover.LEASE
    CertificateRollover.objects.filter(pk=row.pk).update(lease_until=held)  # a worker has it
    assert rollover.scan() == []
    assert rollover.advance(row.pk) == rollover.Advanced(None)
    row.refresh_from_db()
    assert (row.stage, row.attempts, row.lease_until) == (Stage.KEY_MADE, 0, held)
    assert thumbprints(ready.app) == {old.thumbprint}  # nothing done

    # The worker is gone: once its lease has run out, the next scan hands the row on.
    with time_machine.travel(held + timedelta(seconds=1)):
        assert rollover.scan() == [row.pk]
        with capture(execute=True):
            assert rollover.advance(row.pk).stage == Stage.KEY_ADDED
    row.refresh_from_db()
    assert row.lease_until is None
    assert thumbprints(ready.app) == {old.thumbprint, row.thumbprint}


def _killed(calls: list[int]) -> Callable[..., Any]:
    def rollover_store(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise KeyboardInterrupt("worker killed")  # not an Exception: nothing catches it

    return rollover_store


def _crashed(calls: list[int]) -> Callable[..., Any]:
    def rollover_store(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise RuntimeError("database went away")

    return rollover_store


@pytest.mark.parametrize("dies", [_killed, _crashed])
def test_a_worker_lost_between_addkey_and_recording_it_ends_in_key_refused(
    dies, certified, ready, monkeypatch, django_capture_on_commit_callbacks
):
    """addKey succeeded but the new credential was never recorded. A killed worker
    keeps its lease until it runs out; a crash (an Exception) is retried after a
    backoff. Either way the retry adds the same certificate, which Entra already has:
    400 (the emulator's "already added"), rollover_key_refused, whose catalogue text
    names this case. The key stays on the app unrecorded for the admin to delete."""
    mailbox, old = certified
    capture = django_capture_on_commit_callbacks
    row = to_key_made(capture)
    calls: list[int] = []
    monkeypatch.setattr(rollover, "rollover_store", dies(calls))
    started = timezone.now()
    if dies is _killed:
        with pytest.raises(KeyboardInterrupt):
            rollover.advance(row.pk)
    else:
        assert rollover.advance(row.pk).stage == Stage.KEY_MADE
    monkeypatch.undo()
    assert calls == [1]
    row.refresh_from_db()
    assert row.stage == Stage.KEY_MADE
    assert row.new is None
    assert ClientSecret.objects.filter(app=old.app, kind=old.kind).count() == 1  # none recorded
    assert actions("certificate.rollover_key_added") == 0
    assert thumbprints(ready.app) == {old.thumbprint, row.thumbprint}  # but Entra has it
    if dies is _killed:
        assert row.lease_until is not None
        assert row.lease_until >= started + rollover.LEASE
        assert rollover.scan() == []  # still leased by the dead worker
        retry_at = row.lease_until + timedelta(seconds=1)
    else:
        assert (row.attempts, row.error_code, row.lease_until) == (1, "RuntimeError", None)
        retry_at = row.next_attempt_at + timedelta(seconds=1)

    assert advance_at(retry_at, capture) == [Stage.FAILED]
    row.refresh_from_db()
    assert row.diagnosis_key == "rollover_key_refused"
    assert row.error_code == "Request_BadRequest"
    assert row.new is None
    assert_alerted_once(old)
    assert_old_still_works(mailbox, old, capture)


# --- 5. The new certificate fails its check ---------------------------------------------


def test_a_new_certificate_that_fails_its_check_is_rejected_and_the_old_one_stays(
    certified, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox, old = certified
    capture = django_capture_on_commit_callbacks
    to_key_made(capture)
    assert advance_all(capture) == [Stage.KEY_ADDED]
    row = the_row()
    assert row.new is not None
    # Someone deletes the new certificate in Entra before it is proved.
    assert emulated_microsoft.remove_certificate(ready.app, str(row.new.secret_id))
    start = timezone.now()
    assert advance_at(start + timedelta(seconds=121), capture) == [Stage.PROVING]
    assert advance_at(start + timedelta(minutes=4), capture) == [Stage.FAILED]
    row.refresh_from_db()
    assert row.check_run is not None
    assert row.check_run.status == "failed"
    assert row.check_run.diagnosis_key == "certificate_not_uploaded"
    assert row.diagnosis_key == "certificate_not_uploaded"
    assert row.new is not None
    assert ClientSecret.objects.get(pk=row.new.pk).status == ClientSecret.Status.REJECTED
    assert actions("certificate.rollover_switched") == 0
    assert_alerted_once(old)
    assert_old_still_works(mailbox, old, capture)


# --- 6. The old private key cannot be decrypted --------------------------------------------


def test_an_unreadable_old_key_ends_in_secret_unreadable(
    certified, ready, django_capture_on_commit_callbacks
):
    _, old = certified
    capture = django_capture_on_commit_callbacks
    to_key_made(capture)
    stored = bytes(ClientSecret.objects.get(pk=old.pk).value_ciphertext)
    corrupted = stored[:-8] + bytes(b ^ 0xFF for b in stored[-8:])
    ClientSecret.objects.filter(pk=old.pk).update(value_ciphertext=corrupted)
    assert advance_all(capture) == [Stage.FAILED]
    row = the_row()
    assert row.diagnosis_key == "secret_unreadable"
    assert row.error_code == "vault.DecryptionError"
    assert row.new is None
    assert thumbprints(ready.app) == {old.thumbprint}  # addKey never called
    assert ClientSecret.objects.get(pk=old.pk).status == ACTIVE  # not retired, not lost
    assert_alerted_once(old)
    # No check with it: its key is what cannot be read.


# --- 7. Clock skew ----------------------------------------------------------------------------


def test_microsofts_clock_a_few_minutes_ahead_still_takes_the_proof(
    certified, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    """Entra's clock 7 minutes ahead of the portal's: the proof (nbf now, valid ten
    minutes, Entra's five minutes of skew) is still valid there: the key is added."""
    _, old = certified
    capture = django_capture_on_commit_callbacks
    to_key_made(capture)
    emulated_microsoft.advance_clock(7 * 60)
    assert advance_all(capture) == [Stage.KEY_ADDED]
    row = the_row()
    assert thumbprints(ready.app) == {old.thumbprint, row.thumbprint}
    assert mail.outbox == []


@pytest.mark.parametrize("minutes", [20, -8])
def test_a_clock_skewed_past_the_proofs_window_ends_in_proof_refused(
    minutes, certified, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    """Entra's clock 20 minutes ahead (past nbf + 10 min + 5 min of skew), or 8 minutes
    behind (before nbf - 5 min): Graph refuses the proof with 401
    Authentication_MissingOrMalformed, which tells nothing of time. The rollover is not
    retried: it ends FAILED with rollover_proof_refused (whose text points at the Object
    ID), the admins are told, and the current certificate keeps working. Honestly: a
    skewed clock is diagnosed as a wrong Object ID, as Graph gives no finer reason; the
    app's cached token (from the check before) is what still lets addKey be reached."""
    mailbox, old = certified
    capture = django_capture_on_commit_callbacks
    to_key_made(capture)
    emulated_microsoft.advance_clock(minutes * 60)
    tokens_before = emulated_microsoft.counters()["requests"].get("token", 0)
    assert advance_all(capture) == [Stage.FAILED]
    assert emulated_microsoft.counters()["requests"].get("token", 0) == tokens_before
    row = the_row()
    assert row.diagnosis_key == "rollover_proof_refused"
    assert row.error_code == "Authentication_MissingOrMalformed"
    assert thumbprints(ready.app) == {old.thumbprint}
    assert_alerted_once(old)
    emulated_microsoft.advance_clock(-minutes * 60)
    assert_old_still_works(mailbox, old, capture)


# --- 8. removeKey after the switch -------------------------------------------------------------


@pytest.fixture
def switched(certified, ready, django_capture_on_commit_callbacks) -> tuple[Any, ...]:
    """A rollover through the switch: the new certificate in use, the old one still on
    the app for the grace period. Returns (mailbox, old, new, the switch's time)."""
    mailbox, old = certified
    capture = django_capture_on_commit_callbacks
    start = timezone.now()
    to_key_made(capture)
    assert advance_all(capture) == [Stage.KEY_ADDED]
    assert advance_at(start + timedelta(seconds=121), capture) == [Stage.PROVING]
    assert advance_at(start + timedelta(minutes=4), capture) == [Stage.SWITCHED]
    row = the_row()
    assert row.new is not None
    assert ClientSecret.objects.get(pk=row.new.pk).status == ACTIVE
    assert ClientSecret.objects.get(pk=old.pk).status == ClientSecret.Status.RETIRED
    assert thumbprints(ready.app) == {old.thumbprint, row.new.thumbprint}
    return mailbox, old, row.new, start + timedelta(minutes=4)


def test_a_transient_removekey_failure_stays_switched_and_tries_again(
    switched, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox, old, new, at = switched
    capture = django_capture_on_commit_callbacks
    emulated_microsoft.set_fault("graph.application", error_share=1.0, error_status=503)
    after_grace = at + timedelta(hours=settings.PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS, minutes=1)
    assert advance_at(after_grace, capture) == [Stage.SWITCHED]
    row = the_row()
    assert (row.stage, row.attempts, row.error_code) == (Stage.SWITCHED, 1, "ServiceUnavailable")
    assert row.next_attempt_at > after_grace
    assert thumbprints(ready.app) == {old.thumbprint, new.thumbprint}
    assert ClientSecret.objects.get(pk=old.pk).deleted_in_entra_at is None
    emulated_microsoft.clear_faults()

    retry_at = row.next_attempt_at + timedelta(seconds=1)
    assert advance_at(retry_at, capture) == [Stage.DONE]
    assert thumbprints(ready.app) == {new.thumbprint}
    assert ClientSecret.objects.get(pk=old.pk).deleted_in_entra_at is not None
    assert mail.outbox == []
    with time_machine.travel(retry_at):
        assert run_check(mailbox, capture).status == "passed"  # with the new one


def test_an_old_key_already_removed_by_hand_ends_done(
    switched, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    _, old, new, at = switched
    capture = django_capture_on_commit_callbacks
    assert emulated_microsoft.remove_certificate(ready.app, str(old.secret_id))
    emulated_microsoft.reset_counters()
    after_grace = at + timedelta(hours=settings.PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS, minutes=1)
    assert advance_at(after_grace, capture) == [Stage.DONE]
    assert emulated_microsoft.counters()["requests"].get("graph.application", 0) >= 1
    row = the_row()
    assert row.diagnosis_key == ""
    assert thumbprints(ready.app) == {new.thumbprint}
    assert ClientSecret.objects.get(pk=old.pk).deleted_in_entra_at is not None
    assert mail.outbox == []


# --- 9. An admin replaced the certificate meanwhile ----------------------------------------


@pytest.mark.parametrize("at", [Stage.CLAIMED, Stage.KEY_MADE])
def test_a_certificate_replaced_before_its_key_is_added_supersedes_the_rollover(
    at, certified, ready, django_capture_on_commit_callbacks
):
    _, old = certified
    capture = django_capture_on_commit_callbacks
    (rollover_id,) = rollover.scan()
    if at == Stage.KEY_MADE:
        with capture(execute=True):
            assert rollover.advance(rollover_id).stage == Stage.KEY_MADE
    assert the_row().stage == at
    assert secret_retire(ClientSecret.objects.get(pk=old.pk))  # the admin's own renewal
    assert advance_all(capture) == [Stage.FAILED]
    row = the_row()
    assert row.diagnosis_key == "rollover_superseded"
    assert row.new is None
    assert row.lease_until is None
    assert thumbprints(ready.app) == {old.thumbprint}  # addKey never called
    assert actions("certificate.rollover_failed") == 1
    assert mail.outbox == []  # the admin did it: nothing to tell


# --- 10. Two workers on PostgreSQL: exactly once -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_advance_a_rollover_exactly_once(certified, ready, emulated_microsoft):
    require_service("PostgreSQL", connection.vendor == "postgresql")
    _, old = certified
    errors: list[BaseException] = []
    stages: list[str | None] = []
    most_keys = len(ready.app.key_credentials)

    def worker(barrier: threading.Barrier) -> None:
        try:
            barrier.wait(10)
            ready_ids = rollover.scan()
            barrier.wait(10)  # both scanned: now both advance the same rows
            for rollover_id in ready_ids:
                advanced = rollover.advance(rollover_id)
                tasks.enqueue_requested(advanced.checks)  # autocommit: runs the check now
                stages.append(advanced.stage)
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    def both_workers() -> None:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=worker, args=(barrier,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []

    # Round after round, each at the time the row is next due (the settle time, the
    # check's poll, the grace period), until it is finished.
    when = timezone.now()
    for _ in range(12):
        most_keys = max(most_keys, len(ready.app.key_credentials))
        due = CertificateRollover.objects.first()
        if due is not None and due.is_finished:
            break
        if due is not None:
            when = max(when, due.next_attempt_at)
        when += timedelta(seconds=1)
        with time_machine.travel(when):
            both_workers()

    row = the_row()
    assert CertificateRollover.objects.count() == 1
    assert row.stage == Stage.DONE, (row.stage, row.diagnosis_key, row.error_code)
    assert actions("certificate.rollover_started") == 1
    assert actions("certificate.rollover_key_made") == 1
    assert actions("certificate.rollover_key_added") == 1
    assert actions("certificate.rollover_done") == 1
    assert most_keys == 2  # the old one plus exactly one added
    assert row.new is not None
    assert thumbprints(ready.app) == {row.new.thumbprint}
    assert ClientSecret.objects.filter(app=old.app, kind=old.kind).count() == 2
    # Each stage was done by one worker, once; from the second round on the row was
    # there for both scans, and the other worker's advance got Advanced(None).
    done = Counter(stage for stage in stages if stage is not None)
    assert done == Counter(
        [Stage.KEY_MADE, Stage.KEY_ADDED, Stage.PROVING, Stage.SWITCHED, Stage.DONE]
    )
    assert stages.count(None) >= 4
    assert mail.outbox == []
