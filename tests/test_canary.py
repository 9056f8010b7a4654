"""The canary detectors themselves: each channel must see a secret that really leaks.

These tests leak unregistered canaries on purpose (a registered one would fail them)."""

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from kombu import Connection

from onboarding.models import Tenant
from portal.celery import app as celery_app
from portal.log_redaction import RedactSecrets
from tests.canary import WATCH, assert_absent_from_database, new_canary
from tests.two_factor import sign_in_verified

ROOT = Path(__file__).resolve().parents[1]


@celery_app.task(name="tests.echo")
def echo(value: str) -> str:
    return value


def test_it_makes_unique_secret_shaped_canaries():
    secret, password = new_canary(), new_canary("password")
    assert len(secret) == 40
    assert secret[3:6] == "8Q~"
    assert secret != new_canary()
    assert password.isalnum()
    with pytest.raises(ValueError, match="Unknown canary kind"):
        new_canary("token")


def test_it_sees_a_canary_in_a_log_record_of_any_logger(canary_watch):
    secret = new_canary()
    logging.getLogger("somewhere.deep").warning("value %s", secret)
    try:
        raise RuntimeError(secret[::-1] + secret)
    except RuntimeError:
        logging.getLogger("other").exception("failed")
    assert canary_watch.leaks(secret) == [
        "log record of 'somewhere.deep'",
        "log record of 'other'",
    ]


def test_it_sees_a_canary_in_a_rendered_page(canary_watch, client, django_user_model):
    secret = new_canary()
    Tenant.objects.create(name=secret)
    root = django_user_model.objects.create_superuser("r@vendor.example", "pw-123456")
    sign_in_verified(client, root)  # the admin asks for the second factor
    client.get(reverse("admin:onboarding_tenant_changelist"))
    assert canary_watch.leaks(secret) == ["response to /admin/onboarding/tenant/"]


def test_it_sees_a_canary_in_a_task_message_sent_eagerly(canary_watch):
    secret = new_canary()
    assert echo.delay(secret).get() == secret
    assert "task message of tests.echo" in canary_watch.leaks(secret)


def test_it_sees_a_canary_in_a_message_published_to_a_broker(canary_watch):
    secret = new_canary()
    celery_app.conf.task_always_eager = False
    try:
        with Connection("memory://") as connection:
            echo.apply_async(args=(secret,), connection=connection)  # type: ignore[call-arg]
    finally:
        celery_app.conf.task_always_eager = True
    assert canary_watch.leaks(secret) == [
        "task message of tests.echo",
        "broker message of tests.echo",
    ]


def test_it_sees_a_canary_in_an_e_mail(canary_watch):
    from tests.canary import _capture_outbox

    secret = new_canary("password")
    mail.send_mail("Hello", f"Your password is {secret}", "a@example.com", ["b@example.com"])
    _capture_outbox()
    assert canary_watch.leaks(secret) == ["e-mail to b@example.com"]


def test_it_hands_over_the_leaks_of_registered_canaries_once(canary):
    secret = canary()
    logging.getLogger("leaky").info("oops %s", secret)
    assert WATCH.take_leaks() == ["log record of 'leaky'"]
    assert WATCH.take_leaks() == []


LEAKY_SUITE = """
import logging
import pytest
from tests.canary import WATCH, new_canary

LATE = new_canary()
WATCH.canaries.add(LATE)

@pytest.fixture(scope="session")
def late_leak():
    yield
    logging.getLogger("late").warning("at the end %s", LATE)

def test_leaky(canary, late_leak):
    logging.getLogger("leaky").warning("value %s", canary())

def test_careful(canary):
    logging.getLogger("careful").warning("value %s", canary()[:3])
"""


def test_it_fails_a_leaking_test_and_a_session_that_leaks_outside_tests(tmp_path):
    (tmp_path / "test_leaky_suite.py").write_text(LEAKY_SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    command = [sys.executable, "-m", "pytest", "-p", "tests.canary", "--ds=portal.settings"]
    command += ["-c", str(tmp_path / "pytest.ini"), "-p", "no:cacheprovider", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout
    assert "A canary secret leaked into: log record of 'leaky'" in result.stdout
    assert "A canary secret leaked outside tests into: log record of 'late'" in result.stdout
    # test_leaky passes its call and errors at teardown; test_careful passes.
    assert "ERROR at teardown of test_leaky" in result.stdout
    assert "2 passed, 1 error" in result.stdout


def test_it_finds_a_canary_stored_in_plaintext_in_any_table(db):
    secret = new_canary()
    Tenant.objects.create(name=f"Acme {secret}")
    with pytest.raises(AssertionError) as failure:
        assert_absent_from_database(secret)
    assert "manage.py dumpdata" in str(failure.value)
    assert "table onboarding_tenant, column name" in str(failure.value)


def test_it_finds_a_canary_inside_an_encoded_session(client, db):
    secret = new_canary()
    session = client.session
    session["typed"] = secret
    session.save()
    with pytest.raises(AssertionError, match="A canary secret is stored in plaintext: a decoded"):
        assert_absent_from_database(secret)


def test_it_passes_a_database_without_the_canary(db, acme):
    assert_absent_from_database(new_canary())


def test_it_finds_a_canary_in_django_axes_tables(db):
    from axes.models import AccessAttempt, AccessFailureLog

    in_path, in_form = new_canary(), new_canary("password")
    AccessAttempt.objects.create(
        username="a@example.com",
        ip_address="192.0.2.1",
        user_agent="ua",
        http_accept="*/*",
        path_info=f"/invitations/{in_path}/",
        get_data="",
        post_data=f"username={in_form}",
        failures_since_start=1,
    )
    AccessFailureLog.objects.create(
        username=in_form, ip_address="192.0.2.1", user_agent="ua", http_accept="*/*", path_info="/"
    )
    with pytest.raises(AssertionError) as failure:
        assert_absent_from_database(in_path, in_form)
    assert "table axes_accessattempt, column path_info" in str(failure.value)
    assert "table axes_accessattempt, column post_data" in str(failure.value)
    assert "table axes_accessfailurelog, column username" in str(failure.value)


def test_it_sees_a_path_token_that_a_handler_writes_or_axes_logs(canary_watch):
    shown, masked = new_canary("password"), new_canary("password")
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("tests.paths")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("GET /somewhere/%s/ HTTP/1.1", shown)
        logger.warning("GET /invitations/%s/ HTTP/1.1", masked)
        logging.getLogger("axes.handlers.database").info("path_info: /invitations/%s/", masked)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert canary_watch.path_token_leaks(shown) == ["log output of StreamHandler None"]
    # The record had the masked one, the handler's output did not; axes' record counts.
    assert canary_watch.path_token_leaks(masked) == ["log record of 'axes.handlers.database'"]
    assert "log record of 'tests.paths'" in canary_watch.leaks(masked)
