from django.urls import reverse

from onboarding.models import AuditEvent
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


def test_it_signs_in_with_email_and_password(client, alice):
    response = client.post(LOGIN, {"username": "Alice@Acme.example", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_it_says_the_same_for_a_wrong_password_and_an_unknown_address(client, alice):
    wrong = client.post(LOGIN, {"username": alice.email, "password": "not the password"})
    unknown = client.post(LOGIN, {"username": "nobody@acme.example", "password": "whatever"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].errors == unknown.context["form"].errors
    page = wrong.content.decode()
    assert "The e-mail address or the password is not right." in page
    # The address is looked up in any case: Django's "both fields may be case-sensitive"
    # would send the user retyping the wrong one.
    assert "case-sensitive" not in page


def test_it_does_not_let_an_inactive_account_in_nor_reveal_it(client, alice):
    alice.is_active = False
    alice.save()
    response = client.post(LOGIN, {"username": alice.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "inactive" not in response.content.decode().lower()


def test_it_signs_out_only_by_post(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_audits_sign_in_and_sign_out_with_the_address(client, alice, acme):
    client.post(LOGIN, {"username": alice.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    client.post("/accounts/logout/")
    login, logout = AuditEvent.objects.order_by("at", "id")
    assert (login.action, login.actor, login.tenant, login.ip_address) == (
        "login",
        alice,
        acme,
        "203.0.113.9",
    )
    assert (logout.action, logout.actor) == ("logout", alice)


def test_it_sends_a_signed_in_user_away_from_the_login_page(client, alice):
    client.force_login(alice)
    assert client.get(LOGIN).status_code == 302


def test_it_ignores_an_offsite_next_address(client, alice):
    response = client.post(
        LOGIN + "?next=https://evil.example/", {"username": alice.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("home")
