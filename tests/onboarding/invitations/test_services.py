import hashlib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.actors import SYSTEM, Actor
from accounts.models import User
from onboarding.invitations import services as invitations
from onboarding.invitations.services import InvitationError
from onboarding.models import AuditEvent, Invitation, Membership


@pytest.fixture
def invite(acme, charlie, django_capture_on_commit_callbacks):
    def make(email="dora@acme.example"):
        with django_capture_on_commit_callbacks(execute=True):
            return invitations.invitation_create(
                tenant=acme, email=email, actor=Actor(user=charlie)
            )

    return make


def test_it_stores_only_the_hash_of_a_long_random_token(invite):
    invitation, token = invite()
    assert len(token) >= 43
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())


def test_it_is_valid_for_the_configured_days(invite, settings, time_machine):
    time_machine.move_to("2026-03-01 12:00:00+00:00", tick=False)
    settings.INVITATION_VALID_DAYS = 3
    invitation, _ = invite()
    assert invitation.expires_at == timezone.now() + timedelta(days=3)


def test_it_mails_the_link_once_committed(invite, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    _invitation, token = invite("Dora@Acme.example")
    (message,) = mail.outbox
    assert message.to == ["dora@acme.example"]
    assert f"https://portal.example.com/invitations/{token}/" in message.body
    assert "Acme Logistics" in message.subject


def test_it_waits_for_the_commit_before_mailing(acme, charlie, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitations.invitation_create(
            tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
        )
    # Queued, not run: the test transaction never commits.
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_it_audits_the_invitation_without_the_token(invite, charlie):
    invitation, token = invite()
    event = AuditEvent.objects.get(action="invitation.sent")
    assert (event.actor, event.object_id) == (charlie, str(invitation.pk))
    assert token not in str(event.details)
    assert invitation.token_hash not in str(event.details)


def test_it_refuses_to_invite_an_existing_admin(invite, alice):
    with pytest.raises(InvitationError, match="already an admin"):
        invite("ALICE@acme.example")


def test_it_replaces_a_pending_invitation_to_the_same_address(invite):
    first, _ = invite()
    second, _ = invite()
    first.refresh_from_db()
    assert invitations.invitation_status(first) == "revoked"
    assert invitations.invitation_status(second) == "pending"


def test_it_resends_with_a_new_link_and_kills_the_old_one(invite, charlie):
    old, old_token = invite()
    new, new_token = invitations.invitation_resend(invitation=old, actor=Actor(user=charlie))
    assert new_token != old_token
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert invitations.invitation_from_token(new_token) == new
    assert AuditEvent.objects.get(action="invitation.resent").details["replaces"] == str(old.pk)


def test_it_resends_an_expired_invitation(invite, charlie, time_machine):
    old, _ = invite()
    time_machine.move_to(timezone.now() + timedelta(days=8))
    new, _ = invitations.invitation_resend(invitation=old, actor=Actor(user=charlie))
    assert invitations.invitation_status(new) == "pending"


def test_it_refuses_to_resend_an_accepted_invitation(invite, charlie):
    invitation, _ = invite()
    invitations.invitation_accept_as_new_user(
        invitation=invitation, full_name="Dora", password="a long enough passphrase", actor=SYSTEM
    )
    with pytest.raises(InvitationError, match="already accepted"):
        invitations.invitation_resend(invitation=invitation, actor=Actor(user=charlie))


@pytest.mark.parametrize("token", ["", "x", "a" * 43, "a" * 5000])
def test_it_finds_nothing_for_a_forged_token(invite, token):
    invite()
    assert invitations.invitation_from_token(token) is None


def test_it_creates_the_admin_on_acceptance(invite, acme):
    invitation, _ = invite()
    user = invitations.invitation_accept_as_new_user(
        invitation=invitation,
        full_name="Dora Admin",
        password="a long enough passphrase",
        actor=SYSTEM,
    )
    assert user.check_password("a long enough passphrase")
    assert Membership.objects.filter(tenant=acme, user=user, role="admin").exists()
    invitation.refresh_from_db()
    assert (invitation.accepted_by, invitations.invitation_status(invitation)) == (user, "accepted")
    assert AuditEvent.objects.filter(action="invitation.accepted", actor=user).exists()


def test_it_accepts_only_once(invite):
    invitation, _ = invite()
    invitations.invitation_accept_as_new_user(
        invitation=invitation, full_name="Dora", password="a long enough passphrase", actor=SYSTEM
    )
    stale = Invitation.objects.get(pk=invitation.pk)
    stale.accepted_at = None  # as a second tab that loaded it earlier would see it
    with pytest.raises(InvitationError):
        invitations.invitation_accept_as_new_user(
            invitation=stale, full_name="Dora", password="another passphrase 1", actor=SYSTEM
        )
    assert User.objects.filter(email="dora@acme.example").count() == 1


def test_it_links_an_existing_account(invite, bob, acme, globex):
    invitation, _ = invite("bob@globex.example")
    invitations.invitation_accept(invitation=invitation, user=bob, actor=Actor(user=bob))
    assert set(bob.memberships.values_list("tenant", flat=True)) == {acme.pk, globex.pk}


def test_it_refuses_someone_else_accepting(invite, bob):
    invitation, _ = invite("dora@acme.example")
    with pytest.raises(InvitationError, match=r"not bob@globex\.example"):
        invitations.invitation_accept(invitation=invitation, user=bob, actor=Actor(user=bob))
    assert not bob.memberships.filter(tenant=invitation.tenant).exists()


def test_it_refuses_an_expired_invitation(invite, time_machine):
    invitation, _ = invite()
    time_machine.move_to(timezone.now() + timedelta(days=7, seconds=1))
    with pytest.raises(InvitationError, match="expired"):
        invitations.invitation_accept_as_new_user(
            invitation=invitation,
            full_name="Dora",
            password="a long enough passphrase",
            actor=SYSTEM,
        )
    assert not User.objects.filter(email="dora@acme.example").exists()


def test_it_records_a_failed_invitation_email(
    acme, charlie, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.onboarding.failing_mail.Backend"
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = invitations.invitation_create(
            tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
        )
    assert invitations.invitation_email_failed(invitation)
