import pytest
from django.core import mail

from accounts.actors import SYSTEM, Actor
from onboarding.invitations import services as invitations
from onboarding.models import AuditEvent
from onboarding.tasks import invitation_accepted_notify


@pytest.fixture
def accepted(acme, charlie):
    invitation, _ = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    invitations.invitation_accept_as_new_user(
        invitation=invitation, full_name="Dora", password="a long enough passphrase", actor=SYSTEM
    )
    mail.outbox.clear()
    return invitation


def test_it_notifies_the_inviter_once(accepted, charlie):
    assert invitation_accepted_notify.delay(str(accepted.pk)).get() is True
    assert invitation_accepted_notify.delay(str(accepted.pk)).get() is False
    assert [m.to for m in mail.outbox] == [[charlie.email]]
    assert AuditEvent.objects.filter(action="invitation.accepted_notified").count() == 1


def test_it_does_nothing_for_a_pending_invitation(acme, charlie):
    invitation, _ = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    assert invitation_accepted_notify.delay(str(invitation.pk)).get() is False
    assert mail.outbox == []


def test_it_records_nothing_when_the_mail_fails(accepted, settings):
    settings.EMAIL_BACKEND = "tests.onboarding.failing_mail.Backend"
    with pytest.raises(ConnectionRefusedError):
        invitation_accepted_notify.apply(args=(str(accepted.pk),), throw=True, retries=5).get()
    assert not AuditEvent.objects.filter(action="invitation.accepted_notified").exists()
