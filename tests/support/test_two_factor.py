from django_otp.plugins.otp_totp.models import TOTPDevice

from onboarding.models import AuditEvent
from tests.two_factor import confirmed_device, current_code


def test_it_leads_staff_without_a_device_to_enrol(client, charlie):
    client.force_login(charlie)
    response = client.get("/support/", follow=True)
    assert response.redirect_chain[-1][0] == "/support/2fa/setup/?next=%2Fsupport%2F"
    assert response.context["qr_code"].startswith("data:image/svg+xml")
    assert "otpauth" not in response.content.decode()  # the key is in the image and its text


def test_it_enrols_a_device_with_a_confirmation_code(client, charlie):
    client.force_login(charlie)
    client.get("/support/2fa/setup/")
    device = TOTPDevice.objects.get(user=charlie, confirmed=False)
    response = client.post(
        "/support/2fa/setup/", {"token": current_code(device), "next": "/support/overview/"}
    )
    assert response["Location"] == "/support/overview/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/support/").status_code == 200
    event = AuditEvent.objects.get(action="support.2fa_enrolled")
    assert event.actor_label == charlie.email


def test_it_keeps_the_same_key_across_reloads_of_the_setup_page(client, charlie):
    client.force_login(charlie)
    first = client.get("/support/2fa/setup/").context["manual_key"]
    assert client.get("/support/2fa/setup/").context["manual_key"] == first
    assert TOTPDevice.objects.filter(user=charlie).count() == 1


def test_it_refuses_a_wrong_enrolment_code(client, charlie):
    client.force_login(charlie)
    client.get("/support/2fa/setup/")
    device = TOTPDevice.objects.get(user=charlie)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = client.post("/support/2fa/setup/", {"token": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not TOTPDevice.objects.get(user=charlie).confirmed
    assert client.get("/support/")["Location"].startswith("/support/2fa/")


def test_it_verifies_a_session_with_a_code(client, charlie):
    device = confirmed_device(charlie)
    client.force_login(charlie)
    response = client.post("/support/2fa/", {"token": current_code(device), "next": "/support/"})
    assert response["Location"] == "/support/"
    assert client.get("/support/").status_code == 200


def test_it_does_not_offer_enrolment_once_a_device_exists(client, charlie):
    # A stolen password alone must not be enough to add an attacker's device.
    confirmed_device(charlie)
    client.force_login(charlie)
    assert client.get("/support/2fa/setup/")["Location"].startswith("/support/2fa/?")
    assert TOTPDevice.objects.filter(user=charlie).count() == 1


def test_it_refuses_a_reused_code(client, charlie):
    device = confirmed_device(charlie)
    code = current_code(device)
    client.force_login(charlie)
    client.post("/support/2fa/", {"token": code})
    client.logout()
    client.force_login(charlie)
    response = client.post("/support/2fa/", {"token": code})
    assert response.status_code == 200
    assert client.get("/support/").status_code == 302


def test_it_ignores_a_next_url_on_another_site(client, charlie):
    device = confirmed_device(charlie)
    client.force_login(charlie)
    response = client.post(
        "/support/2fa/", {"token": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/support/"


def test_it_rejects_malformed_codes(client, charlie):
    confirmed_device(charlie)
    client.force_login(charlie)
    for token in ["", "12345", "abcdef", "1234567", "1" * 500]:
        response = client.post("/support/2fa/", {"token": token})
        assert response.status_code == 200
        assert response.context["form"].errors
