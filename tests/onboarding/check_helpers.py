"""Shared set-up for check tests: a tenant configured against an emulated directory,
and a stand-in for the broker that records re-enqueued attempts instead of running them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from microsoft_emulator.scenarios import Ready
from onboarding.checks.claim import check_request
from onboarding.models import AppRegistration, CheckRun, ClientSecret, Mailbox, Tenant
from onboarding.tasks import enqueue_requested, run_mailbox_check


def configure(
    tenant: Tenant,
    ready: Ready,
    *,
    directory: str | None = None,
    client_id: str | None = None,
    secret_value: str | None = None,
    address: str | None = None,
    password: str | None = None,
) -> Mailbox:
    """The portal's side, as the wizard would save it for `ready`'s directory."""
    app = AppRegistration.objects.create(
        tenant=tenant,
        client_id=client_id or ready.app.client_id,
        directory=directory or ready.directory.id,
    )
    secret = ClientSecret(
        app=app,
        secret_id=ready.secret.key_id,
        expires_on=date.today() + timedelta(days=180),
        status=ClientSecret.Status.ACTIVE,
    )
    secret.set_value(secret_value or ready.secret.value)
    secret.save()
    mailbox = Mailbox(tenant=tenant, address=address or ready.mailbox.upn)
    mailbox.set_password(password)
    mailbox.save()
    return mailbox


@dataclass
class Broker:
    """Records the delayed re-runs the task asks for; `deliver()` runs the next one."""

    queued: list[tuple[str, float]] = field(default_factory=list)

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        self.queued.append((args[0], float(options.get("countdown") or 0)))

    def deliver(self) -> float:
        run_id, countdown = self.queued.pop(0)
        run_mailbox_check.run(run_id)
        return countdown


def request_check(**kwargs: Any) -> CheckRun:
    """Request a check and enqueue it on commit, as a view does."""
    requested = check_request(**kwargs)
    enqueue_requested(requested)
    return requested.run


def run_check(mailbox: Mailbox, capture: Any, trigger: str = "wizard") -> CheckRun:
    """Request a check and run it through the task on commit (eager Celery)."""
    with capture(execute=True):
        run = request_check(mailbox=mailbox, trigger=trigger)
    run.refresh_from_db()
    return run


def steps(run: CheckRun) -> dict[str, tuple[str, str]]:
    """{step name: (outcome, diagnosis key)}."""
    return {step["name"]: (step["outcome"], step["diagnosis_key"]) for step in run.steps}


def through_the_wizard(tenant: Tenant, ready: Ready) -> None:
    """Mark steps 1-4 of the wizard done, as the admin would have, for `configure`d apps."""
    from django.utils import timezone

    AppRegistration.objects.filter(tenant=tenant).update(
        directory_id=ready.directory.id,
        authentication_confirmed_at=timezone.now(),
        consent_granted_at=timezone.now(),
    )


def certificate_in_use(tenant: Tenant, ready: Ready, emulator: Any, capture: Any, *, by: Any):
    """Step 4 with the portal's certificate, as the admin `by` does it: the certificate
    made, uploaded in the emulated Entra, saved with its Certificate ID and proved by
    the check that follows (run on commit). Returns (the credential, Entra's entry)."""
    from accounts.actors import Actor
    from onboarding.wizard import services

    draft = services.create_certificate(tenant.app_registration, actor=Actor(user=by))
    uploaded = emulator.add_certificate(ready.app, draft.certificate_pem)
    with capture(execute=True):
        saved = services.save_certificate(
            draft, certificate_id=uploaded.key_id, actor=Actor(user=by)
        )
        enqueue_requested(saved.checks)
    return ClientSecret.objects.get(pk=saved.obj.pk), uploaded
