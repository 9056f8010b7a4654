import base64
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
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


def _wrong(device: TOTPDevice) -> str:
    return f"{(int(current_code(device)) + 1) % 1_000_000:06d}"


def test_many_wrong_codes_lock_the_owner_out_for_minutes_not_days(client, charlie):
    # Someone with the password, not the phone, tried 30 codes: uncapped, django-otp
    # would now make the owner wait 2 ** 29 seconds (17 years).
    from django.utils import timezone

    from support.two_factor import MAX_THROTTLE_SECONDS

    device = confirmed_device(charlie)
    device.throttling_failure_count = 30
    device.throttling_failure_timestamp = timezone.now()
    device.save()
    client.force_login(charlie)

    response = client.post("/support/2fa/", {"token": current_code(device)})
    message = response.context["form"].errors["token"][0]
    assert "this one was not checked: wait " in message
    seconds = int(message.split("wait ")[1].split(" ")[0])
    assert 0 < seconds <= MAX_THROTTLE_SECONDS
    assert client.get("/support/").status_code == 302  # the right code, unchecked

    device.refresh_from_db()
    device.throttling_failure_timestamp = timezone.now() - timedelta(
        seconds=MAX_THROTTLE_SECONDS + 1
    )
    device.save()
    response = client.post("/support/2fa/", {"token": current_code(device), "next": "/support/"})
    assert response["Location"] == "/support/"


def test_a_wrong_code_says_not_valid_and_the_next_one_waits(client, charlie):
    device = confirmed_device(charlie)
    client.force_login(charlie)
    first = client.post("/support/2fa/", {"token": _wrong(device)})
    assert "That code is not valid" in first.context["form"].errors["token"][0]
    second = client.post("/support/2fa/", {"token": current_code(device)})
    assert "wait 1 second," in second.context["form"].errors["token"][0]


def test_a_key_seen_in_another_session_is_never_the_one_confirmed(charlie):
    # The attacker signs in with the stolen password and copies the key shown; the
    # owner then enrols in their own session.
    attacker, owner = Client(), Client()
    attacker.force_login(charlie)
    owner.force_login(charlie)
    seen = attacker.get("/support/2fa/setup/").context["manual_key"]
    shown = owner.get("/support/2fa/setup/").context["manual_key"]
    assert shown != seen
    assert owner.get("/support/2fa/setup/").context["manual_key"] == shown  # a reload keeps it
    owners = TOTPDevice.objects.get(user=charlie, confirmed=False, key=_key_of(shown))
    assert owner.post("/support/2fa/setup/", {"token": current_code(owners)}).status_code == 302

    assert list(TOTPDevice.objects.filter(user=charlie).values_list("pk", flat=True)) == [owners.pk]
    response = attacker.post("/support/2fa/setup/")
    assert response.status_code == 302  # a device exists: only a verified code leads in


def test_an_unconfirmed_key_expires(client, charlie):
    from django.utils import timezone

    from support.two_factor import ENROLMENT_VALID

    client.force_login(charlie)
    first = client.get("/support/2fa/setup/").context["manual_key"]
    device = TOTPDevice.objects.get(user=charlie)
    TOTPDevice.objects.filter(pk=device.pk).update(
        created_at=timezone.now() - ENROLMENT_VALID - timedelta(seconds=1)
    )
    response = client.post("/support/2fa/setup/", {"token": current_code(device)})
    assert "expired" in response.context["form"].errors["token"][0]
    assert response.context["manual_key"] != first
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not has_device_for(charlie)


def test_the_owner_is_emailed_when_a_device_is_enrolled(
    client, charlie, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(charlie)
    client.get("/support/2fa/setup/")
    device = TOTPDevice.objects.get(user=charlie, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/support/2fa/setup/", {"token": current_code(device)})
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [charlie.email]
    assert "authenticator app" in message.body.lower()
    assert "reset it now" in message.body
    assert device.key not in message.body


def _key_of(manual_key: str) -> str:
    key = manual_key.replace(" ", "")
    return base64.b32decode(key + "=" * (-len(key) % 8)).hex()


def has_device_for(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _post_at(client, url, token, moment):
    with time_machine.travel(moment, tick=False):
        return client.post(url, {"token": token, "next": "/support/"})


def _error(response) -> str:
    return response.context["form"].errors["token"][0]


@pytest.mark.parametrize("path", ["/support/2fa/", "/support/2fa/setup/"])
def test_a_right_code_right_after_a_wrong_one_is_told_to_wait_never_that_it_is_wrong(
    client, charlie, path
):
    # Issue 15, finding 11: sign-in and enrolment alike.
    start = timezone.now()
    client.force_login(charlie)
    if path.endswith("setup/"):
        client.get(path)
        device = TOTPDevice.objects.get(user=charlie)
    else:
        device = confirmed_device(charlie)
    with time_machine.travel(start, tick=False):
        right = current_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    first = _post_at(client, path, wrong, start)
    assert "not valid" in _error(first) or "does not match" in _error(first)
    soon = _post_at(client, path, right, start + timedelta(milliseconds=400))
    assert "wait 1 second," in _error(soon)
    assert "not valid" not in _error(soon)
    assert "does not match" not in _error(soon)
    later = _post_at(client, path, right, start + timedelta(milliseconds=1600))
    assert later.status_code == 302
    assert later["Location"] == "/support/"
