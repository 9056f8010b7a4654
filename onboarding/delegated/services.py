"""Storing and removing a mailbox's own sign-in (the one writer of MailboxSignIn's
account fields; onboarding.delegated.tokens writes the rotated refresh token)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.checks.claim import Requested, checks_after_change
from onboarding.delegated import flow, tokens
from onboarding.models import Mailbox, MailboxSignIn


def record_sign_in(outcome: flow.SignInOutcome, *, actor: Actor) -> list[Requested]:
    """Store the sign-in of a callback that passed every test, spend the owner's link
    it came from, drop the legacy password (the sign-in replaces it) and ask for a
    check of the mailbox."""
    signed_in, mailbox = outcome.signed_in, outcome.mailbox
    assert signed_in is not None
    assert outcome.failure is None
    if not signed_in.refresh_token:
        # Without offline_access granted there is nothing to keep the connection with.
        raise ValueError("Microsoft returned no refresh token.")
    with transaction.atomic():
        if outcome.owner_key:
            flow.use_owner_link(outcome.owner_key)
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        row = MailboxSignIn.objects.filter(mailbox=locked).first() or MailboxSignIn(mailbox=locked)
        row.authority = outcome.authority
        row.home_account_id = signed_in.home_account_id
        row.account_oid = signed_in.oid
        row.username = signed_in.username or locked.sign_in_name
        row.scopes = " ".join(sorted(signed_in.scopes))
        row.connected_at = row.refreshed_at = timezone.now()
        row.connected_by = actor.user
        row.save()  # the primary key first: the ciphertext is bound to it
        row.set_refresh_token(signed_in.refresh_token)
        row.save(update_fields=["refresh_token_ciphertext", "refresh_token_key_id"])
        had_password = locked.has_password
        if had_password:
            locked.set_password(None)
            locked.save(update_fields=["password_ciphertext", "password_key_id"])
        audit_record(
            action="mailbox.signed_in",
            actor=actor,
            tenant=locked.tenant,
            obj=locked,
            account=row.username,
            personal=row.personal,
            by_owner_link=outcome.owner_link,
            legacy_sign_in_removed=had_password,
        )
        checks = checks_after_change(
            locked.tenant, requested_by=actor.user, mailbox_ids=[locked.pk]
        )
    tokens.remember(row, signed_in)
    return checks


def remove_sign_in(mailbox: Mailbox, *, actor: Actor) -> list[Requested]:
    """Forget the mailbox's own sign-in (the refresh token is deleted with its row)."""
    row = MailboxSignIn.objects.filter(mailbox=mailbox).first()
    if row is None:
        return []
    with transaction.atomic():
        row.delete()
        audit_record(action="mailbox.signed_out", actor=actor, tenant=mailbox.tenant, obj=mailbox)
        checks = checks_after_change(
            mailbox.tenant, requested_by=actor.user, mailbox_ids=[mailbox.pk]
        )
    tokens.forget(row)
    return checks
