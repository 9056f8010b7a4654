"""Saving the wizard's steps. Each save is audited with the actor who made it.

A save that changes an answer the checks depend on forgets the results it made
meaningless and returns the checks to run again (onboarding.checks.claim
.checks_after_change); the view enqueues them. Where a tenant stands is read from
the data (onboarding.progress), never stored as a flag of its own.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Generic, TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.actors import Actor
from onboarding import certificates, vault
from onboarding.audit import audit_record
from onboarding.checks import health
from onboarding.checks.claim import Requested, checks_after_change
from onboarding.client_secrets import (
    LIVE_STATUSES,
    certificate_store,
    secret_store,
    secrets_retire_live,
)
from onboarding.models import (
    AppRegistration,
    CertificateDraft,
    CertificateRollover,
    ClientSecret,
    Mailbox,
    MailboxSignIn,
    Tenant,
)
from onboarding.progress import record_progress
from webhooks import events as webhook_events

T = TypeVar("T")


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What a save stored, and the checks it asks the caller to enqueue."""

    obj: T
    checks: list[Requested] = field(default_factory=list)


# Entra's limit for the guide's account type (work and personal accounts): "Display name
# ... Maximum length of 90 characters" (entra-docs supported-accounts-validation.md;
# tests/recordings/supported_accounts_display_name.json).
APP_NAME_MAX = 90


def suggested_app_name(tenant: Tenant) -> str:
    """Unique per tenant, so that two registrations in one directory are told apart, and
    at most APP_NAME_MAX characters: a long tenant name is shortened, never the suffix."""
    suffix = f" mailbox connection ({tenant.pk.hex[:8]})"
    name = " ".join(tenant.name.split())
    room = APP_NAME_MAX - len(suffix)
    if len(name) > room:
        name = name[: room - 1].rstrip() + "…"
    return f"{name}{suffix}"


@dataclass(frozen=True)
class AppChange:
    """What saving another client ID or directory on step 1 would disconnect."""

    disconnects: list[str]
    # Names this exact change (old and new IDs): a confirmation counts for it only.
    token: str = ""


def app_change(tenant: Tenant, *, client_id: str, directory_id: str) -> AppChange:
    """Empty for a first save, the same IDs again, or a tenant with nothing to lose."""
    app = AppRegistration.objects.filter(tenant=tenant).first()
    if app is None:
        return AppChange([])
    app_changed = str(app.client_id) != client_id
    if not app_changed and str(app.directory_id) == directory_id:
        return AppChange([])
    disconnects = []
    if app.consent_granted_at is not None:
        when = date_format(timezone.localtime(app.consent_granted_at), "j F Y")
        disconnects.append(
            f"The admin consent granted on {when}: the new app needs its own (step 3)."
        )
    working = (Tenant.Health.HEALTHY, Tenant.Health.DEGRADED)
    verified = tenant.mailboxes.filter(health__in=working).order_by("address")
    if verified:
        addresses = ", ".join(mailbox.address for mailbox in verified)
        disconnects.append(
            f"The verification of {addresses}: mail stops until a check passes again (step 6)."
        )
    secret = app.secrets.filter(status__in=LIVE_STATUSES).first() if app_changed else None
    if secret is not None:
        disconnects.append(
            f"The client secret {secret.hint}… of the old app: it works only for that app, "
            "so the new app needs a secret of its own (step 4)."
        )
    if not disconnects:
        return AppChange([])
    ids = f"{app.client_id}/{app.directory_id}>{client_id}/{directory_id}"
    return AppChange(disconnects, hashlib.sha256(ids.encode()).hexdigest()[:32])


@transaction.atomic
def save_registration(
    tenant: Tenant, *, client_id: str, directory: str, directory_id: str, actor: Actor
) -> Saved[AppRegistration]:
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
        app.object_id = None  # the old app's: a proof naming it would be refused
    if app_changed or directory_changed:
        app.consent_granted_at, app.consent_granted_by = None, None
        app.consent_confirmed_at = None
    app.save()
    retired: list[ClientSecret] = []
    if app_changed and not app._state.adding:
        # The old app's secret cannot sign in as the new app; before the checks reset,
        # so that the tenant's health is recomputed without it.
        retired = secrets_retire_live(app, actor=actor, replaced_in="app_change")
    checks = []
    if app_changed or directory_changed:
        checks = checks_after_change(tenant, requested_by=actor.user)
    audit_record(
        action="app_registration.saved",
        actor=actor,
        tenant=tenant,
        obj=app,
        client_id=client_id,
        directory=directory,
        directory_id=directory_id,
        consent_cleared=consent_cleared,
        secrets_retired=len(retired),
    )
    return Saved(app, checks)


def confirm_authentication(app: AppRegistration, *, actor: Actor) -> None:
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
    )


@transaction.atomic
def save_secret(
    app: AppRegistration,
    *,
    value: str,
    secret_id: str,
    expires_on: date,
    actor: Actor,
    confirmed_warnings: Iterable[str] = (),
) -> Saved[ClientSecret]:
    """Step 4. One live secret per app for now: a new one retires the one before."""
    retired = secrets_retire_live(app, actor=actor, replaced_in="wizard")
    secret = secret_store(
        app, value=value, secret_id=secret_id, expires_on=expires_on, by=actor.user
    )
    checks = checks_after_change(app.tenant, requested_by=actor.user)
    audit_record(
        action="client_secret.saved",
        actor=actor,
        tenant=app.tenant,
        obj=secret,
        secret_id=secret_id,
        expires_on=expires_on.isoformat(),
        retired_before=len(retired),
        confirmed_warnings=sorted(confirmed_warnings),
    )
    return Saved(secret, checks)


@transaction.atomic
def save_mailbox(
    mailbox: Mailbox,
    *,
    address: str,
    password: str | None,
    forget: bool,
    actor: Actor,
    upn: str | None = None,
) -> Saved[Mailbox]:
    """Step 5. With no password typed, a stored one is kept unless forget=True; upn=None
    keeps the stored sign-in name, "" clears it (then the address is the sign-in name)."""
    adding = mailbox._state.adding
    upn_before = mailbox.upn
    if upn is not None:
        mailbox.upn = upn
    if mailbox.upn == address:
        mailbox.upn = ""  # the same name twice: the address is the sign-in name
    upn_changed = mailbox.upn != upn_before
    changed = adding or mailbox.address != address or upn_changed
    renamed = not adding and (mailbox.address != address or upn_changed)
    mailbox.address = address
    if renamed:
        # The owner's sign-in was of the account under the old name: another account now.
        MailboxSignIn.objects.filter(mailbox=mailbox).delete()
    if password is not None or forget:
        mailbox.set_password(password)
        changed = True
    mailbox.save()
    if not changed:
        return Saved(mailbox)
    checks = checks_after_change(mailbox.tenant, requested_by=actor.user, mailbox_ids=[mailbox.pk])
    audit_record(
        action="mailbox.added" if adding else "mailbox.changed",
        actor=actor,
        tenant=mailbox.tenant,
        obj=mailbox,
        address=address,
        upn=mailbox.upn,
        upn_changed=upn_changed,
        legacy_sign_in_changed=password is not None or forget,
        legacy_sign_in_stored=mailbox.has_password,
    )
    return Saved(mailbox, checks)


def create_certificate(app: AppRegistration, *, actor: Actor) -> CertificateDraft:
    """Step 4, certificate: a new key pair and certificate for the admin to upload in
    Entra. Only the newest draft is kept: making another replaces it."""
    with transaction.atomic():
        app.certificate_drafts.all().delete()
        return _new_draft(app.tenant, app, actor=actor, via="step 4")


def _new_draft(
    tenant: Tenant, app: AppRegistration | None, *, actor: Actor, via: str
) -> CertificateDraft:
    """A new key pair sealed in a draft (the caller holds the transaction), audited."""
    made = certificates.make(tenant_name=tenant.name)
    draft = CertificateDraft(
        tenant=tenant,
        app=app,
        certificate_pem=made.certificate_pem,
        thumbprint=made.thumbprint,
        expires_on=made.not_after.date(),
        created_by=actor.user,
    )
    vault.seal(draft, "private_key", made.private_key_pem)
    draft.save()
    audit_record(
        action="certificate.created",
        actor=actor,
        tenant=tenant,
        obj=draft,
        thumbprint=made.thumbprint,
        expires_on=draft.expires_on.isoformat(),
        via=via,
    )
    return draft


def save_certificate(
    draft: CertificateDraft, *, certificate_id: str, actor: Actor
) -> Saved[ClientSecret]:
    """Step 4, certificate, during the setup: the admin uploaded the draft in Entra. It
    becomes the app's credential (retiring a first secret not yet proved, as a new
    secret does) and is checked. A tenant whose credential works moves to a certificate
    through the renewal instead (renewal.workflow.certificate_renewal_start): the
    working one stays until the certificate is proved."""
    app = draft.app
    assert app is not None  # a step 4 draft, or the script's once step 1 named the app
    with transaction.atomic():
        retired = secrets_retire_live(app, actor=actor, replaced_in="wizard")
        credential = certificate_store(draft, certificate_id=certificate_id, by=actor.user)
        checks = checks_after_change(app.tenant, requested_by=actor.user)
        audit_record(
            action="certificate.saved",
            actor=actor,
            tenant=app.tenant,
            obj=credential,
            certificate_id=certificate_id,
            thumbprint=credential.thumbprint,
            expires_on=credential.expires_on.isoformat(),
            retired_before=len(retired),
        )
    return Saved(credential, checks)


def save_object_id(app: AppRegistration, object_id: str, *, actor: Actor) -> bool:
    """Step 4, certificate: the app's Object ID, which lets the portal renew the
    certificate by itself (the proof of Graph's addKey names it). Audited when it
    changes; "" leaves a known one as it is. True if it changed."""
    if not object_id or str(app.object_id or "") == object_id:
        return False
    AppRegistration.objects.filter(pk=app.pk).update(object_id=object_id)
    app.object_id = uuid.UUID(object_id)
    # A renewal that stopped (most often on a wrong Object ID) gets a new try: without
    # its claim row, the next rollover scan claims the certificate again.
    failed = CertificateRollover.objects.filter(app=app, stage=CertificateRollover.Stage.FAILED)
    given_up = failed.count()
    failed.delete()
    audit_record(
        action="app_registration.object_id_saved",
        actor=actor,
        tenant=app.tenant,
        obj=app,
        object_id=object_id,
        failed_rollovers_retried=given_up,
    )
    return True


@transaction.atomic
def remove_mailbox(mailbox: Mailbox, *, actor: Actor) -> None:
    """Step 5: the mailbox is no longer used; the tenant is as healthy as those left."""
    tenant = mailbox.tenant
    with transaction.atomic():
        audit_record(
            action="mailbox.removed",
            actor=actor,
            tenant=tenant,
            obj=mailbox,
            address=mailbox.address,
        )
        # Its id answers 404 from the API from now on; the operations app hears so.
        webhook_events.connection_removed(
            tenant_id=tenant.pk, connection_id=mailbox.pk, address=mailbox.address
        )
        mailbox.delete()
    health.tenant_recompute(tenant.pk)


class ModeLocked(Exception):
    """The tenant's app is registered or consented already: support changes the mode."""


def choose_mode(tenant: Tenant, mode: str, *, actor: Actor) -> None:
    """The start page's choice. It may change until the tenant has an app registration:
    after that its checks, consent and credentials belong to the mode that made it."""
    if AppRegistration.objects.filter(tenant=tenant).exists() and mode != tenant.setup_mode:
        raise ModeLocked
    if Tenant.objects.filter(pk=tenant.pk).exclude(setup_mode=mode).update(setup_mode=mode):
        previous, tenant.setup_mode = tenant.setup_mode, mode
        audit_record(
            action="setup_mode.chosen", actor=actor, tenant=tenant, mode=mode, previous=previous
        )
        record_progress(tenant)  # the vendor's app needs no steps 1, 2 and 4


# --- the PowerShell script (step 1) --------------------------------------------------

# A script's certificate is made again once it has less than this left: an admin who
# runs an old download still gets a certificate the rollover has time to renew.
SCRIPT_CERTIFICATE_MIN_DAYS = 300


def script_certificate(tenant: Tenant, *, actor: Actor) -> CertificateDraft:
    """The certificate the PowerShell script uploads to the app it registers: the
    tenant's one app-less draft, made when there is none fresh enough. Its private key
    stays in the vault; the script holds the public certificate only."""
    today = tenant.local_today()
    drafts = CertificateDraft.objects.filter(tenant=tenant, app__isnull=True)
    fresh = drafts.filter(expires_on__gt=today + timedelta(days=SCRIPT_CERTIFICATE_MIN_DAYS))
    found = fresh.order_by("-created_at").first()
    if found is not None:
        return found
    with transaction.atomic():
        drafts.delete()
        return _new_draft(tenant, None, actor=actor, via="PowerShell script")


def script_registered(
    app: AppRegistration, *, certificate_id: str, actor: Actor
) -> Saved[ClientSecret] | None:
    """Step 1 with the output of the portal's script pasted: the script also did steps
    2 to 4 (redirect URIs, the app role assignments that are admin consent, the
    certificate upload). Consent is recorded as claimed, as a consent callback's is: the
    first passing check confirms it. None when the tenant has no script certificate
    (an output of another portal's script, or one already used)."""
    draft = (
        CertificateDraft.objects.filter(tenant=app.tenant, app__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if draft is None:
        return None
    with transaction.atomic():
        draft.app = app
        draft.save(update_fields=["app"])
        if app.authentication_confirmed_at is None:
            confirm_authentication(app, actor=actor)
        if app.consent_granted_at is None:
            app.consent_granted_at, app.consent_granted_by = timezone.now(), actor.user
            app.save(update_fields=["consent_granted_at", "consent_granted_by", "updated_at"])
            audit_record(
                action="consent.granted",
                actor=actor,
                tenant=app.tenant,
                obj=app,
                directory_id=str(app.directory_id),
                via="PowerShell script",
            )
        return save_certificate(draft, certificate_id=certificate_id, actor=actor)
