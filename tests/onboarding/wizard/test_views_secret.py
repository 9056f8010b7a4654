import time_machine
from django.urls import reverse

from onboarding.models import AuditEvent, ClientSecret, Tenant

SECRET_ID = "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
VALUE = "Zx98Q~" + "s" * 30 + "_.-~"


def secret_url(tenant):
    return reverse("onboarding:secret", args=[tenant.pk])


def post(client, tenant, **fields):
    data = {"value": VALUE, "secret_id": SECRET_ID, "expiry": "180", **fields}
    return client.post(secret_url(tenant), data)


def test_it_links_to_certificates_and_secrets(as_alice, acme_configured, acme):
    page = as_alice.get(secret_url(acme)).content.decode()
    assert f"ApplicationMenuBlade/~/Credentials/appId/{acme_configured.client_id}" in page
    assert 'type="password"' in page


@time_machine.travel("2026-11-28 12:00:00Z", tick=False)
def test_it_saves_the_secret_encrypted_and_moves_on(as_alice, acme_configured, acme, alice):
    response = post(as_alice, acme)
    assert response["Location"] == reverse("onboarding:mailbox", args=[acme.pk])
    secret = ClientSecret.objects.get()
    assert (secret.hint, str(secret.secret_id), secret.created_by) == ("Zx9", SECRET_ID, alice)
    assert secret.expires_on.isoformat() == "2027-05-27"
    assert VALUE.encode() not in bytes(secret.value_ciphertext)
    assert secret.reveal() == VALUE


def test_it_never_shows_the_value_again(as_alice, acme_configured, acme):
    post(as_alice, acme)
    page = as_alice.get(secret_url(acme)).content.decode()
    assert VALUE not in page
    assert "Zx9…" in page


def test_it_does_not_echo_the_value_after_a_warning(as_alice, acme_configured, acme):
    response = post(as_alice, acme, value="Zx9" + "q" * 10)
    page = response.content.decode()
    assert "save it anyway" in page
    assert "Zx9" + "q" * 10 not in page
    assert not ClientSecret.objects.exists()


def test_it_warns_about_the_secret_id_and_saves_the_right_value_after(
    as_alice, acme_configured, acme
):
    response = post(as_alice, acme, value=SECRET_ID)
    assert "This is the Secret ID" in response.content.decode()
    assert not ClientSecret.objects.exists()
    post(as_alice, acme)
    assert ClientSecret.objects.get().reveal() == VALUE


def test_it_keeps_one_live_secret_and_retires_the_one_before(as_alice, acme_ready, acme):
    acme.mailboxes.update(health=Tenant.Health.HEALTHY)
    post(as_alice, acme, secret_id="6b2e3d4c-5f6a-4b7c-9d8e-0f1a2b3c4d5e")
    live = ClientSecret.objects.filter(status__in=["pending", "active"])
    assert [str(s.secret_id) for s in live] == ["6b2e3d4c-5f6a-4b7c-9d8e-0f1a2b3c4d5e"]
    assert ClientSecret.objects.filter(status="retired").count() == 1
    assert acme.mailboxes.get().health == "unknown"


def test_it_says_when_it_trimmed_the_value(as_alice, acme_configured, acme):
    response = post(as_alice, acme, value=f"  {VALUE} ")
    assert response.status_code == 302
    assert ClientSecret.objects.get().reveal() == VALUE
    page = as_alice.get(response["Location"]).content.decode()
    assert "removed the spaces" in page


def test_it_audits_the_saved_secret_with_the_warnings_confirmed(as_alice, acme_configured, acme):
    odd = "Zx9" + "q" * 29  # 32 characters, a legacy shape: no warning
    post(as_alice, acme, value="short-" + odd[:10], acknowledged="unknown_shape", save_anyway="on")
    event = AuditEvent.objects.get(action="client_secret.saved")
    assert event.details["confirmed_warnings"] == ["unknown_shape"]
    assert event.details["secret_id"] == SECRET_ID
    assert "short-" not in str(event.details)


def test_a_saved_secret_the_last_check_refused_is_not_called_enough(
    as_alice, acme_configured, acme
):
    post(as_alice, acme)
    page = as_alice.get(secret_url(acme)).content.decode()
    assert "Nothing more is needed in this step." in page
    acme.mailboxes.create(address="orders@acme.example", diagnosis_code="no_credential_in_entra")
    page = as_alice.get(secret_url(acme)).content.decode()
    assert "Nothing more is needed in this step." not in page
    assert "Zx9…" in page
    assert "no longer works: <strong>The application has no client secret in Entra" in page
    assert "Replace the secret" in page


def test_a_mailbox_problem_leaves_the_saved_secret_alone(as_alice, acme_configured, acme):
    post(as_alice, acme)
    acme.mailboxes.create(address="orders@acme.example", diagnosis_code="unknown_user")
    page = as_alice.get(secret_url(acme)).content.decode()
    assert "Nothing more is needed in this step." in page
    assert "no longer works" not in page
