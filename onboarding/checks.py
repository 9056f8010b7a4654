"""Mailbox checks: prove that the operations app can read and send mail, step by step.

`check_request` creates a queued CheckRun and enqueues the Celery task once the
transaction commits; the task calls `check_run`, which does the work:

1. token: an app-only token through onboarding.microsoft (one msal app per credential,
   kept per worker process, so its token cache answers every later check);
2. permissions: the token's roles against Mail.Read and Mail.Send;
3. read_inbox: the newest inbox message (top 1);
4. send_test: a message from the mailbox to itself, not saved to Sent Items;
5. password_sign_in: only when a mailbox password is stored, as its own line.

No overlap: a partial unique index allows one `running` CheckRun per mailbox, and a
run is claimed with a conditional UPDATE (queued -> running), so two workers in any
number of processes never check the same mailbox at once; a run whose worker died is
handed back after the task's hard time limit. A check makes its requests one after
another, so at most one request per mailbox is in flight (Microsoft allows four).

Retries: a transient failure (429, 5xx, unreachable) sends the run back to `queued`
and the task re-enqueues it after max(Retry-After, exponential backoff with jitter),
until PORTAL_CHECK_MAX_ATTEMPTS; anything else fails at once with its diagnosis.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.models import User
from onboarding import audit, emails, microsoft, vault, wizard
from onboarding.diagnosis import CATALOGUE, Diagnosis, diagnose, diagnose_roles
from onboarding.microsoft import MicrosoftError
from onboarding.models import AppRegistration, CheckRun, ClientSecret, Mailbox, Tenant

T = TypeVar("T")

STEP_LABELS = {
    "token": "Sign in as the application",
    "permissions": "Mail.Read and Mail.Send consented",
    "read_inbox": "Read the inbox",
    "send_test": "Send a test message",
    "password_sign_in": "Sign in with the mailbox password",
}
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
# When another run of the same mailbox holds the claim: try again soon.
BUSY_DELAY_SECONDS = 5.0
TEST_SUBJECT = "Mailbox portal: connection check {id}"
# Half the live page's polling interval (1 s).
PROGRESS_SAVE_SECONDS = 0.5


class _SecretIdPasted(MicrosoftError):
    """AADSTS7000215 for a stored value that is a GUID: the Secret ID, not the Value."""


class _Transient(Exception):
    """A step failed in a way worth retrying; the run is retried as a whole."""

    def __init__(self, error: MicrosoftError) -> None:
        self.error = error


# --- requesting ---------------------------------------------------------------------


def check_request(
    *,
    mailbox: Mailbox,
    trigger: str,
    requested_by: User | None = None,
    secret: ClientSecret | None = None,
) -> CheckRun:
    """A queued CheckRun, enqueued on commit. A run of the same mailbox (and secret) that
    is still queued or running is returned instead, so requests never pile up."""
    pending = CheckRun.objects.filter(
        mailbox=mailbox,
        secret=secret,
        status__in=(CheckRun.Status.QUEUED, CheckRun.Status.RUNNING),
    ).first()
    if pending is not None:
        return pending
    run = CheckRun.objects.create(
        mailbox=mailbox, trigger=trigger, requested_by=requested_by, secret=secret
    )
    _enqueue(run.pk)
    return run


def _enqueue(check_run_id: uuid.UUID, countdown: float = 0) -> None:
    from onboarding.tasks import run_mailbox_check

    transaction.on_commit(
        lambda: run_mailbox_check.apply_async((str(check_run_id),), countdown=countdown)
    )


def retry_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds before attempt `attempt + 1`: exponential backoff with full jitter over
    its upper half, never sooner than Microsoft's Retry-After."""
    backoff = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    jittered = random.uniform(backoff / 2, backoff)  # noqa: S311 - spreading, not secrecy
    return max(jittered, retry_after or 0.0)


# --- running ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one attempt of a check came to."""

    # Seconds after which the task must run it again (a transient failure, or another
    # run of the mailbox busy); None when there is nothing more to do.
    retry_in: float | None = None
    # The run this attempt finished; None when it found nothing to do (finished already,
    # unknown, or claimed by another worker).
    finished: CheckRun | None = None


def check_run(check_run_id: str | uuid.UUID) -> Attempt:
    """Run one attempt of a check."""
    claimed = _claim(check_run_id)
    if not isinstance(claimed, CheckRun):
        return Attempt(retry_in=claimed)
    steps = _Steps(claimed)
    try:
        _perform(steps)
    except _Transient as transient:
        if claimed.attempts < settings.PORTAL_CHECK_MAX_ATTEMPTS:
            return Attempt(retry_in=_requeue(claimed, steps.done, transient.error))
    _finish(claimed, steps.done)
    if claimed.status == CheckRun.Status.PASSED and steps.first_secret is not None:
        _activate_first_secret(claimed, steps.first_secret)
    return Attempt(finished=claimed)


def _claim(check_run_id: str | uuid.UUID) -> CheckRun | float | None:
    """queued -> running with a conditional UPDATE; the unique index refuses a second
    running run of the mailbox. None: nothing to do (finished, unknown, or claimed)."""
    for attempt in (1, 2):
        try:
            if _claim_update(check_run_id):
                return CheckRun.objects.select_related("mailbox").get(pk=check_run_id)
            busy = False
        except IntegrityError:
            busy = True
        # Not claimed: this run, or another of its mailbox, is running. Its worker may
        # have died (a redelivered task finds its own run so): hand such a run back
        # to `queued` and try once more.
        if attempt == 2 or not _release_stale(check_run_id):
            break
    if busy:
        return BUSY_DELAY_SECONDS + random.uniform(0, BUSY_DELAY_SECONDS)  # noqa: S311
    return None


def _claim_update(check_run_id: str | uuid.UUID) -> int:
    with transaction.atomic():
        return CheckRun.objects.filter(pk=check_run_id, status=CheckRun.Status.QUEUED).update(
            status=CheckRun.Status.RUNNING,
            started_at=timezone.now(),
            retry_at=None,
            attempts=F("attempts") + 1,
        )


def _release_stale(check_run_id: str | uuid.UUID) -> int:
    """Send back to `queued` a run of the same mailbox still `running` after the task's
    hard time limit: its worker is gone."""
    stale = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    mailbox = CheckRun.objects.filter(pk=check_run_id).values("mailbox_id")
    return CheckRun.objects.filter(
        mailbox_id__in=mailbox, status=CheckRun.Status.RUNNING, started_at__lt=stale
    ).update(status=CheckRun.Status.QUEUED)


def _requeue(run: CheckRun, steps: list[dict[str, Any]], error: MicrosoftError) -> float:
    delay = retry_delay(run.attempts, error.retry_after)
    CheckRun.objects.filter(pk=run.pk).update(
        status=CheckRun.Status.QUEUED,
        steps=steps,
        retry_at=timezone.now() + timedelta(seconds=delay),
    )
    return delay


def _finish(run: CheckRun, steps: list[dict[str, Any]]) -> None:
    failed = next((step for step in steps if step["outcome"] == "failed"), None)
    result = {
        "steps": steps,
        "status": CheckRun.Status.FAILED if failed else CheckRun.Status.PASSED,
        "finished_at": timezone.now(),
        "diagnosis_key": failed["diagnosis_key"] if failed else "",
        "error_code": failed["code"] if failed else "",
        "correlation_id": failed["correlation_id"] if failed else "",
    }
    CheckRun.objects.filter(pk=run.pk).update(**result)
    for field, value in result.items():
        setattr(run, field, value)
    # A renewal check proves a pending secret, not the mailbox as it runs today.
    if run.secret_id is None:
        record_health(run)


# --- the steps ----------------------------------------------------------------------


class _Steps:
    """The steps of one run as they end. The live page polls the run every second, so
    what is done is saved before a wait on Microsoft once the run has gone unsaved for
    PROGRESS_SAVE_SECONDS: a slow run shows each step as it ends, and a quick one (nearly
    all) writes its steps once, with its result."""

    def __init__(self, run: CheckRun) -> None:
        self.run = run
        self.done: list[dict[str, Any]] = []
        self._saved = 0
        self._saved_at = time.monotonic()
        # The wizard's first secret, still pending, when the check uses it.
        self.first_secret: ClientSecret | None = None

    def add(self, entry: dict[str, Any]) -> None:
        self.done.append(entry)

    def call(self, name: str, call: Callable[[], T]) -> T | None:
        """Run one step that talks to Microsoft and record it; raise _Transient for a
        failure worth retrying."""
        self._save()
        started = time.monotonic()
        try:
            result = call()
        except MicrosoftError as exc:
            found = _diagnosis(exc)
            entry = _failed(name, found, exc.code, exc.message, exc.correlation_id)
            entry["duration_ms"] = _ms(started)
            self.add(entry)
            if exc.transient:
                raise _Transient(exc) from None
            return None
        self.add(_passed(name, _ms(started)))
        return result

    def _save(self) -> None:
        if len(self.done) == self._saved:
            return
        if time.monotonic() - self._saved_at < PROGRESS_SAVE_SECONDS:
            return
        CheckRun.objects.filter(pk=self.run.pk).update(steps=self.done)
        self._saved, self._saved_at = len(self.done), time.monotonic()


def _perform(steps: _Steps) -> None:
    run, mailbox = steps.run, steps.run.mailbox
    secret = _secret_for(run)
    if secret is None:
        app = AppRegistration.objects.filter(tenant_id=mailbox.tenant_id).first()
        if app is None:
            steps.add(_failed("token", CATALOGUE["app_missing"], "app_missing"))
            return
        message = "No active client secret is saved."
        steps.add(_failed("token", CATALOGUE["secret_missing"], "secret_missing", message))
    else:
        app = secret.app
        if run.secret_id is None and secret.status == ClientSecret.Status.PENDING:
            steps.first_secret = secret
        token = steps.call("token", lambda: _app_token(app, secret))
        if token is not None:
            _mail_steps(steps, mailbox, _Token(token, lambda: _app_token(app, secret, True)))
    if mailbox.has_password:
        steps.call("password_sign_in", lambda: _password_sign_in(app, mailbox))


def _secret_for(run: CheckRun) -> ClientSecret | None:
    """The secret to check: the run's own (renewal), else the active one, else during
    the first setup the newest one saved (still pending). One query, with its app."""
    secrets = ClientSecret.objects.select_related("app")
    if run.secret_id is not None:
        return secrets.filter(pk=run.secret_id).first()
    # An app has one active secret and at most a pending renewal or two: pick in Python.
    candidates = list(
        secrets.filter(
            app__tenant_id=run.mailbox.tenant_id,
            status__in=(ClientSecret.Status.ACTIVE, ClientSecret.Status.PENDING),
        ).order_by("-created_at")
    )
    active = (s for s in candidates if s.status == ClientSecret.Status.ACTIVE)
    return next(active, candidates[0] if candidates else None)


class _Token:
    """The app token the Graph steps use. A cached token Graph rejects (401) is replaced
    by a fresh one and the request sent once more: it may predate a change in Entra."""

    def __init__(self, token: microsoft.AppToken, fresh: Callable[[], microsoft.AppToken]):
        self.token, self._fresh = token, fresh

    def call(self, request: Callable[[str], T]) -> Callable[[], T]:
        def attempt() -> T:
            try:
                return request(self.token.access_token)
            except MicrosoftError as exc:
                if exc.status != 401 or not self.token.from_cache:
                    raise
            self.token = self._fresh()  # its own failure (AADSTS...) is this step's
            return request(self.token.access_token)

        return attempt


def _mail_steps(steps: _Steps, mailbox: Mailbox, token: _Token) -> None:
    roles_in_token = token.token.roles
    missing = diagnose_roles(roles_in_token)
    roles = ", ".join(sorted(roles_in_token)) or "none"
    if missing is None:
        steps.add(_passed("permissions", 0, f"Roles in the token: {roles}."))
    else:
        steps.add(_failed("permissions", missing, "", f"Roles in the token: {roles}."))
    can_read = missing is None or missing.key == "missing_mail_send"
    can_send = missing is None or missing.key == "missing_mail_read"
    if can_read:
        read = token.call(
            lambda access_token: microsoft.read_inbox(
                access_token=access_token, mailbox=mailbox.address
            )
        )
        steps.call("read_inbox", read)
    else:
        steps.add(_skipped("read_inbox"))
    if can_send:
        steps.call("send_test", token.call(lambda access: _send_test(steps.run, mailbox, access)))
    else:
        steps.add(_skipped("send_test"))


def _app_token(
    app: AppRegistration, secret: ClientSecret, fresh: bool = False
) -> microsoft.AppToken:
    """The app-only token. A cached one without Mail.Read or Mail.Send is replaced by a
    fresh one: it was issued before the admin granted consent, perhaps a minute ago."""
    try:
        value = secret.reveal()
    except vault.DecryptionError:
        raise MicrosoftError("secret_missing", "The saved client secret cannot be read.") from None
    try:
        token = microsoft.acquire_app_token(
            directory=app.directory, client_id=str(app.client_id), client_secret=value, fresh=fresh
        )
        if token.from_cache and diagnose_roles(token.roles) is not None:
            token = microsoft.acquire_app_token(
                directory=app.directory,
                client_id=str(app.client_id),
                client_secret=value,
                fresh=True,
            )
    except MicrosoftError as exc:
        if exc.code == "AADSTS7000215" and _is_guid(value):
            raise _SecretIdPasted(exc.code, exc.message, exc.status, exc.correlation_id) from None
        raise
    return token


def _activate_first_secret(run: CheckRun, secret: ClientSecret) -> None:
    """A passing check proves the wizard's first secret: it becomes the active one.
    (Renewals pass `secret` and activate through their own workflow.)"""
    secrets = ClientSecret.objects
    if secrets.filter(app_id=secret.app_id, status=ClientSecret.Status.ACTIVE).exists():
        return
    pending = secrets.filter(pk=secret.pk, status=ClientSecret.Status.PENDING)
    if not pending.update(status=ClientSecret.Status.ACTIVE):
        return
    audit.audit_record(
        action="secret.activated", tenant=run.mailbox.tenant, obj=secret, check_run=str(run.pk)
    )


def _send_test(run: CheckRun, mailbox: Mailbox, access_token: str) -> None:
    microsoft.send_test_message(
        access_token=access_token,
        mailbox=mailbox.address,
        to=mailbox.address,
        subject=TEST_SUBJECT.format(id=run.pk),
        body="The mailbox portal sent this message to check that the operations app can "
        "send mail from this mailbox. It needs no answer and can be deleted.",
    )


def _password_sign_in(app: AppRegistration, mailbox: Mailbox) -> microsoft.DelegatedToken:
    password = mailbox.reveal_password() or ""
    return microsoft.sign_in_with_password(
        directory=app.directory,
        client_id=str(app.client_id),
        username=mailbox.address,
        password=password,
    )


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return False
    return True


# --- recording ----------------------------------------------------------------------


def _diagnosis(exc: MicrosoftError) -> Diagnosis:
    if isinstance(exc, _SecretIdPasted):
        return CATALOGUE["secret_id_pasted"]
    if exc.code in CATALOGUE:  # the portal's own codes (secret_missing, ...)
        return CATALOGUE[exc.code]
    return diagnose(exc.code, exc.message, status=exc.status, correlation_id=exc.correlation_id)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _passed(name: str, duration_ms: int, message: str = "") -> dict[str, Any]:
    return _entry(name, "passed", "", message, "", duration_ms, "")


def _skipped(name: str) -> dict[str, Any]:
    return _entry(name, "skipped", "", "Skipped: the permission it needs is missing.", "", 0, "")


def _failed(
    name: str, found: Diagnosis, code: str, message: str = "", correlation_id: str = ""
) -> dict[str, Any]:
    return _entry(name, "failed", code, message, correlation_id, 0, found.key)


def _entry(
    name: str,
    outcome: str,
    code: str,
    message: str,
    correlation_id: str,
    duration_ms: int,
    diagnosis_key: str,
) -> dict[str, Any]:
    return {
        "name": name,
        "outcome": outcome,
        "code": code,
        "message": message[:500],
        "correlation_id": correlation_id,
        "duration_ms": duration_ms,
        "diagnosis_key": diagnosis_key,
    }


def step_diagnosis(step: dict[str, Any]) -> Diagnosis | None:
    """The diagnosis to show for a recorded step (Microsoft's words for unknown codes)."""
    if step.get("outcome") != "failed":
        return None
    key = step.get("diagnosis_key", "")
    if key in CATALOGUE:
        return CATALOGUE[key]
    return diagnose(
        step.get("code", ""), step.get("message", ""), correlation_id=step.get("correlation_id", "")
    )


# --- health and alerts --------------------------------------------------------------

Health = Tenant.Health
_ALARMING = (Health.FAILING, Health.EXPIRED)


def record_health(run: CheckRun) -> None:
    """Move the mailbox's and tenant's health; alert on a change into or out of failing.

    The change is a compare-and-set UPDATE from the health last read, so only the one
    check that really changes it announces it, however many workers finish at once.
    """
    mailbox = run.mailbox
    new = _health_after(run)
    passed = run.status == CheckRun.Status.PASSED
    fields = {
        "diagnosis_code": run.diagnosis_key,
        "last_checked_at": run.finished_at,
        **({"last_success_at": run.finished_at} if passed else {}),
    }
    old = mailbox.health
    # Usually one UPDATE: the health read when the run was claimed is still current.
    while not Mailbox.objects.filter(pk=mailbox.pk, health=old).update(health=new, **fields):
        old = Mailbox.objects.values_list("health", flat=True).get(pk=mailbox.pk)
    mailbox.health = new
    if old != new:
        _record_tenant_health(mailbox.tenant_id)
        _announce(run, mailbox, old, new)
        if new == Health.HEALTHY:
            # A first pass completes the wizard's verify step with no wizard page saved
            # afterwards: move the tenant's setup step on (start page, support lists).
            wizard.record_progress(mailbox.tenant)


def _announce(run: CheckRun, mailbox: Mailbox, old: str, new: str) -> None:
    audit.audit_record(
        action="mailbox.health_changed",
        tenant=mailbox.tenant,
        obj=mailbox,
        old=old,
        new=new,
        check_run=str(run.pk),
        diagnosis=run.diagnosis_key,
    )
    if new in _ALARMING and old not in _ALARMING:
        transaction.on_commit(lambda: emails.check_failing(run=run))
    elif new == Health.HEALTHY and old in _ALARMING:
        transaction.on_commit(lambda: emails.check_recovered(run=run))


def _health_after(run: CheckRun) -> str:
    if run.status == CheckRun.Status.PASSED:
        return Health.HEALTHY
    if run.diagnosis_key == "secret_expired":
        return Health.EXPIRED
    failed = {step["name"] for step in run.steps if step["outcome"] == "failed"}
    if failed == {"password_sign_in"}:
        return Health.DEGRADED
    needed = settings.PORTAL_CHECK_FAILING_AFTER
    recent = CheckRun.objects.filter(
        mailbox_id=run.mailbox_id,
        secret__isnull=True,
        status__in=(CheckRun.Status.PASSED, CheckRun.Status.FAILED),
    ).values_list("status", flat=True)[:needed]
    if len(recent) >= needed and all(status == CheckRun.Status.FAILED for status in recent):
        return Health.FAILING
    return Health.DEGRADED


# Worst first: a tenant is as healthy as its least healthy mailbox.
_SEVERITY = [Health.EXPIRED, Health.FAILING, Health.DEGRADED, Health.HEALTHY, Health.UNKNOWN]


def _record_tenant_health(tenant_id: uuid.UUID) -> None:
    states = set(Mailbox.objects.filter(tenant_id=tenant_id).values_list("health", flat=True))
    worst = next((state for state in _SEVERITY if state in states), Health.UNKNOWN)
    Tenant.objects.filter(pk=tenant_id).exclude(health=worst).update(health=worst)


# --- the schedule -------------------------------------------------------------------

# Beat runs the sweep hourly; each sweep enqueues the checks due in the next hour.
RECHECK_SWEEP_SECONDS = 3600


def recheck_due() -> int:
    """Enqueue the scheduled checks of the coming hour. Returns how many were enqueued.

    Every verified mailbox (one that has passed once) has a fixed slot in the
    PORTAL_RECHECK_HOURS period, taken from its id, and is checked at that slot each
    period: the load spreads evenly over the period, however many mailboxes were set up
    at once. A mailbox checked within the last half period (someone pressed "Run check
    again") skips its slot; one not checked for two periods (beat was down) is checked
    in this hour, spread over it.
    """
    now = timezone.now()
    period = settings.PORTAL_RECHECK_HOURS * 3600
    pending = CheckRun.objects.filter(
        mailbox=OuterRef("pk"), status__in=(CheckRun.Status.QUEUED, CheckRun.Status.RUNNING)
    )
    verified = (
        Mailbox.objects.filter(last_success_at__isnull=False)
        .exclude(Exists(pending))
        .values_list("pk", "last_checked_at")
    )
    due: dict[uuid.UUID, float] = {}
    overdue: list[uuid.UUID] = []
    for mailbox_id, last_checked_at in verified:
        age = (now - last_checked_at).total_seconds() if last_checked_at else 2 * period
        if age >= 2 * period:
            overdue.append(mailbox_id)
            continue
        wait = (mailbox_id.int % period - now.timestamp()) % period  # until its slot
        if wait < RECHECK_SWEEP_SECONDS and age >= period / 2:
            due[mailbox_id] = wait
    for index, mailbox_id in enumerate(overdue):
        due[mailbox_id] = index * RECHECK_SWEEP_SECONDS / len(overdue)
    for mailbox_id, countdown in due.items():
        run = CheckRun.objects.create(mailbox_id=mailbox_id, trigger=CheckRun.Trigger.SCHEDULE)
        _enqueue(run.pk, countdown=countdown)
    return len(due)
