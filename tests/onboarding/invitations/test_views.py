from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from onboarding.invitations import services as invitations
from onboarding.models import AuditEvent, Membership
from tests.conftest import PASSWORD

NEW_PASSWORD = "a long enough passphrase"


@pytest.fixture
def invite(acme, charlie, django_capture_on_commit_callbacks):
    def make(email="dora@acme.example"):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, token = invitations.invitation_create(
                tenant=acme, email=email, actor=Actor(user=charlie)
            )
        return invitation, f"/invitations/{token}/"

    return make


def new_admin(name="Dora Admin", password=NEW_PASSWORD, repeat=None):
    return {"full_name": name, "password1": password, "password2": repeat or password}


def test_it_shows_the_form_for_a_new_admin(client, invite):
    _, url = invite()
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["mode"] == "new"
    assert "dora@acme.example" in response.content.decode()
    assert "no-cache" in response["Cache-Control"]


def test_it_creates_the_account_and_signs_in(
    client, invite, acme, django_capture_on_commit_callbacks
):
    _, url = invite()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, new_admin())
    assert response["Location"] == "/"
    user = User.objects.get(email="dora@acme.example")
    assert (user.full_name, client.session["_auth_user_id"]) == ("Dora Admin", str(user.pk))
    assert Membership.objects.filter(tenant=acme, user=user).exists()
    assert AuditEvent.objects.filter(action="login", actor=user).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (new_admin(password="short1"), "password1"),
        (new_admin(password="1234567890123"), "password1"),
        (new_admin(password="dora@acme.example"), "password1"),
        (new_admin(repeat="something else entirely"), "password2"),
        (new_admin(name="   "), "full_name"),
        ({}, "full_name"),
    ],
)
def test_it_rejects_bad_input_without_using_the_invitation(client, invite, data, field):
    invitation, url = invite()
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_it_asks_an_existing_account_for_its_password(client, invite, bob, acme):
    _, url = invite("bob@globex.example")
    assert client.get(url).context["mode"] == "existing"
    wrong = client.post(url, {"password": "not it"})
    assert wrong.context["form"].non_field_errors()
    response = client.post(url, {"password": PASSWORD})
    assert response["Location"] == "/"
    assert Membership.objects.filter(tenant=acme, user=bob).exists()
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_it_locks_out_guessing_through_the_invitation_page(client, invite, bob):
    _, url = invite("bob@globex.example")
    responses = [client.post(url, {"password": f"guess {n}"}) for n in range(5)]
    assert responses[-1].status_code == 429


def test_it_lets_the_signed_in_invitee_join(client, invite, bob, acme):
    _, url = invite("bob@globex.example")
    client.force_login(bob)
    assert client.get(url).context["mode"] == "join"
    client.post(url)
    assert Membership.objects.filter(tenant=acme, user=bob).exists()


def test_it_stops_someone_signed_in_as_another_user(client, invite, bob, acme):
    invitation, url = invite("dora@acme.example")
    client.force_login(bob)
    response = client.post(url)
    assert response.context["mode"] == "wrong_user"
    assert not Membership.objects.filter(tenant=acme, user=bob).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@pytest.mark.parametrize(
    "path",
    ["/invitations/forged-token/", "/invitations/abc/", "/invitations/" + "x" * 300 + "/"],
)
def test_it_answers_404_for_a_forged_link(client, invite, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()
    assert "support@localhost" in response.content.decode()


def test_it_answers_404_for_a_truncated_link(client, invite):
    _, url = invite()
    assert client.get(url[:-6] + "/").status_code == 404


def test_it_answers_410_for_an_expired_link(client, invite, time_machine):
    _, url = invite()
    time_machine.move_to(timezone.now() + timedelta(days=7, minutes=1))
    response = client.post(url, new_admin())
    assert response.status_code == 410
    assert "This invitation has expired" in response.content.decode()
    assert not User.objects.filter(email="dora@acme.example").exists()


def test_it_answers_410_for_a_used_link(client, invite):
    _, url = invite()
    client.post(url, new_admin())
    client.logout()
    response = client.get(url)
    assert response.status_code == 410
    assert "already used" in response.content.decode()


def test_it_answers_410_for_a_replaced_link(client, invite):
    _, old_url = invite()
    invite()
    response = client.get(old_url)
    assert response.status_code == 410
    assert "This invitation was replaced" in response.content.decode()


def test_it_mails_the_inviter_when_accepted(
    client, invite, charlie, django_capture_on_commit_callbacks
):
    _, url = invite()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, new_admin())
    (message,) = mail.outbox
    assert message.to == [charlie.email]
    assert "dora@acme.example accepted" in message.subject
