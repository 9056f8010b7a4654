import re

import pytest
from django.core.management import CommandError, call_command

from accounts.actors import SYSTEM
from accounts.models import User
from onboarding.invitations import services as invitations
from onboarding.models import Invitation, Membership, Tenant


def run() -> str:
    from io import StringIO

    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def printed_token(output: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000/invitations/([\w-]+)/", output)
    assert match, output
    return match.group(1)


def printed_invitation(output: str) -> Invitation:
    invitation = invitations.invitation_from_token(printed_token(output))
    assert invitation is not None
    return invitation


def test_it_prints_working_logins_and_a_working_link(db, settings):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    output = run()
    support = User.objects.get(email="support@demo.example")
    assert support.is_support
    assert support.check_password("demo-support-password")
    assert "support@demo.example / demo-support-password" in output
    invitation = printed_invitation(output)
    assert invitation.tenant.name == "Contoso Freight"
    assert invitations.invitation_status(invitation) == "pending"


def test_it_can_run_again_keeping_one_tenant_and_one_pending_invitation(db, settings):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    first = printed_token(run())
    tenants = Tenant.objects.count()
    second = printed_token(run())
    assert Tenant.objects.count() == tenants
    assert Tenant.objects.filter(name="Contoso Freight").count() == 1
    pending = [i for i in Invitation.objects.all() if invitations.invitation_status(i) == "pending"]
    assert [i.token_hash for i in pending] == [invitations.token_hash(second)]
    assert (
        invitations.invitation_status(
            Invitation.objects.get(token_hash=invitations.token_hash(first))
        )
        == "revoked"
    )


def test_it_says_so_once_the_demo_admin_has_accepted(db, settings):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    invitation = printed_invitation(run())
    invitations.invitation_accept_as_new_user(
        invitation=invitation, full_name="Ian", password="a long enough passphrase", actor=SYSTEM
    )
    output = run()
    assert "already accepted" in output
    assert Membership.objects.filter(tenant=invitation.tenant).count() == 1


def test_it_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never in production"):
        run()


def test_it_gives_the_finished_tenants_a_configuration_for_the_dashboard(db, settings):
    from datetime import timedelta

    from django.utils import timezone

    from onboarding.models import ClientSecret

    run()
    run()
    fabrikam = ClientSecret.objects.get(app__tenant__name="Fabrikam Haulage")
    assert fabrikam.expires_on == timezone.localdate() + timedelta(days=20)
    assert fabrikam.reveal().startswith("Fab8Q~demo-")
    tailspin = Tenant.objects.get(name="Tailspin Couriers").mailboxes.get()
    assert tailspin.diagnosis_code == "secret_expired"


def test_it_tells_the_support_user_about_two_factor_sign_in(db):
    assert "scan the QR code" in run()


def test_it_derives_each_tenants_step_and_health_from_its_data(db, settings):
    run()
    tenants = {t.name: (t.onboarding_step, t.health) for t in Tenant.objects.all()}
    assert tenants["Northwind Traders"] == (3, "unknown")  # waiting for admin consent
    assert tenants["Fabrikam Haulage"] == (7, "healthy")
    assert tenants["Tailspin Couriers"] == (6, "expired")  # its mailbox stopped: verify again
    assert tenants["Contoso Freight"] == (1, "unknown")
