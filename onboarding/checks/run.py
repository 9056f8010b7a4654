"""One attempt of a mailbox check: prove that the operations app can read and send
mail, step by step. The task (onboarding.tasks.run_mailbox_check) calls `check_run`:

1. token: an app-only token through onboarding.microsoft (one msal app per credential,
   kept per worker process, so its token cache answers every later check);
2. permissions: the roles in the token, shown as a hint (never a verdict: Graph's
   answers are, and a consent just granted is waited for);
3. read_inbox: the newest inbox message (top 1);
4. send_test: a message from the mailbox to itself (or to PORTAL_CHECK_SEND_TO), not
   saved to Sent Items, marked by its subject prefix and header (results.TEST_HEADER);
   a scheduled re-check skips it while the last one sent is recent
   (onboarding.checks.claim.test_message_due);
5. password_sign_in: only when a mailbox password is stored, as its own line; skipped
   ("not needed") when the operations app does not use that sign-in
   (settings.OPERATIONS_SIGN_IN).

A check makes its requests one after another, so at most one request per mailbox is
in flight (Microsoft allows four). A transient failure is retried as a whole (see
onboarding.checks.claim) until PORTAL_CHECK_MAX_ATTEMPTS; anything else fails at once
with its diagnosis. What the finished run means is onboarding.checks.health's to say.
"""

from __future__ import annotations

import functools
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from onboarding import microsoft, vault
from onboarding.checks import health, results, settling
from onboarding.checks.claim import claim, requeue, test_message_due
from onboarding.delegated import keepalive
from onboarding.delegated.flow import is_personal
from onboarding.delegated.tokens import delegated_token, secret_certificate
from onboarding.diagnosis import (
    CATALOGUE,
    Diagnosis,
    consent,
    diagnose,
    for_vendor_app,
    sign_in_diagnosis,
)
from onboarding.microsoft import AppCredential, MicrosoftError, admin_center
from onboarding.models import (
    AppRegistration,
    CheckRun,
    ClientSecret,
    Mailbox,
    MailboxScope,
    MailboxSignIn,
)
from onboarding.scope import proof
from onboarding.vendor import credential as vendor

T = TypeVar("T")
logger = logging.getLogger(__name__)

TEST_SUBJECT = results.TEST_SUBJECT
PASSWORD_NOT_NEEDED = (
    "Not needed: the operations app here does not sign in with the mailbox password."
)
# Twice the live page's fast polling interval (results.FAST_POLL_MS): a slow run shows
# each step as it ends, without a write per step for the quick ones.
PROGRESS_SAVE_SECONDS = 0.5


class _SecretIdPasted(MicrosoftError):
    """AADSTS7000215 for a stored value that is a GUID: the Secret ID, not the Value."""


class _Transient(Exception):
    """A step failed in a way worth retrying; the run is retried as a whole."""

    # Retried beyond PORTAL_CHECK_MAX_ATTEMPTS: waiting for Exchange to apply a scope,
    # which Microsoft says takes up to 2 hours (bounded by onboarding.scope.proof).
    unlimited = False

    def __init__(self, error: MicrosoftError) -> None:
        self.error = error


class _ScopeSettling(_Transient):
    unlimited = True


class _Stopped(Exception):
    """A step raised something no step expects (a bug, a library failing in a way
    onboarding.microsoft does not know); it is recorded, and the run ends there."""


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
    """Run one attempt of a check. Whatever a step raises, the run ends, failed with the
    "unexpected" diagnosis: a run left `running` would hold back every later check of
    its mailbox (see `abandon` for what raises outside the steps)."""
    claimed = claim(check_run_id)
    if claimed is None:
        # Finished already: perhaps a redelivery after a worker died before its renewal
        # was concluded (a no-op otherwise).
        health.renewal_conclude(check_run_id)
        return Attempt()
    if not isinstance(claimed, CheckRun):
        return Attempt(retry_in=claimed)
    steps = _Steps(claimed)
    try:
        _perform(steps)
    except _Transient as transient:
        if transient.unlimited or claimed.attempts < settings.PORTAL_CHECK_MAX_ATTEMPTS:
            return Attempt(retry_in=requeue(claimed, steps.done, transient.error))
    except _Stopped:
        pass  # the step that raised is recorded
    except Exception as exc:  # outside any step: the run must end all the same
        steps.add(unexpected_step(claimed, _next_step(steps.done), exc))
    _finish(claimed, steps.done)
    health.check_finished(claimed, first_secret=steps.first_secret, unreadable=steps.unreadable)
    return Attempt(finished=claimed)


def _finish(run: CheckRun, steps: list[dict[str, Any]]) -> None:
    """Write the run's result, with one UPDATE."""
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


# --- the steps ----------------------------------------------------------------------


class _Steps:
    """The steps of one run as they end. The live page polls the run while it runs, so
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
        # A stored secret (client secret, mailbox password) that failed to decrypt.
        self.unreadable: list[ClientSecret | Mailbox] = []
        # With the vendor's app, the guide's steps 1, 2 and 4 are not the customer's.
        self.vendor_app = run.mailbox.tenant.uses_vendor_app
        # The tenant's own app limited to its mailboxes in Exchange (RBAC for
        # Applications): each check also proves the scope (onboarding.scope.proof).
        self.scope: MailboxScope | None = None
        if not self.vendor_app:
            try:
                self.scope = run.mailbox.tenant.mailbox_scope  # loaded with the run (claim)
            except MailboxScope.DoesNotExist:
                self.scope = None

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
            if self.vendor_app:
                found = for_vendor_app(found)
            correlation_id = exc.correlation_id
            if found.key == "unexpected":  # MicrosoftErrors never carry a secret
                logger.error("Check %s, step %s: %s", self.run.pk, name, exc)
                correlation_id = correlation_id or str(self.run.pk)
            entry = results.failed(name, found, exc.code, exc.message, correlation_id)
            entry["duration_ms"] = _ms(started)
            self.add(entry)
            if exc.transient:
                raise _Transient(exc) from None
            return None
        except Exception as exc:  # a step never leaves its run running
            entry = unexpected_step(self.run, name, exc)
            entry["duration_ms"] = _ms(started)
            self.add(entry)
            raise _Stopped from None
        self.add(results.passed(name, _ms(started)))
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
    vendor_app = steps.vendor_app
    secret = None if vendor_app else _secret_for(run)
    try:
        sign_in: MailboxSignIn | None = mailbox.sign_in  # loaded with the run (claim)
    except MailboxSignIn.DoesNotExist:
        sign_in = None
    app = secret.app if secret is not None else _app_of(mailbox)
    credential: _CredentialSource | None = None
    if vendor_app and app is not None:
        # The vendor's one certificate, in this customer's directory (onboarding.vendor).
        credential = vendor.app_credential
    elif secret is not None:
        credential = functools.partial(_secret_credential, secret, steps)
    if credential is not None and (is_personal(mailbox) or (sign_in and sign_in.personal)):
        # App-only access never reaches a personal account: only its owner's sign-in.
        _owner_steps(steps, mailbox, sign_in, credential)
        return
    if app is None:
        steps.add(results.failed("token", CATALOGUE["app_missing"], "app_missing"))
        return
    if credential is None:
        message = "No active client secret is saved."
        steps.add(results.failed("token", CATALOGUE["secret_missing"], "secret_missing", message))
    else:
        if (
            secret is not None
            and run.secret_id is None
            and secret.status == ClientSecret.Status.PENDING
        ):
            steps.first_secret = secret
        # A check someone asked for (a saved change, "Run check again", support) proves
        # the secret as Microsoft sees it now: a new token, since a token issued earlier
        # outlives a secret deleted in Entra by up to an hour. Scheduled checks take the
        # cached one while it lasts (one token request per credential per lifetime).
        asked = run.trigger != CheckRun.Trigger.SCHEDULE
        source = credential
        token = steps.call("token", lambda: _app_token(app, source, asked))
        if token is not None:
            fresh = _Token(token, lambda: _app_token(app, source, True))
            _mail_steps(steps, mailbox, fresh)
    if sign_in is not None and credential is not None:
        # The owner's own sign-in replaces the legacy password: prove it still works.
        source = credential
        steps.call("mailbox_sign_in", lambda: _owner_token(steps, sign_in, source, fresh=True))
        return
    if not admin_center.asks().password:
        # The operations app here does not sign in with the mailbox password
        # (settings.OPERATIONS_SIGN_IN): a password stored earlier is not tried, and the
        # line says why, so nobody wonders whether it was forgotten.
        steps.add(results.skipped("password_sign_in", PASSWORD_NOT_NEEDED))
    elif mailbox.has_password:
        steps.call("password_sign_in", lambda: _password_sign_in(app, mailbox, steps))


# What a check signs in with: the customer's own secret or certificate, or the
# vendor's certificate. Called inside a step, so that a credential that cannot be read
# fails that step (secret_unreadable, vendor_credential_missing).
_CredentialSource = Callable[[], AppCredential]


def _app_of(mailbox: Mailbox) -> AppRegistration | None:
    return AppRegistration.objects.filter(tenant_id=mailbox.tenant_id).first()


def _secret_credential(secret: ClientSecret, steps: _Steps) -> AppCredential:
    value = _secret_value(secret, steps)
    return AppCredential(str(secret.app.client_id), value, secret_certificate(secret))


class _SignInRefused(MicrosoftError):
    """A refresh of the owner's sign-in that Microsoft refused: its own diagnoses."""


def _owner_steps(
    steps: _Steps, mailbox: Mailbox, sign_in: MailboxSignIn | None, credential: _CredentialSource
) -> None:
    """A personal mailbox: the owner's token (by refresh), its scopes as a hint, then
    the inbox and the test message through /me, under the same test-message policy."""
    if sign_in is None:
        entry = results.failed("owner_token", CATALOGUE["sign_in_missing"], "sign_in_missing")
        steps.add(entry)
        return
    # A check someone asked for proves the sign-in as Microsoft sees it now; a scheduled
    # one takes the cached token, but uses the refresh token at least daily: Microsoft
    # ends one left unused for 90 days (onboarding.delegated.keepalive).
    asked = steps.run.trigger != CheckRun.Trigger.SCHEDULE or keepalive.refresh_due(sign_in)
    token = steps.call("owner_token", lambda: _owner_token(steps, sign_in, credential, fresh=asked))
    if token is None:
        return
    listed = ", ".join(sorted(token.scopes)) or "none"
    steps.add(results.info("permissions", f"Granted by the mailbox's owner: {listed}."))
    steps.call(
        "read_inbox", lambda: microsoft.read_inbox(access_token=token.access_token, mailbox="me")
    )
    if steps.done[-1]["diagnosis_key"] == "no_mailbox":  # no licence is not the reason here
        steps.done[-1]["diagnosis_key"] = "personal_not_a_mailbox"
    due = test_message_due(steps.run)
    if due.send:
        steps.call("send_test", lambda: _send_test(steps.run, mailbox, token.access_token, "me"))
    else:
        steps.add(results.skipped("send_test", due.reason()))


def _owner_token(
    steps: _Steps, sign_in: MailboxSignIn, credential: _CredentialSource, *, fresh: bool
) -> microsoft.DelegatedToken:
    """The owner's delegated token. Microsoft's refusals of the refresh get the
    sign-in's own diagnoses ("Connect again"); an unreadable secret is the secret's."""
    signs_in_with = credential()
    try:
        return delegated_token(sign_in, signs_in_with, fresh=fresh)
    except MicrosoftError as exc:
        if exc.transient or exc.code in CATALOGUE:
            raise
        raise _SignInRefused(exc.code, exc.message, exc.status, exc.correlation_id) from None


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
    """The app token the Graph steps use. A cached token that Graph rejects (401), or
    refuses (403) while lacking the role the request needs, is replaced by a fresh one
    and the request sent once more: it may predate a change in Entra, such as the admin
    consent granted a minute ago. A cached token without roles that Graph accepts stays
    (access granted in Exchange never shows in the token), so it costs no token request."""

    def __init__(self, token: microsoft.AppToken, fresh: Callable[[], microsoft.AppToken]):
        self.token, self._fresh = token, fresh

    def call(self, request: Callable[[str], T], needs: frozenset[str]) -> Callable[[], T]:
        def attempt() -> T:
            try:
                return request(self.token.access_token)
            except MicrosoftError as exc:
                if not self.token.from_cache or not self._stale(exc, needs):
                    raise
            self.token = self._fresh()  # its own failure (AADSTS...) is this step's
            return request(self.token.access_token)

        return attempt

    def renew(self) -> None:
        self.token = self._fresh()

    def _stale(self, exc: MicrosoftError, needs: frozenset[str]) -> bool:
        refused = exc.status == 403 and exc.code == "ErrorAccessDenied"
        return exc.status == 401 or (refused and not needs & self.token.roles)


def _mail_steps(steps: _Steps, mailbox: Mailbox, token: _Token) -> None:
    """The roles in the token as a hint, then both Graph steps, always: Graph's answer is
    the verdict. Microsoft says clients should not parse its tokens, and Exchange grants
    mailbox access that never shows in them (tests/recordings/token_roles_not_for_clients,
    exchange_rbac_for_applications), so the roles only explain a refusal."""
    hint = results.info("permissions", consent.roles_hint(token.token.roles))
    steps.add(hint)
    read = token.call(
        lambda access_token: microsoft.read_inbox(
            access_token=access_token, mailbox=mailbox.sign_in_name
        ),
        consent.READ_ROLES,
    )
    _graph_step(steps, "read_inbox", read, token)
    due = test_message_due(steps.run)
    if due.send:
        send = token.call(lambda access: _send_test(steps.run, mailbox, access), consent.SEND_ROLES)
        _graph_step(steps, "send_test", send, token)
    else:
        # Skipped, not passed: it proves nothing, so it confirms no consent and no secret
        # (progress.consent_confirm and health.secret_proved want it passed).
        steps.add(results.skipped("send_test", due.reason()))
    if steps.scope is not None:
        _scope_proof(steps, mailbox, token, steps.scope)
    hint["message"] = consent.roles_hint(token.token.roles)  # of the last token, if renewed
    waiting = settling.retry(steps.run, steps.done)  # a consent granted moments ago
    if waiting is not None:
        raise _Transient(waiting)


def _scope_proof(steps: _Steps, mailbox: Mailbox, token: _Token, scope: MailboxScope) -> None:
    """A limited tenant: read an address outside the scope, which Graph must refuse, then
    let onboarding.scope.proof say what that and the mailbox's steps mean together."""
    probe = scope.probe_address
    connected = {name.casefold() for name in (mailbox.address, mailbox.upn) if name}
    connected |= {
        address.casefold()
        for address in Mailbox.objects.filter(tenant_id=mailbox.tenant_id).values_list(
            "address", flat=True
        )
    }
    if not scope.complete:
        key = "scope_probe_missing"
        steps.add(results.failed(proof.PROBE_STEP, CATALOGUE[key], key))
    elif probe.casefold() in connected:
        key = "scope_probe_connected"
        steps.add(results.failed(proof.PROBE_STEP, CATALOGUE[key], key))
    else:

        def read(access_token: str) -> object:
            return microsoft.read_inbox(access_token=access_token, mailbox=probe)

        def attempt() -> object:
            answer = read(token.token.access_token)
            if token.token.from_cache:
                # Answered with a token issued before, perhaps before the Entra consent
                # was removed: only a fresh token's answer counts.
                token.renew()
                answer = read(token.token.access_token)
            return answer

        steps.call(proof.PROBE_STEP, attempt)
    proof.conclude(steps.done, token.token.roles, probe)
    if proof.settling(scope, steps.done):
        first = next(e for e in steps.done if e["diagnosis_key"] == "scope_propagating")
        waiting = MicrosoftError(
            first["code"] or "scope_propagating",
            first["message"],
            correlation_id=first["correlation_id"],
            transient=True,
            retry_after=proof.SCOPE_RETRY_SECONDS,
        )
        raise _ScopeSettling(waiting)


def _graph_step(steps: _Steps, name: str, call: Callable[[], object], token: _Token) -> None:
    steps.call(name, call)
    entry = steps.done[-1]
    if entry["outcome"] == "failed":
        # The roles of the token Graph answered explain a plain refusal.
        entry["diagnosis_key"] = consent.refused(entry["diagnosis_key"], name, token.token.roles)


def _app_token(
    app: AppRegistration, credential: _CredentialSource, fresh: bool = False
) -> microsoft.AppToken:
    """The app-only token, from the cache while it is fresh (what Graph makes of a cached
    token decides whether a fresh one is needed: see _Token). A stored value that no
    longer decrypts fails the step as `secret_unreadable` (the run ends, failed; health
    alerts support once)."""
    signs_in_with = credential()
    try:
        return microsoft.acquire_app_token(
            directory=app.directory,
            client_id=signs_in_with.client_id,
            client_secret=signs_in_with.secret,
            fresh=fresh,
            certificate=signs_in_with.certificate,
        )
    except MicrosoftError as exc:
        if exc.code == "AADSTS7000215" and _is_guid(signs_in_with.secret):
            raise _SecretIdPasted(exc.code, exc.message, exc.status, exc.correlation_id) from None
        raise


def _secret_value(secret: ClientSecret, steps: _Steps) -> str:
    """The secret's value; one that no longer decrypts fails the step as
    `secret_unreadable` (the run ends, failed; health alerts support once)."""
    try:
        return secret.reveal()
    except vault.DecryptionError:
        steps.unreadable.append(secret)
        raise MicrosoftError(
            "secret_unreadable", "The saved client secret cannot be decrypted."
        ) from None


def _send_test(run: CheckRun, mailbox: Mailbox, access_token: str, path: str = "") -> None:
    microsoft.send_test_message(
        access_token=access_token,
        # Graph's path takes the UPN, never an alias ("me" with the owner's token); the
        # message goes to the address, or to the deployment's own address outside the
        # inbox the operations app reads.
        mailbox=path or mailbox.sign_in_name,
        to=settings.PORTAL_CHECK_SEND_TO or mailbox.address,
        subject=TEST_SUBJECT.format(id=run.pk),
        body="The mailbox portal sent this message to check that the operations app can "
        "send mail from this mailbox. It needs no answer and can be deleted.",
        headers={results.TEST_HEADER: str(run.pk)},
    )


def _password_sign_in(
    app: AppRegistration, mailbox: Mailbox, steps: _Steps
) -> microsoft.DelegatedToken:
    try:
        password = mailbox.reveal_password() or ""
    except vault.DecryptionError:
        steps.unreadable.append(mailbox)
        raise MicrosoftError(
            "password_unreadable", "The saved mailbox password cannot be decrypted."
        ) from None
    return microsoft.sign_in_with_password(
        directory=app.directory,
        client_id=str(app.client_id),
        username=mailbox.sign_in_name,  # the password sign-in needs the UPN too
        password=password,
    )


# --- what no step expects ------------------------------------------------------------


def unexpected_step(run: CheckRun, name: str, exc: BaseException) -> dict[str, Any]:
    """A failed step for an exception no step expects, with the run's ID as its
    correlation ID. Logged by type and place only: its text may quote a secret (a
    password in a URL, a response body, a value in a bug's message)."""
    logger.error(
        "Check %s, step %s: unexpected %s at %s",
        run.pk,
        name,
        type(exc).__name__,
        _raised_at(exc),
    )
    message = f"The check stopped on an unexpected error ({type(exc).__name__})."
    return results.failed(name, CATALOGUE["unexpected"], "unexpected", message, str(run.pk))


def abandon(check_run_id: str | uuid.UUID, exc: BaseException) -> None:
    """The last line of defence (onboarding.tasks): the attempt itself raised while it
    claimed, re-queued, recorded its result or health, or was re-enqueued. Fail the run
    unless it failed already, so that it never stays queued or running and the next
    check of its mailbox can be asked for; then record what that means, if that still
    works. Never raises: what it logs is safe, what a caller's logger would print is not."""
    try:
        run = CheckRun.objects.select_related("mailbox").filter(pk=check_run_id).first()
        if run is None:
            logger.error(
                "Check %s: unexpected %s at %s", check_run_id, type(exc).__name__, _raised_at(exc)
            )
            return
        if run.status != CheckRun.Status.FAILED:
            entry = unexpected_step(run, "finish", exc)
            # A step's own failure names the run's, unless it was waiting for the retry
            # that can no longer come (throttled, unreachable).
            failed = next((step for step in run.steps if _lasting(step)), entry)
            steps = [*run.steps, entry]
            result = {
                "steps": steps,
                "status": CheckRun.Status.FAILED,
                "finished_at": timezone.now(),
                "diagnosis_key": failed["diagnosis_key"],
                "error_code": failed["code"],
                "correlation_id": failed["correlation_id"],
            }
            if not CheckRun.objects.filter(pk=run.pk, status=run.status).update(**result):
                return  # another worker moved it meanwhile: its result stands
            for field, value in result.items():
                setattr(run, field, value)
        else:
            unexpected_step(run, "finish", exc)  # logged; its result stands
        health.check_finished(run)
    except Exception as again:
        logger.error(
            "Check %s: could not be failed after an unexpected %s (%s at %s)",
            check_run_id,
            type(exc).__name__,
            type(again).__name__,
            _raised_at(again),
        )


def _lasting(step: dict[str, Any]) -> bool:
    found = CATALOGUE.get(step["diagnosis_key"])
    return step["outcome"] == "failed" and not (found is not None and found.transient)


def _next_step(done: list[dict[str, Any]]) -> str:
    """Where a run that raised outside its steps stopped: the first step not recorded."""
    recorded = {step["name"] for step in done}
    return next((name for name in results.STEP_LABELS if name not in recorded), "finish")


def _raised_at(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "an unknown place"
    where = frames[-1]
    return f"{Path(where.filename).name}:{where.lineno} in {where.name}"


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return False
    return True


def _diagnosis(exc: MicrosoftError) -> Diagnosis:
    if isinstance(exc, _SecretIdPasted):
        return CATALOGUE["secret_id_pasted"]
    if isinstance(exc, _SignInRefused):
        return sign_in_diagnosis(exc.code, exc.message, correlation_id=exc.correlation_id)
    if exc.code in CATALOGUE:  # the portal's own codes (secret_missing, ...)
        return CATALOGUE[exc.code]
    return diagnose(exc.code, exc.message, status=exc.status, correlation_id=exc.correlation_id)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
