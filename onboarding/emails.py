"""Every e-mail the portal sends: one function per e-mail.

Each e-mail has three templates under templates/emails/: `<name>_subject.txt`,
`<name>_body.txt` and `<name>_body.html`. Links are absolute, built on
PORTAL_BASE_URL, never on the Host header of whichever request triggered them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from onboarding.diagnosis import Diagnosis
from onboarding.models import CheckRun, ClientSecret, Invitation, Tenant

if TYPE_CHECKING:
    from onboarding.reminders import Digest


def _send(name: str, *, to: str | list[str], context: dict[str, Any]) -> None:
    context = {"support_email": settings.SUPPORT_EMAIL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to] if isinstance(to, str) else to)
    message.attach_alternative(html, "text/html")
    message.send()


def _absolute_url(name: str, *args: object) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def invitation(*, invitation: Invitation, link: str) -> None:
    """The single-use link that lets a tenant admin set up their account."""
    _send(
        "invitation",
        to=invitation.email,
        context={"invitation": invitation, "tenant": invitation.tenant, "link": link},
    )


def invitation_accepted(*, invitation: Invitation, notify: User) -> None:
    """Tells the person who sent an invitation that it was accepted."""
    _send(
        "invitation_accepted",
        to=notify.email,
        context={"invitation": invitation, "tenant": invitation.tenant, "notify": notify},
    )


def password_reset(*, user: User, link: str) -> None:
    """The link that lets a user choose a new password."""
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    _send("password_reset", to=user.email, context={"user": user, "link": link, "hours": hours})


# The wizard's URL names per step (onboarding.diagnosis numbers the steps).
WIZARD_URL_NAMES = {1: "register", 2: "authentication", 3: "permissions", 4: "secret"}
WIZARD_URL_NAMES |= {5: "mailbox", 6: "verify"}


# Diagnoses fixed outside the wizard's steps.
FIX_URL_NAMES_BY_KEY = {"secret_expired": "renew-secret"}


def fix_path(*, tenant_id: object, diagnosis: Diagnosis | None) -> str:
    """The path of the page that fixes a diagnosis ("" if none)."""
    if diagnosis is None:
        return ""
    name = FIX_URL_NAMES_BY_KEY.get(diagnosis.key) or WIZARD_URL_NAMES.get(
        diagnosis.wizard_step or 0
    )
    if name is None:
        return ""
    try:
        return reverse(f"onboarding:{name}", kwargs={"tenant_id": tenant_id})
    except NoReverseMatch:  # the wizard's URLs are not installed
        return ""


def fix_link(*, tenant: Tenant, diagnosis: Diagnosis | None) -> str:
    """The absolute link to the page that fixes a diagnosis ("" if none)."""
    path = fix_path(tenant_id=tenant.pk, diagnosis=diagnosis)
    return f"{settings.PORTAL_BASE_URL}{path}" if path else ""


def _alert_recipients(tenant: Tenant) -> list[str]:
    admins = [m.user.email for m in tenant.memberships.select_related("user")]
    extra = [address.email for address in tenant.notification_addresses.all()]
    return sorted(set(admins + extra))


def check_failing(*, run: CheckRun) -> None:
    """Tells the tenant's admins that a mailbox stopped working: what broke, the fix."""
    from onboarding.checks import STEP_LABELS, step_diagnosis

    tenant = run.mailbox.tenant
    failed: dict[str, Any] = next((s for s in run.steps if s["outcome"] == "failed"), {})
    found = step_diagnosis(failed) if failed else None
    context = {
        "run": run,
        "mailbox": run.mailbox,
        "tenant": tenant,
        "step_label": STEP_LABELS.get(failed.get("name", ""), ""),
        "diagnosis": found,
        "link": fix_link(tenant=tenant, diagnosis=found),
    }
    # Support hears of every failing mailbox too, with the same diagnosis.
    for address in [*_alert_recipients(tenant), settings.SUPPORT_EMAIL]:
        _send("check_failing", to=address, context=context)


def check_recovered(*, run: CheckRun) -> None:
    """The all-clear after a failing mailbox passes its check again."""
    tenant = run.mailbox.tenant
    for address in _alert_recipients(tenant):
        _send("check_recovered", to=address, context={"run": run, "mailbox": run.mailbox})


def secret_expiry_reminder(*, to: list[str], secret: ClientSecret, days_left: int) -> None:
    """Tells a tenant's admins, in one message, that a client secret expires soon or has."""
    tenant = secret.app.tenant
    _send(
        "secret_expiry",
        to=to,
        context={
            "tenant": tenant,
            "app": secret.app,
            "secret": secret,
            "days_left": days_left,
            "days_ago": -days_left,
            "expired": days_left < 0,
            "renew_url": _absolute_url("onboarding:renew-secret", tenant.pk),
        },
    )


def reminder_digest(*, to: list[str], content: Digest, today: date) -> None:
    """Support's daily list of reminders sent, failed, and secrets about to expire."""
    _send("reminder_digest", to=to, context={"digest": content, "today": today})


def secret_renewed(*, secret: ClientSecret, retired_ids: Sequence[object]) -> None:
    """Tells the tenant's admins the new secret is in use and which Secret ID to delete."""
    tenant = secret.app.tenant
    retired = list(ClientSecret.objects.filter(pk__in=retired_ids))
    to = [
        user.email
        for user in User.objects.filter(memberships__tenant=tenant, is_active=True).distinct()
    ]
    if to:
        _send(
            "secret_renewed",
            to=to,
            context={"tenant": tenant, "secret": secret, "retired": retired},
        )
