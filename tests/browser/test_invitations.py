from datetime import timedelta

from django.utils import timezone

from accounts.actors import Actor
from onboarding.invitations import services as invitations
from onboarding.models import Invitation


def test_it_lets_a_new_admin_set_up_their_account(page, live_server, acme, charlie, screenshot):
    _, token = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    page.goto(f"{live_server.url}/invitations/{token}/")
    page.get_by_role("heading", name="Set up Acme Logistics").wait_for()
    page.get_by_label("Your full name").fill("Dora Admin")
    page.get_by_label("Choose a password").fill("short")
    page.get_by_label("Repeat the password").fill("short")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_text("This password is too short").wait_for()
    screenshot(page, "password-too-short")
    page.get_by_label("Choose a password").fill("a long enough passphrase")
    page.get_by_label("Repeat the password").fill("a long enough passphrase")
    screenshot(page, "form")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Welcome, Dora").wait_for()
    page.get_by_text("You are now an admin of Acme Logistics").wait_for()
    screenshot(page, "signed-in")
    page.goto(f"{live_server.url}/invitations/{token}/")
    page.get_by_role("heading", name="This invitation was already used").wait_for()


def test_it_explains_an_expired_link(page, live_server, acme, charlie, screenshot):
    invitation, token = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = page.goto(f"{live_server.url}/invitations/{token}/")
    assert response is not None
    assert response.status == 410
    page.get_by_role("heading", name="This invitation has expired").wait_for()
    page.get_by_role("heading", name="How to get a new invitation").wait_for()
    screenshot(page, "expired")


def test_it_explains_a_truncated_link(page, live_server, acme, charlie, screenshot):
    _, token = invitations.invitation_create(
        tenant=acme, email="dora@acme.example", actor=Actor(user=charlie)
    )
    response = page.goto(f"{live_server.url}/invitations/{token[:20]}/")
    assert response is not None
    assert response.status == 404
    page.get_by_role("heading", name="This invitation link is not valid").wait_for()
    screenshot(page, "truncated")
