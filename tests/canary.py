"""Canary secrets: prove that a secret never leaks, wherever it was entered.

A canary is a unique, random, secret-shaped string. Once registered, the whole
test session watches for it; it must never appear in

- a log record of any logger, at any point of the session (message, arguments,
  exception text, stack), checked before any redaction filter runs;
- a response the portal renders (test Client or live_server): body, headers,
  cookies; streaming responses (static files) are not read;
- an e-mail in the test outbox (subject, body, alternatives, headers);
- a Celery message: the args, kwargs and headers of every apply_async/delay
  (eager or not) and the body of every message published to a broker.

Each test's captures are checked at its teardown (the test then errors, naming
the channel); captures outside tests are checked when the session ends, which
then fails. The database is checked on demand: every table (django-axes' tables
axes_accessattempt, axes_accessfailurelog and axes_accesslog included, which copy
the path, the user name and the form of every failed sign-in), plus decoded sessions.

Some secrets are the portal's own and travel in a path on purpose (the token of an
invitation link, a password reset link, a forwarded consent link): the page that
receives them logs its path, and the redaction filter masks the token in what the
handlers write. Watch one with `canary_watch.watch_path_token(token)`: it must then
never appear in what any handler writes (after its filters), in any table, nor in
a log record of django-axes (which writes it to its table too).

Use it from any test (this module is a plugin loaded by tests/conftest.py)::

    def test_it_never_leaks_the_secret(canary, client, alice):
        secret = canary()                       # Entra-shaped: "abc8Q~" + 34 characters
        password = canary("password")           # not secret-shaped: log redaction won't help
        ... enter them through the real forms, the admin, a model method ...
        assert_absent_from_database(secret, password)   # dumpdata + raw SQL + sessions
        # logs, pages and task messages are checked for you at the end of the test

Helpers: the `canary` fixture (a registering factory), `canary_watch` (the
session's CanaryWatch: `leaks(secret)` lists where a secret was seen during the
current test), `new_canary(kind)` (an unregistered one, for testing the
detectors themselves) and `assert_absent_from_database(*secrets)`.
"""

from __future__ import annotations

import io
import json
import logging
import secrets as random
import string
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery.app.task import Task
from celery.signals import before_task_publish
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.handlers.base import BaseHandler
from django.core.management import call_command
from django.db import connections
from django.http import HttpResponseBase

_ALNUM = string.ascii_letters + string.digits


def new_canary(kind: str = "client-secret") -> str:
    """A fresh canary, not registered. Letters and digits only (besides Entra's 8Q~),
    so that HTML, JSON and URL escaping leave it unchanged."""
    body = "".join(random.choice(_ALNUM) for _ in range(40))
    if kind == "client-secret":
        return f"{body[:3]}8Q~{body[3:37]}"
    if kind == "password":
        return f"Canary{body[:18]}"
    raise ValueError(f"Unknown canary kind {kind!r}; use 'client-secret' or 'password'.")


@dataclass
class CanaryWatch:
    """Every capture of the session since the last check, and the registered canaries."""

    canaries: set[str] = field(default_factory=set)
    path_tokens: set[str] = field(default_factory=set)
    captures: list[tuple[str, str]] = field(default_factory=list)
    outside_tests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def capture(self, channel: str, text: str) -> None:
        with self.lock:
            self.captures.append((channel, text))

    def leaks(self, secret: str) -> list[str]:
        """The channels of the pending captures that contain the secret."""
        variants = {secret, secret.replace("~", "%7E"), secret.replace("~", "%7e")}
        with self.lock:
            pending = list(self.captures)
        return [where for where, text in pending if any(v in text for v in variants)]

    def watch_path_token(self, token: str) -> None:
        """Watch a token the portal puts in a path (see the module's docstring)."""
        self.path_tokens.add(token)

    def path_token_leaks(self, token: str) -> list[str]:
        """The channels where a path token must never be: handler output, axes' records."""
        return [
            where
            for where in self.leaks(token)
            if where.startswith("log output") or where.startswith("log record of 'axes")
        ]

    def take_leaks(self) -> list[str]:
        """Every registered canary found in the pending captures; then forget them."""
        found = [where for secret in sorted(self.canaries) for where in self.leaks(secret)]
        found += [
            where for token in sorted(self.path_tokens) for where in self.path_token_leaks(token)
        ]
        with self.lock:
            self.captures.clear()
        return found


WATCH = CanaryWatch()


# --- Capture points -----------------------------------------------------------------


def _capture_log_records() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        WATCH.capture(f"log record of {record.name!r}", f"{text} {record.stack_info or ''}")
        return record

    logging.setLogRecordFactory(factory)


def _capture_log_output() -> None:
    """What every handler writes, after its filters: handlers format in emit(), and only
    the records that passed the filters reach it. pytest's own capture handlers, which
    keep records as they come for the report, are left out."""
    original = logging.Handler.format

    def format(self: logging.Handler, record: logging.LogRecord) -> str:
        text = original(self, record)
        if not type(self).__module__.startswith("_pytest"):
            WATCH.capture(f"log output of {type(self).__name__} {self.name!r}", text)
        return text

    logging.Handler.format = format  # type: ignore[method-assign]


def _capture_responses() -> None:
    original = BaseHandler.get_response

    def get_response(self: BaseHandler, request: Any) -> HttpResponseBase:
        response = original(self, request)
        content = b"" if response.streaming else getattr(response, "content", b"")
        body = content.decode("utf-8", "replace")
        headers = "\n".join(f"{name}: {value}" for name, value in response.items())
        cookies = response.cookies.output()
        WATCH.capture(f"response to {request.path}", f"{headers}\n{cookies}\n{body}")
        return response

    BaseHandler.get_response = get_response  # type: ignore[method-assign]


def _capture_task_messages() -> None:
    original = Task.apply_async

    def apply_async(self: Task, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        message = json.dumps([args, kwargs, options], default=repr)
        WATCH.capture(f"task message of {self.name}", message)
        return original(self, args, kwargs, **options)

    Task.apply_async = apply_async  # type: ignore[method-assign,assignment]

    def on_publish(sender: Any = None, body: Any = None, headers: Any = None, **kw: Any) -> None:
        WATCH.capture(f"broker message of {sender}", json.dumps([body, headers], default=repr))

    before_task_publish.connect(on_publish, weak=False)


def pytest_configure(config: pytest.Config) -> None:
    _capture_log_records()
    _capture_log_output()
    _capture_responses()
    _capture_task_messages()


def _capture_outbox() -> None:
    for message in getattr(mail, "outbox", []):
        alternatives = " ".join(str(content) for content, _ in message.alternatives)
        text = f"{message.subject} {message.body} {alternatives} {message.extra_headers}"
        WATCH.capture(f"e-mail to {', '.join(message.to)}", text)


@pytest.fixture(autouse=True)
def _canary_sentinel() -> Iterator[None]:
    # What was captured between tests (session fixtures) is reported at session end.
    WATCH.outside_tests.extend(WATCH.take_leaks())
    yield
    _capture_outbox()
    leaks = WATCH.take_leaks()
    if leaks:
        pytest.fail("A canary secret leaked into: " + "; ".join(sorted(set(leaks))))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = WATCH.outside_tests + WATCH.take_leaks()
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("A canary secret leaked outside tests into: " + "; ".join(leaks))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def canary() -> Callable[..., str]:
    """canary(kind="client-secret" | "password"): a new canary, watched for the session."""

    def make(kind: str = "client-secret") -> str:
        secret = new_canary(kind)
        WATCH.canaries.add(secret)
        return secret

    return make


@pytest.fixture
def canary_watch() -> CanaryWatch:
    return WATCH


# --- The database ----------------------------------------------------------------------

# django-axes keeps failed sign-ins (path, user name, form fields) in its own tables.
AXES_TABLES = frozenset({"axes_accessattempt", "axes_accessfailurelog", "axes_accesslog"})


def database_texts(using: str = "default") -> Iterator[tuple[str, str]]:
    """(where, text) for a dumpdata of everything, every column of every table read by
    raw SQL, and every decoded session."""
    dump = io.StringIO()
    call_command("dumpdata", database=using, stdout=dump, verbosity=0)
    yield "manage.py dumpdata", dump.getvalue()
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        missing = AXES_TABLES - set(tables)
        assert not missing, f"The canary cannot read django-axes' tables {sorted(missing)}."
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    yield f"table {table}, column {column}", _as_text(value)
    for session in SessionStore.get_model_class().objects.using(using):
        yield "a decoded session", repr(SessionStore().decode(session.session_data))


def _as_text(value: Any) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def assert_absent_from_database(*secrets: str, using: str = "default") -> None:
    """Fail naming the table and column (or dumpdata) where any of the secrets is stored
    in plaintext. Needs the `db` or `transactional_db` fixture."""
    if not secrets:
        raise ValueError("Name at least one canary to look for.")
    secrets = (*secrets, *WATCH.path_tokens)
    found = [
        where for where, text in database_texts(using) if any(secret in text for secret in secrets)
    ]
    assert not found, "A canary secret is stored in plaintext: " + "; ".join(found)
