"""Registering the customer's own app for them, with the signed-in admin's delegated
token (onboarding.provisioning.flow), in the order of the plan the admin confirmed
(onboarding.provisioning.plan):

1. the admin's roles: Graph's app roles (Mail.Read, Mail.Send) can be granted by a
   Global or Privileged Role Administrator only, so anyone else is told before
   anything is made;
2. what earlier attempts of this tenant left in this directory is removed (they are
   listed on the plan page, so this surprises nobody);
3. the app management policies: a client secret the directory blocks becomes a
   certificate, and the admin is told why;
4. an app of the same name the portal did not make stops the run (nothing made);
5. the application (with the portal's certificate, whose private key never leaves the
   portal), its service principal, Graph's two app role assignments (the admin
   consent), and a client secret only if the admin asked for one and policy allows:
   its secretText goes straight into the vault and is never shown;
6. the tenant's registration, steps 1 to 4 done, and the first check.

Everything made is recorded in the ProvisioningRun as soon as Graph answers. A step
that fails (after Microsoft's 429 and 5xx are waited out a few times) removes what this
run made (DELETE of the application takes its service principal and grants with it);
what cannot be removed is left listed for the next attempt or for the admin. The token
is a parameter, never stored, never logged; Microsoft's errors are recorded by code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from onboarding import certificates, microsoft
from onboarding.audit import audit_record
from onboarding.checks.claim import Requested, checks_after_change
from onboarding.client_secrets import key_pair_store, secret_store
from onboarding.microsoft import MicrosoftError, admin_center
from onboarding.models import AppRegistration, ProvisioningRun, Tenant
from onboarding.progress import record_progress
from onboarding.provisioning.plan import Plan

logger = logging.getLogger(__name__)
T = TypeVar("T")
Status = ProvisioningRun.Status
# Microsoft's transient answers (429, 5xx, a new app not replicated yet) are tried again
# this many times in all, each after Retry-After (at most MAX_WAIT seconds).
TRIES = 4
MAX_WAIT = 10.0
# A client secret the portal adds lives this long, unless a policy caps it lower.
SECRET_DAYS = 180
# Another attempt of the same tenant within this time is refused as running.
RUNNING_FOR = timedelta(minutes=10)
_sleep = time.sleep  # tests replace it


@dataclass(frozen=True)
class Outcome:
    run: ProvisioningRun | None
    app: AppRegistration | None = None
    checks: list[Requested] | None = None
    # not_admin, name_taken, running, microsoft (run.failed_step / error_code say more)
    failure: str = ""
    roles: frozenset[str] = frozenset()


class _Failed(Exception):
    def __init__(self, step: str, exc: MicrosoftError) -> None:
        super().__init__(step)
        self.step, self.exc = step, exc


def register(
    tenant: Tenant,
    plan: Plan,
    *,
    access_token: str,
    directory_id: str,
    signed_in_as: str,
    actor: Actor,
) -> Outcome:
    """Carry out the plan in the admin's directory. Never raises MicrosoftError."""
    try:
        roles = _call(lambda: microsoft.signed_in_roles(access_token))
    except MicrosoftError as exc:
        run = _failed_before(tenant, plan, directory_id, signed_in_as, actor, exc)
        return Outcome(run, failure="microsoft")
    if not roles & microsoft.ROLES_THAT_GRANT_APP_ROLES:
        return Outcome(None, failure="not_admin", roles=roles)
    if ProvisioningRun.objects.filter(
        tenant=tenant, status=Status.RUNNING, started_at__gt=timezone.now() - RUNNING_FOR
    ).exists():
        return Outcome(None, failure="running")
    run = _new_run(tenant, plan, directory_id, signed_in_as, actor)
    audit_record(
        action="provisioning.started",
        actor=actor,
        tenant=tenant,
        obj=run,
        directory_id=directory_id,
        credential=plan.credential_kind,
    )
    try:
        return _carry_out(tenant, plan, run, access_token, actor)
    except _Failed as failed:
        _undo(run, access_token, failed.step, failed.exc, actor)
        return Outcome(run, failure="microsoft")


def _carry_out(
    tenant: Tenant, plan: Plan, run: ProvisioningRun, token: str, actor: Actor
) -> Outcome:
    _remove_left_overs(tenant, run, token, actor)
    kind = plan.credential_kind
    policy = _step("policies", lambda: microsoft.app_management_policies(token))
    if kind == "secret" and policy.password_blocked:
        kind = "certificate"
        _note(
            run,
            "Your directory's app management policy blocks client secrets, so the "
            "app got the portal's certificate instead.",
        )
    if _name_taken(plan.display_name, token):
        run.status, run.failed_step, run.finished_at = Status.FAILED, "name", timezone.now()
        run.save(update_fields=["status", "failed_step", "finished_at"])
        return Outcome(run, failure="name_taken")
    made = certificates.make(tenant_name=tenant.name)  # the key stays in this request
    asks = admin_center.asks()
    der = certificates.key_value(made.certificate_pem) if kind == "certificate" else None
    app = _step(
        "application",
        lambda: microsoft.create_application(
            token,
            display_name=plan.display_name,
            redirect_uris=plan.redirect_uris,
            certificate_der_b64=der,
            personal_accounts=asks.interactive,
            public_client=asks.password,
            delegated_scope_ids=plan.delegated_scope_ids,
        ),
    )
    _made(run, "application", app.object_id, f"{plan.display_name} ({app.app_id})")
    principal = _step(
        "service_principal", lambda: microsoft.create_service_principal(token, app.app_id)
    )
    _made(run, "service_principal", principal, "its enterprise application")
    graph = _step("graph", lambda: microsoft.graph_service_principal(token))
    for role in microsoft.MAIL_ROLES:
        role_id = microsoft.GRAPH_APP_ROLES[role]
        granted = _step(
            f"grant_{role}",
            lambda role_id=role_id: microsoft.assign_app_role(  # type: ignore[misc]
                token, resource_id=graph, principal_id=principal, app_role_id=role_id
            ),
        )
        _made(run, "app_role_assignment", granted, f"{role} (application permission)")
    password = None
    if kind == "secret":
        end = timezone.now() + min(
            timedelta(days=SECRET_DAYS), policy.max_password_lifetime or timedelta(days=730)
        )
        password = _step(
            "secret",
            lambda: microsoft.add_password(
                token,
                application_object_id=app.object_id,
                display_name="Mailbox portal",
                end=end,
            ),
        )
        _made(run, "password", password.key_id, f"client secret {password.hint}…")
    with transaction.atomic():
        registration = _bind(tenant, run, app, actor)
        if password is not None:
            end_on = (password.end or end).astimezone(UTC).date()
            secret_store(
                registration,
                value=password.secret_text,
                secret_id=password.key_id,
                expires_on=end_on,
                by=actor.user,
            )
        else:
            assert app.key_id is not None  # POST /applications names the key it added
            key_pair_store(
                registration,
                private_key_pem=made.private_key_pem,
                certificate_pem=made.certificate_pem,
                thumbprint=made.thumbprint,
                expires_on=made.not_after.date(),
                certificate_id=app.key_id,
                by=actor.user,
            )
        run.status, run.finished_at = Status.DONE, timezone.now()
        run.save(update_fields=["status", "finished_at"])
        audit_record(
            action="provisioning.registered",
            actor=actor,
            tenant=tenant,
            obj=run,
            client_id=app.app_id,
            object_id=app.object_id,
            credential=kind,
        )
        checks = checks_after_change(tenant, requested_by=actor.user)
        record_progress(tenant)
    return Outcome(run, registration, checks)


def _bind(tenant: Tenant, run: ProvisioningRun, app: Any, actor: Actor) -> AppRegistration:
    now = timezone.now()
    registration, _ = AppRegistration.objects.update_or_create(
        tenant=tenant,
        defaults={
            "client_id": app.app_id,
            "directory": str(run.directory_id),
            "directory_id": run.directory_id,
            "object_id": app.object_id,
            "authentication_confirmed_at": now,
            # The app role assignments are the admin consent; a check confirms them.
            "consent_granted_at": now,
            "consent_granted_by": actor.user,
            "consent_confirmed_at": None,
        },
    )
    return registration


# --- what is made, and undone ----------------------------------------------------------


def _made(run: ProvisioningRun, kind: str, object_id: str, label: str) -> None:
    """Recorded at once (its own UPDATE), so that a worker lost next still lists it."""
    run.created = [*run.created, {"kind": kind, "id": object_id, "label": label}]
    ProvisioningRun.objects.filter(pk=run.pk).update(created=run.created)


def _note(run: ProvisioningRun, note: str) -> None:
    run.credential_note = note[:300]
    ProvisioningRun.objects.filter(pk=run.pk).update(credential_note=run.credential_note)


def _application_of(run: ProvisioningRun) -> str:
    return next((item["id"] for item in run.created if item["kind"] == "application"), "")


def _undo(run: ProvisioningRun, token: str, step: str, exc: MicrosoftError, actor: Actor) -> None:
    """Remove what this run made; deleting the application takes its service
    principal, grants and secret with it."""
    left = Status.FAILED
    application = _application_of(run)
    if application:
        try:
            _call(lambda: microsoft.delete_application(token, application))
        except MicrosoftError as undo_error:
            logger.warning("Registration %s: removing the app failed (%s)", run.pk, undo_error.code)
            left = Status.LEFT_OVER
    run.status, run.failed_step = left, step
    run.error_code, run.finished_at = exc.code[:128], timezone.now()
    run.save(update_fields=["status", "failed_step", "error_code", "finished_at"])
    audit_record(
        action="provisioning.failed",
        actor=actor,
        tenant=run.tenant,
        obj=run,
        step=step,
        code=exc.code,
        left_over=left == Status.LEFT_OVER,
    )


def _remove_left_overs(tenant: Tenant, run: ProvisioningRun, token: str, actor: Actor) -> None:
    """Earlier attempts' apps in this directory (listed on the plan page), removed."""
    stale = timezone.now() - RUNNING_FOR
    earlier = (
        ProvisioningRun.objects.filter(tenant=tenant, directory_id=run.directory_id)
        .filter(status__in=(Status.LEFT_OVER, Status.RUNNING))
        .exclude(pk=run.pk)
    )
    for old in earlier:
        if old.status == Status.RUNNING and old.started_at > stale:
            continue
        application = _application_of(old)
        if application:
            _step(
                "left_overs",
                lambda application=application: microsoft.delete_application(  # type: ignore[misc]
                    token, application
                ),
            )
        old.status, old.finished_at = Status.CLEANED, timezone.now()
        old.save(update_fields=["status", "finished_at"])
        audit_record(action="provisioning.cleaned", actor=actor, tenant=tenant, obj=old)


def left_overs(tenant: Tenant) -> list[ProvisioningRun]:
    """Attempts whose items are still in a directory (the plan page lists them)."""
    stale = timezone.now() - RUNNING_FOR
    runs = ProvisioningRun.objects.filter(
        tenant=tenant, status__in=(Status.LEFT_OVER, Status.RUNNING)
    )
    return [run for run in runs if run.status == Status.LEFT_OVER or run.started_at <= stale]


def _name_taken(display_name: str, token: str) -> bool:
    """An app of this name that no attempt of the portal made (and none is left over:
    those were removed just before)."""
    found = _step("name", lambda: microsoft.find_applications(token, display_name=display_name))
    return bool(found)


# --- Microsoft's answers ---------------------------------------------------------------


def _step(name: str, call: Callable[[], T]) -> T:
    try:
        return _call(call)
    except MicrosoftError as exc:
        raise _Failed(name, exc) from None


def _call(call: Callable[[], T]) -> T:
    """The call, with Microsoft's transient answers waited out TRIES times in all."""
    for attempt in range(1, TRIES + 1):
        try:
            return call()
        except MicrosoftError as exc:
            if not exc.transient or attempt == TRIES:
                raise
            _sleep(min(exc.retry_after or float(attempt), MAX_WAIT))
    raise AssertionError("unreachable")


def _new_run(
    tenant: Tenant,
    plan: Plan,
    directory_id: str,
    signed_in_as: str,
    actor: Actor,
    **fields: Any,
) -> ProvisioningRun:
    return ProvisioningRun.objects.create(
        tenant=tenant,
        started_by=actor.user,
        directory_id=directory_id,
        signed_in_as=signed_in_as[:254],
        display_name=plan.display_name,
        credential_kind=plan.credential_kind,
        **fields,
    )


def _failed_before(
    tenant: Tenant,
    plan: Plan,
    directory_id: str,
    signed_in_as: str,
    actor: Actor,
    exc: MicrosoftError,
) -> ProvisioningRun:
    """Microsoft failed before anything was made: a run that says so."""
    run = _new_run(
        tenant,
        plan,
        directory_id,
        signed_in_as,
        actor,
        status=Status.FAILED,
        failed_step="roles",
        error_code=exc.code[:128],
        finished_at=timezone.now(),
    )
    audit_record(
        action="provisioning.failed",
        actor=actor,
        tenant=tenant,
        obj=run,
        step="roles",
        code=exc.code,
    )
    return run
