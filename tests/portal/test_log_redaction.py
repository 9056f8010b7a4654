import io
import logging

import pytest
from django.conf import settings

from portal.log_redaction import REDACTED, RedactSecrets, redact
from tests.canary import new_canary

# Shapes only: none of these was ever a real credential.
SECRET_40 = "Abc8Q~" + "x1Y2z3" * 5 + "abcd"
SECRET_37 = "Abc7Q~" + "x1Y2z3" * 5 + "a"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJNYWlsLlJlYWQiXX0.c2lnbmF0dXJlLWJ5dGVz"


def test_it_redacts_current_and_older_entra_secret_values():
    assert len(SECRET_40) == 40
    assert len(SECRET_37) == 37
    assert redact(f"got {SECRET_40} and {SECRET_37}.") == f"got {REDACTED} and {REDACTED}."


def test_it_redacts_a_secret_glued_to_other_text():
    assert redact(f"value={SECRET_40}&next=1") == f"value={REDACTED}&next=1"
    assert SECRET_40 not in redact(f"x{SECRET_40}y")


def test_it_redacts_service_keys_and_webhook_secrets_by_their_prefixes():
    # Shapes of api.keys and webhooks.signing values, made up here.
    key = "mbp_live_" + "a1b2c3d4e5f6" + "_" + "Zx9-" * 10 + "abc"
    webhook_secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+/="
    text = redact(f"key {key} secret {webhook_secret}.")
    assert text == f"key {REDACTED} secret {REDACTED}."


def test_it_keeps_ordinary_text_ids_and_hints():
    text = "Secret Abc*** (9f0c1a52-6a4b-4f1e-9d3e-2b7c8e4d5f60) for app ops@acme.example"
    assert redact(text) == text


def test_it_redacts_tokens_and_bearer_headers():
    assert redact(f"token {JWT} ok") == f"token {REDACTED} ok"
    assert redact("Authorization: Bearer abc.def-ghi") == f"Authorization: Bearer {REDACTED}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("grant_type=password&password=hunter22&scope=x", f"password={REDACTED}&scope=x"),
        ("client_id=1&client_secret=s3cr3t-v@lue&x=1", f"client_secret={REDACTED}&x=1"),
        ("refresh_token=0.AAA-bbb", f"refresh_token={REDACTED}"),
        ('{"password": "hunter22", "user": "u"}', f'{{"password": "{REDACTED}", "user": "u"}}'),
        ("{'client_secret': 'it\\'s'}", f"{{'client_secret': '{REDACTED}'}}"),
    ],
)
def test_it_redacts_secret_form_and_json_fields(text, expected):
    assert redact(text).endswith(expected)
    assert "hunter22" not in redact(text)


def test_it_redacts_a_pem_private_key():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----"
    assert redact(f"key: {pem} done") == f"key: {REDACTED} done"


def record_through_filter(message: str, *args: object, exc: Exception | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        if exc is None:
            logger.warning(message, *args)
        else:
            try:
                raise exc
            except Exception:
                logger.exception(message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_it_redacts_message_arguments():
    output = record_through_filter("token for %s is %s", "app", SECRET_40)
    assert output == f"token for app is {REDACTED}\n"


def test_it_redacts_the_text_of_an_exception_and_its_traceback():
    output = record_through_filter("failed", exc=ValueError(f"bad client_secret={SECRET_40}"))
    assert "Traceback" in output
    assert SECRET_40 not in output


def test_it_is_idempotent_across_handlers():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "v=%s", (SECRET_40,), None)
    filter_ = RedactSecrets()
    assert filter_.filter(record)
    assert filter_.filter(record)
    assert record.getMessage() == f"v={REDACTED}"


def test_it_lets_a_broken_format_string_through_unchanged():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("one",), None)
    assert RedactSecrets().filter(record)
    assert record.args == ("one",)


def test_it_puts_the_filter_on_every_configured_handler():
    handlers: dict[str, dict[str, list[str]]] = settings.LOGGING["handlers"]  # type: ignore[assignment]
    assert handlers
    assert all("redact_secrets" in handler["filters"] for handler in handlers.values())


def test_it_leaves_no_live_handler_of_the_portal_without_the_filter():
    loggers = [logging.getLogger(), *map(logging.getLogger, ["django", "django.server"])]
    loggers.append(logging.getLogger("celery.task"))
    ours = [
        h for lg in loggers for h in lg.handlers if not type(h).__module__.startswith("_pytest")
    ]
    assert ours
    for handler in ours:
        assert any(isinstance(f, RedactSecrets) for f in handler.filters), handler


def test_it_redacts_what_the_configured_console_handler_writes():
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous = console.setStream(stream)  # type: ignore[attr-defined]
    secret = new_canary()
    try:
        logging.getLogger("onboarding.checks").error("token request with %s", secret)
    finally:
        console.setStream(previous)  # type: ignore[attr-defined]
    assert "token request with [REDACTED]" in stream.getvalue()
    assert secret not in stream.getvalue()


def test_it_keeps_the_filtered_handlers_when_a_celery_worker_sets_up_logging():
    from celery.app.log import Logging

    from portal.celery import app as celery_app

    root, task_logger = logging.getLogger(), logging.getLogger("celery.task")
    saved = [(lg, lg.level, list(lg.handlers), lg.propagate) for lg in (root, task_logger)]
    try:
        Logging._setup = False  # type: ignore[attr-defined]
        celery_app.log.setup_logging_subsystem(loglevel="INFO")
        for logger in (root, task_logger):
            for handler in logger.handlers:
                if not type(handler).__module__.startswith("_pytest"):
                    assert any(isinstance(f, RedactSecrets) for f in handler.filters), handler
    finally:
        Logging._setup = False  # type: ignore[attr-defined]
        for logger, level, handlers, propagate in saved:
            logger.setLevel(level)
            logger.handlers = handlers
            logger.propagate = propagate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"GET /invitations/Abc-12_xyZ/ HTTP/1.1" 200 512',
            f'"GET /invitations/{REDACTED}/ HTTP/1.1" 200 512',
        ),
        (
            "Too Many Requests: /invitations/Abc-12_xyZ/",
            f"Too Many Requests: /invitations/{REDACTED}/",
        ),
        (
            'path_info: "/invitations/Abc?next=/"',
            f'path_info: "/invitations/{REDACTED}?next=/"',
        ),
        (
            "GET /accounts/password-reset/MQ/cz1x2b-0123456789abcdef/ HTTP/1.1",
            f"GET /accounts/password-reset/MQ/{REDACTED}/ HTTP/1.1",
        ),
        (
            "GET /onboarding/consent/forwarded/eyJ0:1tX:abc/ HTTP/1.1",
            f"GET /onboarding/consent/forwarded/{REDACTED}/ HTTP/1.1",
        ),
        # Paths without a token stay readable.
        ("GET /accounts/password-reset/MQ/set-password/", None),
        ("GET /accounts/password-reset/sent/", None),
        ("GET /accounts/password-reset/complete/", None),
        ("GET /invitations/", None),
    ],
)
def test_it_redacts_the_tokens_of_links_in_paths(text, expected):
    assert redact(text) == (text if expected is None else expected)
    assert redact(redact(text)) == redact(text)
