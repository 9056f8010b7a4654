"""The onboarding wizard: its steps, where a tenant stands, and saving each step.

Progress is never stored as a flag of its own: it is read from the data each step
produces (the app registration, the consent, the secret, the mailboxes, their
health). Changing an earlier answer therefore only has to clear the facts that
depended on it, and the step list follows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from onboarding.audit import audit_record
from onboarding.models import AppRegistration, CheckRun, ClientSecret, Mailbox, Tenant


@dataclass(frozen=True)
class Step:
    number: int
    url_name: str
    title: str


STEPS = (
    Step(1, "register", "Register the application"),
    Step(2, "authentication", "Authentication settings"),
    Step(3, "permissions", "API permissions and admin consent"),
    Step(4, "secret", "Client secret"),
    Step(5, "mailbox", "Mailbox"),
    Step(6, "verify", "Verify"),
    Step(7, "done", "Done"),
)
STEP_BY_NUMBER = {step.number: step for step in STEPS}

# What must be done before a step opens. Consent (3) is not needed to go on to the
# secret and the mailbox: an admin without the right role forwards the consent
# link to a colleague and carries on meanwhile.
PREREQUISITES: dict[int, tuple[int, ...]] = {
    1: (),
    2: (1,),
    3: (1, 2),
    4: (1, 2),
    5: (1, 2, 4),
    6: (1, 2, 3, 4, 5),
    7: (1, 2, 3, 4, 5, 6),
}
LIVE_SECRET_STATUSES = (ClientSecret.Status.PENDING, ClientSecret.Status.ACTIVE)


@dataclass(frozen=True)
class StepItem:
    step: Step
    state: str  # "done", "todo" or "locked"
    is_current: bool


@dataclass(frozen=True)
class Progress:
    done: frozenset[int]

    def is_done(self, number: int) -> bool:
        return number in self.done

    def is_reachable(self, number: int) -> bool:
        return all(required in self.done for required in PREREQUISITES[number])

    @property
    def resume_step(self) -> Step:
        """Where an admin who comes back continues: the first open step not done."""
        for step in STEPS:
            if self.is_reachable(step.number) and not self.is_done(step.number):
                return step
        return STEPS[-1]

    def items(self, current: int) -> list[StepItem]:
        return [StepItem(step, self._state(step.number), step.number == current) for step in STEPS]

    def _state(self, number: int) -> str:
        if self.is_done(number):
            return "done"
        return "todo" if self.is_reachable(number) else "locked"


def progress_for(tenant: Tenant) -> Progress:
    app = AppRegistration.objects.filter(tenant=tenant).first()
    done: set[int] = set()
    if app is not None:
        done |= _app_steps(app)
    mailboxes = list(tenant.mailboxes.values_list("health", flat=True))
    if mailboxes:
        done.add(5)
    if done >= {1, 2, 3, 4, 5} and all(h == Tenant.Health.HEALTHY for h in mailboxes):
        done |= {6, 7}
    return Progress(frozenset(done))


def _app_steps(app: AppRegistration) -> set[int]:
    done = set()
    if app.directory_id is not None:
        done.add(1)
    if app.authentication_confirmed_at is not None:
        done.add(2)
    if app.consent_granted_at is not None:
        done.add(3)
    if app.secrets.filter(status__in=LIVE_SECRET_STATUSES).exists():
        done.add(4)
    return done


def record_progress(tenant: Tenant) -> Progress:
    """Keep Tenant.onboarding_step (read by the support lists) in line with the data."""
    progress = progress_for(tenant)
    Tenant.objects.filter(pk=tenant.pk).update(onboarding_step=progress.resume_step.number)
    tenant.onboarding_step = progress.resume_step.number
    return progress


def record_progress_after_check(check_run_id: str | uuid.UUID) -> None:
    """A passing check completes the verify step, in the worker, with no wizard page
    saved afterwards: move Tenant.onboarding_step on (start page, support lists). One
    query for a tenant already set up, which is nearly every scheduled check."""
    tenant = Tenant.objects.filter(
        onboarding_step__lt=STEPS[-1].number,
        mailboxes__check_runs__pk=check_run_id,
        mailboxes__check_runs__status=CheckRun.Status.PASSED,
    ).first()
    if tenant is not None:
        record_progress(tenant)


def suggested_app_name(tenant: Tenant) -> str:
    """Unique per tenant, so that two registrations in one directory are told apart."""
    return f"{tenant.name} mailbox connection ({tenant.pk.hex[:8]})"


# --- Saving the steps ----------------------------------------------------------------


@transaction.atomic
def save_registration(
    tenant: Tenant,
    *,
    client_id: str,
    directory: str,
    directory_id: str,
    actor: User,
    request: HttpRequest | None = None,
) -> AppRegistration:
    """Step 1. A different app or directory voids what was confirmed for the old one."""
    app = AppRegistration.objects.select_for_update().filter(tenant=tenant).first()
    if app is None:
        app = AppRegistration(tenant=tenant)
    app_changed = app._state.adding or str(app.client_id) != client_id
    directory_changed = app._state.adding or str(app.directory_id) != directory_id
    consent_cleared = app.consent_granted_at is not None and (app_changed or directory_changed)
    app.client_id, app.directory, app.directory_id = client_id, directory, directory_id
    if app_changed:
        app.authentication_confirmed_at = None
    if app_changed or directory_changed:
        app.consent_granted_at, app.consent_granted_by = None, None
        clear_verification(tenant)
    app.save()
    audit_record(
        action="app_registration.saved",
        actor=actor,
        tenant=tenant,
        obj=app,
        request=request,
        client_id=client_id,
        directory=directory,
        directory_id=directory_id,
        consent_cleared=consent_cleared,
    )
    return app


def confirm_authentication(
    app: AppRegistration, *, actor: User, request: HttpRequest | None = None
) -> None:
    """Step 2: the admin saved the Authentication settings in Entra."""
    if app.authentication_confirmed_at is not None:
        return
    app.authentication_confirmed_at = timezone.now()
    app.save(update_fields=["authentication_confirmed_at", "updated_at"])
    audit_record(
        action="app_registration.authentication_confirmed",
        actor=actor,
        tenant=app.tenant,
        obj=app,
        request=request,
    )


@transaction.atomic
def record_consent(
    app: AppRegistration, *, by: User | None, forwarded: bool, request: HttpRequest | None = None
) -> None:
    """Step 3: Microsoft returned a granted admin consent for this app and directory."""
    app.consent_granted_at, app.consent_granted_by = timezone.now(), by
    app.save(update_fields=["consent_granted_at", "consent_granted_by", "updated_at"])
    clear_verification(app.tenant)
    audit_record(
        action="consent.granted",
        actor=by,
        tenant=app.tenant,
        obj=app,
        request=request,
        directory_id=str(app.directory_id),
        via="forwarded link" if forwarded else "wizard",
    )


def record_consent_failure(
    app: AppRegistration,
    *,
    code: str,
    by: User | None,
    forwarded: bool,
    request: HttpRequest | None = None,
) -> None:
    """Step 3 did not work out: Microsoft reported an error (declined, not an admin...)."""
    audit_record(
        action="consent.failed",
        actor=by,
        tenant=app.tenant,
        obj=app,
        request=request,
        code=code,
        via="forwarded link" if forwarded else "wizard",
    )


@transaction.atomic
def save_secret(
    app: AppRegistration,
    *,
    value: str,
    secret_id: str,
    expires_on: date,
    by: User,
    confirmed_warnings: Iterable[str] = (),
    request: HttpRequest | None = None,
) -> ClientSecret:
    """Step 4. One live secret per app for now: a new one retires the one before."""
    now = timezone.now()
    retired = app.secrets.filter(status__in=LIVE_SECRET_STATUSES).update(
        status=ClientSecret.Status.RETIRED, retired_at=now
    )
    secret = store_secret(app, value=value, secret_id=secret_id, expires_on=expires_on, by=by)
    clear_verification(app.tenant)
    audit_record(
        action="client_secret.saved",
        actor=by,
        tenant=app.tenant,
        obj=secret,
        request=request,
        secret_id=secret_id,
        expires_on=expires_on.isoformat(),
        retired_before=retired,
        confirmed_warnings=sorted(confirmed_warnings),
    )
    return secret


def store_secret(
    app: AppRegistration,
    *,
    value: str,
    secret_id: str,
    expires_on: date,
    by: User,
    status: str = ClientSecret.Status.PENDING,
) -> ClientSecret:
    """A new client secret of the app, its value encrypted by the vault on the way in."""
    secret = ClientSecret(
        app=app, secret_id=secret_id, expires_on=expires_on, created_by=by, status=status
    )
    secret.set_value(value)
    secret.save()
    return secret


@transaction.atomic
def save_mailbox(
    mailbox: Mailbox,
    *,
    address: str,
    password: str | None,
    forget: bool,
    actor: User,
    request: HttpRequest | None = None,
) -> None:
    """Step 5. With no password typed, a stored one is kept unless forget=True."""
    adding = mailbox._state.adding
    changed = adding or mailbox.address != address
    mailbox.address = address
    if password is not None or forget:
        mailbox.set_password(password)
        changed = True
    mailbox.save()
    if not changed:
        return
    clear_verification(mailbox.tenant, [mailbox.pk])
    audit_record(
        action="mailbox.added" if adding else "mailbox.changed",
        actor=actor,
        tenant=mailbox.tenant,
        obj=mailbox,
        request=request,
        address=address,
        legacy_sign_in_changed=password is not None or forget,
        legacy_sign_in_stored=mailbox.has_password,
    )


def remove_mailbox(mailbox: Mailbox, *, actor: User, request: HttpRequest | None = None) -> None:
    audit_record(
        action="mailbox.removed",
        actor=actor,
        tenant=mailbox.tenant,
        obj=mailbox,
        request=request,
        address=mailbox.address,
    )
    mailbox.delete()


def clear_verification(tenant: Tenant, mailbox_ids: Iterable[object] | None = None) -> None:
    """Forget check results that an answer just changed made meaningless."""
    mailboxes = Mailbox.objects.filter(tenant=tenant)
    if mailbox_ids is not None:
        mailboxes = mailboxes.filter(pk__in=list(mailbox_ids))
    mailboxes.filter(~Q(health=Tenant.Health.UNKNOWN) | ~Q(diagnosis_code="")).update(
        health=Tenant.Health.UNKNOWN, diagnosis_code=""
    )
    Tenant.objects.filter(pk=tenant.pk).exclude(health=Tenant.Health.UNKNOWN).update(
        health=Tenant.Health.UNKNOWN
    )
