"""Invitations: support invites a tenant admin; the admin accepts with a single-use link.

Only the SHA-256 of a token is stored, so the link exists in exactly two places:
the e-mail and the admin's browser. For that reason the invitation e-mail is
sent from the web process, right after the transaction commits, and never
through Celery: a task would need the token in its broker message (a secret in
Redis and in every log of the message), and a worker cannot rebuild the token
from the hash. Mail that holds no secret (the "accepted" notice) goes through a
task that takes the invitation id only.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from onboarding import emails
from onboarding.audit import audit_record
from onboarding.models import AuditEvent, Invitation, Membership, Tenant

logger = logging.getLogger(__name__)

# The longest token worth hashing: token_urlsafe(32) gives 43 characters.
MAX_TOKEN_LENGTH = 128


class InvitationError(Exception):
    """The invitation cannot be created or used; the message is fit for the page."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(token: str) -> str:
    return settings.PORTAL_BASE_URL + reverse("invitations:accept", args=[token])


def invitation_status(invitation: Invitation) -> str:
    """One of "accepted", "revoked", "expired" or "pending"."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if invitation.is_expired else "pending"


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation a link points to, whatever its state; None for a forged link."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return Invitation.objects.select_related("tenant").filter(token_hash=token_hash(token)).first()


def _issue(*, tenant: Tenant, email: str, invited_by: User | None) -> tuple[Invitation, str]:
    """Replace any pending invitation for this address, create one and e-mail it on commit."""
    now = timezone.now()
    Invitation.objects.filter(
        tenant=tenant, email=email, accepted_at=None, revoked_at=None, expires_at__gt=now
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        token_hash=token_hash(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    # On commit, so that a rolled-back invitation is never mailed.
    transaction.on_commit(partial(_mail, invitation, invitation_link(token)))
    return invitation, token


def _mail(invitation: Invitation, link: str) -> None:
    """Send the invitation; a mail outage is recorded (support sees it and resends),
    not raised into a request whose invitation is already committed."""
    try:
        emails.invitation(invitation=invitation, tenant=invitation.tenant, link=link)
    except OSError as error:  # smtplib's errors are OSErrors
        logger.error("Invitation %s could not be e-mailed: %s", invitation.pk, type(error).__name__)
        audit_record(action="invitation.email_failed", tenant=invitation.tenant, obj=invitation)


def invitation_email_failed(invitation: Invitation) -> bool:
    return AuditEvent.objects.filter(
        action="invitation.email_failed", object_id=str(invitation.pk)
    ).exists()


def invitation_create(*, tenant: Tenant, email: str, actor: Actor) -> tuple[Invitation, str]:
    """Invite `email` to administer `tenant`. Returns the invitation and its token."""
    email = email.strip().lower()
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise InvitationError(f"{email} is already an admin of {tenant.name}.")
    with transaction.atomic():
        invitation, token = _issue(tenant=tenant, email=email, invited_by=actor.user)
        audit_record(
            action="invitation.sent", actor=actor, tenant=tenant, obj=invitation, email=email
        )
    return invitation, token


def invitation_resend(*, invitation: Invitation, actor: Actor) -> tuple[Invitation, str]:
    """A fresh link for the same address; the old link stops working."""
    if invitation.accepted_at is not None:
        raise InvitationError(f"{invitation.email} has already accepted this invitation.")
    with transaction.atomic():
        new, token = _issue(tenant=invitation.tenant, email=invitation.email, invited_by=actor.user)
        audit_record(
            action="invitation.resent",
            actor=actor,
            tenant=invitation.tenant,
            obj=new,
            email=invitation.email,
            replaces=str(invitation.pk),
        )
    return new, token


def _claim(invitation: Invitation, user: User) -> None:
    """Mark the invitation used by `user`, exactly once even under concurrent clicks."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    status = invitation_status(locked)
    if status != "pending":
        raise InvitationError(f"This invitation is {status}.")
    if user.email.lower() != locked.email.lower():
        raise InvitationError(f"This invitation is for {locked.email}, not {user.email}.")
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    invitation.accepted_at, invitation.accepted_by = locked.accepted_at, user


def invitation_accept(*, invitation: Invitation, user: User, actor: Actor) -> Membership:
    """An existing account accepts: it becomes an admin of the tenant. The caller tells
    the inviter, once this commits (onboarding.tasks.enqueue_accepted_notice)."""
    with transaction.atomic():
        _claim(invitation, user)
        membership, _ = Membership.objects.get_or_create(
            tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
        )
        audit_record(
            action="invitation.accepted",
            actor=Actor(user=user, ip_address=actor.ip_address),
            tenant=invitation.tenant,
            obj=invitation,
        )
    return membership


def invitation_accept_as_new_user(
    *, invitation: Invitation, full_name: str, password: str, actor: Actor
) -> User:
    """A new admin accepts: their account is created with the name and password they chose."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(invitation.email, password, full_name=full_name)
            invitation_accept(invitation=invitation, user=user, actor=actor)
    except IntegrityError:
        # Another tab created the account a moment ago.
        raise InvitationError(f"An account for {invitation.email} already exists.") from None
    return user


def invitation_accepted_notify(*, invitation_id: str) -> bool:
    """E-mail the inviter that their invitation was accepted, once. True if sent now."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pk=invitation_id, accepted_at__isnull=False)
            .first()
        )
        inviter = invitation.invited_by if invitation else None
        if invitation is None or inviter is None or not inviter.is_active:
            return False
        if AuditEvent.objects.filter(
            action="invitation.accepted_notified", object_id=str(invitation.pk)
        ).exists():
            return False
        # Sent inside the transaction: if sending fails, nothing is recorded and
        # the task's retry sends it; the row lock keeps two workers from both sending.
        emails.invitation_accepted(invitation=invitation, tenant=invitation.tenant, notify=inviter)
        audit_record(
            action="invitation.accepted_notified",
            tenant=invitation.tenant,
            obj=invitation,
            notified=inviter.email,
        )
    return True
