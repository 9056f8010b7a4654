"""Mailbox and tenant health: the ONE module that writes them, and the one place that
decides what a finished check means.

- A normal check moves its mailbox's health, and so its tenant's; a change into or out
  of failing is announced (audit, e-mail); a first pass moves the setup on, and a
  first secret it proved becomes the active one.
- A renewal's check promotes its new secret (the old one is retired) or rejects it. A
  secret is judged by the steps that use it (`secret_proved`): the password sign-in
  uses the mailbox's password, so its failure never rejects a secret that worked.
- A stored secret that no longer decrypts (a client secret, a mailbox password) fails
  its step; support is told once per stored value (`vault.undecryptable`), until it is
  re-entered.
- An answer changed in the wizard makes earlier results meaningless
  (`verification_reset`); a mailbox removed changes the tenant's worst
  (`tenant_recompute`); the reminder scan finds a secret in use expired
  (`tenants_expired`).

A tenant is as healthy as its least healthy mailbox, and "Secret expired" while the
secret it uses has expired in its own time zone.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from accounts.actors import Actor
from onboarding import changes, emails
from onboarding.audit import audit_record
from onboarding.checks.results import STEP_LABELS, first_failure, step_diagnosis
from onboarding.client_secrets import (
    secret_activate,
    secret_reject,
    secrets_in_use,
    secrets_retire_live,
)
from onboarding.delegated.links import owner_url
from onboarding.diagnosis import CATALOGUE, fix_path
from onboarding.diagnosis.sign_in import RECONNECT
from onboarding.models import AuditEvent, CheckRun, ClientSecret, Mailbox, Tenant
from onboarding.progress import consent_confirm, record_progress
from webhooks import events as webhook_events

Health = Tenant.Health
_ALARMING = (Health.FAILING, Health.EXPIRED)
# Worst first. An unverified mailbox keeps its tenant from counting as healthy.
_SEVERITY = [Health.EXPIRED, Health.FAILING, Health.DEGRADED, Health.UNKNOWN, Health.HEALTHY]


# --- a finished check ---------------------------------------------------------------


# The steps that use the client secret. The password sign-in uses the mailbox's password
# (and the app's public client settings), so it never proves nor condemns a secret.
SECRET_STEPS = ("token", "read_inbox", "send_test")
UNREADABLE_ACTION = "vault.undecryptable"


def check_finished(
    run: CheckRun,
    *,
    first_secret: ClientSecret | None = None,
    unreadable: Sequence[ClientSecret | Mailbox] = (),
) -> None:
    """Record what a check that just finished means. `first_secret`: the wizard's first
    secret, still pending, that the check used; `unreadable`: stored secrets the check
    could not decrypt (support is told once per stored value)."""
    seen = set()
    for stored in unreadable:
        if (type(stored), stored.pk) not in seen:
            seen.add((type(stored), stored.pk))
            _alert_unreadable(run, stored)
    consent_confirm(run)  # Graph read and sent with the app's token: consent is real
    if run.secret_id is not None:
        renewal_conclude(run.pk)
        return
    record_health(run)
    if first_secret is not None and secret_proved(run):
        _activate_first_secret(run, first_secret)


def secret_proved(run: CheckRun) -> bool:
    """Whether the run proved its client secret: every step that uses it passed,
    whatever became of the password sign-in."""
    outcomes = {step["name"]: step["outcome"] for step in run.steps}
    return all(outcomes.get(name) == "passed" for name in SECRET_STEPS)


def _alert_unreadable(run: CheckRun, stored: ClientSecret | Mailbox) -> None:
    """Tell support, once per stored value, that a secret no longer decrypts.

    The row is locked and the audit log read under the lock, so of two checks finishing
    at once (two mailboxes sharing a client secret) only one records and mails it. The
    value is named by a digest of its ciphertext (never of the plaintext, which cannot be
    read anyway): re-entering the secret stores a new ciphertext, so a new failure of the
    new value is announced again."""
    is_secret = isinstance(stored, ClientSecret)
    column = "value_ciphertext" if is_secret else "password_ciphertext"
    model = ClientSecret if is_secret else Mailbox
    key = "secret_unreadable" if is_secret else "password_unreadable"
    mailbox = run.mailbox
    with transaction.atomic():
        blob = (
            model.objects.select_for_update()
            .filter(pk=stored.pk)
            .values_list(column, flat=True)
            .first()
        )
        if blob is None:
            return  # removed meanwhile: nothing left to re-enter
        digest = hashlib.sha256(bytes(blob)).hexdigest()[:32]
        already = AuditEvent.objects.filter(
            action=UNREADABLE_ACTION,
            object_type=model._meta.label_lower,
            object_id=str(stored.pk),
            details__ciphertext_sha256=digest,
        )
        if already.exists():
            return
        audit_record(
            action=UNREADABLE_ACTION,
            tenant=mailbox.tenant,
            obj=stored,
            ciphertext_sha256=digest,
            diagnosis=key,
            check_run=str(run.pk),
            mailbox=mailbox.address,
        )
        found = CATALOGUE[key]
        path = fix_path(tenant_id=mailbox.tenant_id, diagnosis=found, mailbox_id=mailbox.pk)
        secret_id = str(stored.secret_id) if isinstance(stored, ClientSecret) else ""
        transaction.on_commit(
            lambda: emails.secret_unreadable(
                to=settings.SUPPORT_EMAIL,
                run=run,
                tenant=mailbox.tenant,
                mailbox=mailbox,
                secret_id=secret_id,
                diagnosis=found,
                link=f"{settings.PORTAL_BASE_URL}{path}" if path else "",
            )
        )


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
    unchanged = Mailbox.objects.filter(pk=mailbox.pk, health=new)
    # Most checks confirm the health read when the run was claimed: one UPDATE.
    if old != new or run.diagnosis_key != mailbox.diagnosis_code:
        changes.changed()  # the token call answers with the health and diagnosis
    if old != new or not unchanged.update(**fields):
        # A change, and its webhook event, commit together (the outbox): no event for a
        # change that rolled back, none lost for one that committed.
        with transaction.atomic():
            while not Mailbox.objects.filter(pk=mailbox.pk, health=old).update(
                health=new, **fields
            ):
                old = Mailbox.objects.values_list("health", flat=True).get(pk=mailbox.pk)
            if old != new:
                webhook_events.health_changed(
                    tenant_id=mailbox.tenant_id,
                    connection_id=mailbox.pk,
                    old=old,
                    new=new,
                    diagnosis_code=run.diagnosis_key,
                )
    mailbox.health = new
    if old != new:
        tenant_recompute(mailbox.tenant_id)
        _announce(run, mailbox, old, new)
        if new == Health.HEALTHY:
            # A first pass completes the wizard's verify step with no wizard page saved
            # afterwards: move the tenant's setup step on (start page, support lists).
            record_progress(mailbox.tenant)


def _health_after(run: CheckRun) -> str:
    if run.status == CheckRun.Status.PASSED:
        return Health.HEALTHY
    if run.diagnosis_key == "secret_expired":
        return Health.EXPIRED
    failed = {step["name"] for step in run.steps if step["outcome"] == "failed"}
    if failed and failed <= {"password_sign_in", "mailbox_sign_in"}:
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


def _announce(run: CheckRun, mailbox: Mailbox, old: str, new: str) -> None:
    audit_record(
        action="mailbox.health_changed",
        tenant=mailbox.tenant,
        obj=mailbox,
        old=old,
        new=new,
        check_run=str(run.pk),
        diagnosis=run.diagnosis_key,
    )
    if new in _ALARMING and old not in _ALARMING:
        transaction.on_commit(lambda: _alert_failing(run, mailbox))
    elif new == Health.HEALTHY and old in _ALARMING:
        to = mailbox.tenant.recipients()
        transaction.on_commit(lambda: emails.check_recovered(to=to, run=run, mailbox=mailbox))


def _alert_failing(run: CheckRun, mailbox: Mailbox) -> None:
    """The tenant's recipients and support hear of it, with the diagnosis and its fix."""
    tenant = mailbox.tenant
    failure = first_failure(run)
    found = step_diagnosis(failure) if failure else None
    path = fix_path(tenant_id=tenant.pk, diagnosis=found, mailbox_id=mailbox.pk)
    to, connect_link = tenant.recipients(settings.SUPPORT_EMAIL), ""
    if found is not None and found.key in RECONNECT:
        # Signing in again is the fix, and only the mailbox's owner can: they hear of it
        # too (step 5 says so before they connect), with a link that needs no account.
        to, connect_link = (
            tenant.recipients(settings.SUPPORT_EMAIL, mailbox.address),
            owner_url(mailbox),
        )
    emails.check_failing(
        to=to,
        connect_link=connect_link,
        run=run,
        mailbox=mailbox,
        tenant=tenant,
        step_label=STEP_LABELS.get(failure.get("name", ""), ""),
        diagnosis=found,
        link=f"{settings.PORTAL_BASE_URL}{path}" if path else "",
    )


def _activate_first_secret(run: CheckRun, secret: ClientSecret) -> None:
    """A passing check proves the wizard's first secret: it becomes the active one,
    unless the app has an active secret already."""
    if ClientSecret.objects.filter(
        app_id=secret.app_id, status=ClientSecret.Status.ACTIVE
    ).exists():
        return
    secret_activate(secret, check_run=str(run.pk))


# --- a renewal's check --------------------------------------------------------------


def renewal_conclude(check_run_id: str | uuid.UUID) -> str | None:
    """After a renewal's check: promote its new secret if the steps that use it passed
    (`secret_proved`), or reject it. Idempotent (the secret's transitions are
    conditional), so a redelivered task may call it again."""
    run = (
        CheckRun.objects.select_related("secret__app__tenant", "mailbox__tenant")
        .filter(pk=check_run_id)
        .first()
    )
    if run is None or run.secret is None or not run.is_finished:
        return None
    if secret_proved(run):  # a failed password sign-in says nothing of the secret
        return _promote(run, run.secret)
    return _reject(run, run.secret)


def _promote(run: CheckRun, secret: ClientSecret) -> str | None:
    actor = Actor(user=run.requested_by)
    with transaction.atomic():
        if not secret_activate(secret, actor=actor, check_run=str(run.pk)):
            return None
        retired = secrets_retire_live(
            secret.app, actor=actor, keep=secret, replaced_by=str(secret.pk)
        )
        tenant = secret.app.tenant
        audit_record(
            action="client_secret.renewed",
            actor=actor,
            tenant=tenant,
            obj=secret,
            secret_id=str(secret.secret_id),
            retired_secret_ids=[str(s.secret_id) for s in retired],
        )
        record_health(run)
        webhook_events.credential_renewed(
            tenant_id=tenant.pk,
            connection_ids=list(tenant.mailboxes.values_list("pk", flat=True)),
            secret_id=secret.secret_id,
            expires_on=secret.expires_on,
            retired_secret_ids=[s.secret_id for s in retired],
        )
        to = tenant.recipients()
        # The portal rolling its own certificate over leaves the admins nothing to do.
        if to and run.trigger != CheckRun.Trigger.ROLLOVER:
            transaction.on_commit(
                lambda: emails.secret_renewed(to=to, tenant=tenant, secret=secret, retired=retired)
            )
    return "renewed"


def _reject(run: CheckRun, secret: ClientSecret) -> str | None:
    actor = Actor(user=run.requested_by)
    with transaction.atomic():
        if not secret_reject(secret, actor=actor, check_run=str(run.pk)):
            return None
        audit_record(
            action="client_secret.renewal_failed",
            actor=actor,
            tenant=secret.app.tenant,
            obj=secret,
            secret_id=str(secret.secret_id),
            diagnosis=run.diagnosis_key,
            error_code=run.error_code,
        )
    return "rejected"


# --- changes outside a check --------------------------------------------------------


def verification_reset(tenant: Tenant, mailbox_ids: Iterable[object] | None = None) -> None:
    """Forget check results that a changed answer made meaningless (all the tenant's
    mailboxes, or those named), and recompute the tenant's health."""
    mailboxes = Mailbox.objects.filter(tenant=tenant)
    if mailbox_ids is not None:
        mailboxes = mailboxes.filter(pk__in=list(mailbox_ids))
    if mailboxes.filter(~Q(health=Health.UNKNOWN) | ~Q(diagnosis_code="")).update(
        health=Health.UNKNOWN, diagnosis_code=""
    ):
        changes.changed()
    tenant_recompute(tenant.pk)


def tenant_recompute(tenant_id: uuid.UUID) -> str:
    """Set the tenant's health from its mailboxes and its secret in use; returns it."""
    tenant = Tenant.objects.get(pk=tenant_id)
    states = set(Mailbox.objects.filter(tenant_id=tenant_id).values_list("health", flat=True))
    if _secret_expired(tenant):
        states.add(Health.EXPIRED)
    worst = next((state for state in _SEVERITY if state in states), Health.UNKNOWN)
    Tenant.objects.filter(pk=tenant_id).exclude(health=worst).update(health=worst)
    return worst


def _secret_expired(tenant: Tenant) -> bool:
    in_use = secrets_in_use().filter(app__tenant=tenant)
    return in_use.filter(expires_on__lt=tenant.local_today()).exists()


def tenants_expired(tenant_ids: Iterable[uuid.UUID]) -> int:
    """The reminder scan found these tenants' secret in use past its expiry: their mail
    has stopped. Returns how many tenants this call moved to "Secret expired"."""
    with transaction.atomic():
        # Locked in one order (no deadlock), and re-checked after any wait for a lock,
        # so that of two scans only one records each change.
        tenants = list(
            Tenant.objects.select_for_update()
            .filter(pk__in=list(tenant_ids))
            .exclude(health=Health.EXPIRED)
            .order_by("pk")
        )
        if tenants:
            Tenant.objects.filter(pk__in=[t.pk for t in tenants]).update(health=Health.EXPIRED)
        for tenant in tenants:
            audit_record(action="tenant.expired", tenant=tenant, obj=tenant, previous=tenant.health)
    return len(tenants)
