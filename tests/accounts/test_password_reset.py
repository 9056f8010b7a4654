import re

from django.core import mail
from django.core.mail import EmailMultiAlternatives

from accounts.passwords import password_reset_send

RESET = "/accounts/password-reset/"
NEW_PASSWORD = "a brand new passphrase 42"


def reset_link(message) -> str:
    match = re.search(r"http://\S+/accounts/password-reset/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def test_it_mails_a_link_built_on_the_base_url(client, alice, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    settings.ALLOWED_HOSTS = ["other.example"]
    response = client.post(RESET, {"email": "ALICE@acme.example"}, HTTP_HOST="other.example")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    (message,) = mail.outbox
    assert message.to == [alice.email]
    assert "https://portal.example.com/accounts/password-reset/" in message.body
    assert "other.example" not in message.body
    assert isinstance(message, EmailMultiAlternatives)
    assert message.alternatives[0][1] == "text/html"


def test_it_answers_the_same_for_an_unknown_address(client, alice):
    response = client.post(RESET, {"email": "nobody@acme.example"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_it_rejects_a_malformed_address(client, db):
    response = client.post(RESET, {"email": "not an address"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]


def test_it_sets_the_new_password_once(client, alice, settings):
    settings.PORTAL_BASE_URL = "http://testserver"
    client.post(RESET, {"email": alice.email})
    link = reset_link(mail.outbox[0]).removeprefix("http://testserver")
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == "/accounts/password-reset/complete/"
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    again = client.get(link, follow=True)
    assert again.context["validlink"] is False
    assert "This link no longer works" in again.content.decode()


def test_it_shows_a_clear_page_for_a_tampered_link(client, alice):
    response = client.get("/accounts/password-reset/Zm9v/abc-123/", follow=True)
    assert response.status_code == 200
    assert "This link no longer works" in response.content.decode()


def test_it_applies_the_password_rules(client, alice, settings):
    settings.PORTAL_BASE_URL = "http://testserver"
    client.post(RESET, {"email": alice.email})
    link = reset_link(mail.outbox[0]).removeprefix("http://testserver")
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


def test_it_sends_nothing_to_an_inactive_user(alice):
    alice.is_active = False
    alice.save()
    assert password_reset_send(user_id=str(alice.pk)) is False
    assert mail.outbox == []
