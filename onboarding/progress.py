"""Where a tenant stands in the wizard, and the one writer of Tenant.onboarding_step.

Progress is never stored as a flag of its own: it is read from the data each step
produces (the app registration, the consent, the secret, the mailboxes, their
health). Changing an earlier answer therefore only has to clear the facts that
depended on it, and the step list follows. Tenant.onboarding_step keeps the result
for the lists that must not join (support), written only by `record_progress`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.client_secrets import LIVE_STATUSES
from onboarding.models import AppRegistration, CheckRun, MailboxScope, Tenant
from onboarding.steps import (
    AUTHENTICATION,
    DONE,
    MAILBOX,
    PERMISSIONS,
    PREREQUISITES,
    REGISTER,
    SECRET,
    STEPS,
    VERIFY,
    Step,
)


@dataclass(frozen=True)
class StepItem:
    step: Step
    state: str  # "done", "todo", "locked" or "skipped"
    is_current: bool


# The guide's steps a setup mode has no use for: with the vendor's app there is no app
# of the customer's to register, configure or give a secret (they count as done).
NOT_NEEDED: dict[str, frozenset[int]] = {
    Tenant.SetupMode.VENDOR: frozenset({REGISTER, AUTHENTICATION, SECRET}),
}


@dataclass(frozen=True)
class Progress:
    done: frozenset[int]
    skipped: frozenset[int] = frozenset()

    def is_skipped(self, number: int) -> bool:
        return number in self.skipped

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
        if self.is_skipped(number):
            return "skipped"
        if self.is_done(number):
            return "done"
        return "todo" if self.is_reachable(number) else "locked"


def progress_for(tenant: Tenant) -> Progress:
    app = AppRegistration.objects.filter(tenant=tenant).first()
    skipped = NOT_NEEDED.get(tenant.setup_mode, frozenset())
    done: set[int] = set(skipped)
    if app is not None:
        done |= _app_steps(app)
        if MailboxScope.objects.filter(tenant=tenant).exists():
            # Exchange Online grants the access (RBAC for Applications), not Entra's
            # consent: the checks' scope proof shows whether it does.
            done.add(PERMISSIONS)
    mailboxes = list(tenant.mailboxes.values_list("health", flat=True))
    if mailboxes:
        done.add(MAILBOX)
    setup = {REGISTER, AUTHENTICATION, PERMISSIONS, SECRET, MAILBOX}
    if done >= setup and all(h == Tenant.Health.HEALTHY for h in mailboxes):
        done |= {VERIFY, DONE}
    return Progress(frozenset(done), skipped)


def _app_steps(app: AppRegistration) -> set[int]:
    done = set()
    if app.directory_id is not None:
        done.add(REGISTER)
    if app.authentication_confirmed_at is not None:
        done.add(AUTHENTICATION)
    if app.consent_granted_at is not None:
        done.add(PERMISSIONS)
    if app.secrets.filter(status__in=LIVE_STATUSES).exists():
        done.add(SECRET)
    return done


def record_progress(tenant: Tenant) -> Progress:
    """Keep Tenant.onboarding_step (read by the support lists) in line with the data."""
    progress = progress_for(tenant)
    Tenant.objects.filter(pk=tenant.pk).update(onboarding_step=progress.resume_step.number)
    tenant.onboarding_step = progress.resume_step.number
    return progress


# The check's steps that call Graph with the app's token: each passing proves the
# application permissions Mail.Read and Mail.Send work, which only admin consent grants.
CONSENT_PROOF_STEPS = ("read_inbox", "send_test")


def consent_confirm(run: CheckRun) -> bool:
    """A check that read and sent mail with the app's own token: Microsoft has
    granted the permissions, so consent a callback only claimed is now confirmed.

    Called for every finished check (onboarding.checks.health). Only a check started
    after the claim counts, so a run of an app replaced meanwhile confirms nothing.
    Returns whether this call confirmed it."""
    outcomes = {step.get("name"): step.get("outcome") for step in run.steps or []}
    if not all(outcomes.get(name) == "passed" for name in CONSENT_PROOF_STEPS):
        return False
    # One conditional UPDATE (all a re-check of a confirmed app costs): of several
    # checks finishing at once, one records it.
    claimed = AppRegistration.objects.filter(
        tenant_id=run.mailbox.tenant_id,
        consent_granted_at__isnull=False,
        consent_confirmed_at__isnull=True,
    )
    if run.started_at is not None:
        claimed = claimed.filter(consent_granted_at__lte=run.started_at)
    if not claimed.update(consent_confirmed_at=run.finished_at or timezone.now()):
        return False
    app = AppRegistration.objects.select_related("tenant").get(tenant_id=run.mailbox.tenant_id)
    tenant = app.tenant
    audit_record(action="consent.confirmed", tenant=tenant, obj=app, check_run=str(run.pk))
    return True
