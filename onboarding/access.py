"""Who may see what: a tenant's pages are its admins' (support sees every mailbox's
checks). Anything else is a 404, exactly like an id that does not exist, so that
another tenant's ids reveal nothing."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from onboarding.models import Mailbox, Membership, Tenant


def user_of(user: object) -> User:
    """The signed-in portal user (views behind login_required only)."""
    assert isinstance(user, User)
    return user


def admin_tenant_or_404(user: object, tenant_id: object) -> Tenant:
    """The tenant, if the signed-in user administers it. Staff get no exception."""
    return get_object_or_404(
        Tenant,
        pk=tenant_id,
        memberships__user=user_of(user),
        memberships__role=Membership.Role.ADMIN,
    )


def staff_verified(user: object) -> bool:
    """False for a staff account whose session has no verified second factor: such a
    session opens no page that staff can reach, whatever else the account may be."""
    portal_user = user_of(user)
    if not (portal_user.is_staff or portal_user.is_superuser):
        return True
    is_verified = getattr(portal_user, "is_verified", None)  # set by OTPMiddleware
    return bool(callable(is_verified) and is_verified())


def visible_mailbox_or_404(user: object, mailbox_id: object) -> Mailbox:
    """The mailbox, if it belongs to one of the user's tenants, or the user is support
    staff signed in with their second factor."""
    mailbox = get_object_or_404(Mailbox.objects.select_related("tenant"), pk=mailbox_id)
    portal_user = user_of(user)
    if not staff_verified(portal_user):
        raise Http404
    member = portal_user.memberships.filter(tenant_id=mailbox.tenant_id).exists()
    if not (portal_user.is_support or member):
        raise Http404
    return mailbox
