"""Every e-mail of onboarding: one function per e-mail, facts in.

Each function takes its recipients and the facts it shows, already loaded by the
workflow that sends it: none queries the database, builds a wizard link or imports a
workflow. Links are absolute, built on PORTAL_BASE_URL, never on the Host header of
whichever request triggered them. Templates: templates/emails/<name>_{subject,body}.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from accounts.models import User
from onboarding.diagnosis import Diagnosis
from onboarding.models import (
    AppRegistration,
    CheckRun,
    ClientSecret,
    Invitation,
    Mailbox,
    ReminderDispatch,
    Tenant,
)
from portal.mail import send_templated


def invitation(*, invitation: Invitation, tenant: Tenant, link: str) -> None:
    """The single-use link that lets a tenant admin set up their account."""
    send_templated(
        "invitation",
        to=invitation.email,
        context={"invitation": invitation, "tenant": tenant, "link": link},
    )


def invitation_accepted(*, invitation: Invitation, tenant: Tenant, notify: User) -> None:
    """Tells the person who sent an invitation that it was accepted."""
    send_templated(
        "invitation_accepted",
        to=notify.email,
        context={"invitation": invitation, "tenant": tenant, "notify": notify},
    )


def check_failing(
    *,
    to: Sequence[str],
    run: CheckRun,
    mailbox: Mailbox,
    tenant: Tenant,
    step_label: str,
    diagnosis: Diagnosis | None,
    link: str,
    connect_link: str = "",
) -> None:
    """Tells each recipient, in a message of their own, that a mailbox stopped working:
    what broke and the page that fixes it; `connect_link`, the owner's one-click
    "Connect again" when signing in again is the fix."""
    context = {
        "run": run,
        "mailbox": mailbox,
        "tenant": tenant,
        "step_label": step_label,
        "diagnosis": diagnosis,
        "link": link,
        "connect_link": connect_link,
    }
    for address in to:
        send_templated("check_failing", to=address, context=context)


def connect_request(
    *, mailbox: Mailbox, tenant: Tenant, asked_by: User | None, link: str, expires: str
) -> None:
    """To the mailbox's own address: a tenant admin asks its owner to connect it with
    their Microsoft sign-in, through the single-use link."""
    send_templated(
        "connect_request",
        to=mailbox.address,
        context={
            "mailbox": mailbox,
            "tenant": tenant,
            "asked_by": asked_by,
            "link": link,
            "expires": expires,
        },
    )


def sign_in_idle(
    *,
    to: Sequence[str],
    mailbox: Mailbox,
    last_used: datetime,
    ends: datetime,
    connect_link: str,
) -> None:
    """A mailbox owner's sign-in nears Microsoft's 90-day inactivity limit because the
    portal's checks could not use it: what ends when, and the link that starts afresh."""
    context = {
        "mailbox": mailbox,
        "last_used": last_used,
        "ends": ends,
        "connect_link": connect_link,
    }
    for address in to:
        send_templated("sign_in_idle", to=address, context=context)


def check_recovered(*, to: Sequence[str], run: CheckRun, mailbox: Mailbox) -> None:
    """The all-clear after a failing mailbox passes its check again."""
    for address in to:
        send_templated("check_recovered", to=address, context={"run": run, "mailbox": mailbox})


def secret_expiry_reminder(
    *,
    to: list[str],
    tenant: Tenant,
    app: AppRegistration,
    secret: ClientSecret,
    days_left: int,
    renew_url: str,
) -> None:
    """Tells a tenant's admins, in one message, that a client secret expires soon or has."""
    send_templated(
        "secret_expiry",
        to=to,
        context={
            "tenant": tenant,
            "app": app,
            "secret": secret,
            "days_left": days_left,
            "days_ago": -days_left,
            "expired": days_left < 0,
            "renew_url": renew_url,
            "what": "certificate" if secret.is_certificate else "client secret",
        },
    )


def reminder_digest(
    *,
    to: list[str],
    sent: Sequence[ReminderDispatch],
    failed: Sequence[ReminderDispatch],
    expiring: Sequence[ClientSecret],
    today: date,
) -> None:
    """Support's daily list of reminders sent, failed, and secrets about to expire."""
    digest = {"sent": sent, "failed": failed, "expiring": expiring}
    send_templated("reminder_digest", to=to, context={"digest": digest, "today": today})


def secret_renewed(
    *, to: list[str], tenant: Tenant, secret: ClientSecret, retired: Sequence[ClientSecret]
) -> None:
    """Tells the tenant's admins the new secret is in use and which Secret ID to delete."""
    send_templated(
        "secret_renewed",
        to=to,
        context={"tenant": tenant, "secret": secret, "retired": list(retired)},
    )


def rollover_failed(
    *,
    to: list[str],
    tenant: Tenant,
    credential: ClientSecret,
    stage_label: str,
    diagnosis: Diagnosis,
    link: str,
) -> None:
    """Tells support and the admins that the portal's own renewal of a certificate
    stopped: where, why, the fix; the certificate in use still works."""
    context = {
        "tenant": tenant,
        "credential": credential,
        "stage_label": stage_label,
        "diagnosis": diagnosis,
        "link": link,
    }
    for address in to:  # one message each: support's address and the admins' stay apart
        send_templated("rollover_failed", to=address, context=context)


def secret_unreadable(
    *,
    to: str,
    run: CheckRun,
    tenant: Tenant,
    mailbox: Mailbox,
    secret_id: str,
    diagnosis: Diagnosis,
    link: str,
) -> None:
    """Tells support that a stored secret no longer decrypts: a client secret (its
    Secret ID given) or, without one, the mailbox's password. Never the value."""
    context = {
        "run": run,
        "tenant": tenant,
        "mailbox": mailbox,
        "secret_id": secret_id,
        "diagnosis": diagnosis,
        "link": link,
    }
    send_templated("secret_unreadable", to=to, context=context)
