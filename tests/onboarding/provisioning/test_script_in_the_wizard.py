"""The PowerShell script as the wizard hands it out (step 1's download) and takes its
output back (pasted into step 1): run against the emulator by test_script's harness, it
leaves the tenant at step 5 with the portal's certificate, and a mailbox then passes
its check."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding.models import AppRegistration, AuditEvent, CertificateDraft, CheckRun, ClientSecret
from tests.onboarding.provisioning import test_script as harness
from tests.onboarding.provisioning.test_script import Script, emulator_run, essentials
from tests.personal_mailbox import text

# The PowerShell harness's fixtures (tests/onboarding/provisioning/test_script.py).
http, cca, contoso = harness.http, harness.cca, harness.contoso
pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(client, alice, settings, emulated_microsoft):
    client.force_login(alice)
    return client


def download(client, tenant) -> str:
    response = client.post(reverse("onboarding:register-script", args=[tenant.pk]))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Disposition"] == 'attachment; filename="register-app.ps1"'
    body = response.content.decode("utf-8-sig")
    assert "PRIVATE KEY" not in body
    return body


def test_the_download_carries_the_certificate_the_portal_keeps(as_alice, acme):
    body = download(as_alice, acme)
    draft = CertificateDraft.objects.get(tenant=acme)
    assert draft.app is None
    der = "".join(draft.certificate_pem.splitlines()[1:-1])
    assert der in body
    assert "Acme" in body
    # A second download is the same certificate, not a new one.
    assert der in download(as_alice, acme)
    assert CertificateDraft.objects.filter(tenant=acme).count() == 1
    assert AuditEvent.objects.filter(action="certificate.created").count() == 1


def test_the_download_is_a_post(as_alice, acme):
    url = reverse("onboarding:register-script", args=[acme.pk])
    assert as_alice.get(url).status_code == 405
    assert not CertificateDraft.objects.exists()


def test_another_tenants_admin_cannot_download_it(client, bob, acme):
    client.force_login(bob)
    assert client.post(reverse("onboarding:register-script", args=[acme.pk])).status_code == 404
    assert not CertificateDraft.objects.exists()


def test_the_scripts_output_pasted_in_step_1_leads_to_a_passing_check(
    as_alice, acme, emulator, http, cca, contoso, django_capture_on_commit_callbacks
):
    script = Script(download(as_alice, acme))
    result, _ = emulator_run(emulator, http, cca, contoso, script)
    printed = essentials(script, result.env)
    response = as_alice.post(
        reverse("onboarding:register", args=[acme.pk]), {"client_id": printed, "directory": ""}
    )
    assert response.status_code == 302, text(response)[:800]
    assert response["Location"] == reverse("onboarding:mailbox", args=[acme.pk])
    app = AppRegistration.objects.get(tenant=acme)
    assert str(app.client_id) == result.env["app"]["appId"]
    assert str(app.object_id) == result.env["app"]["id"]
    assert app.authentication_confirmed_at is not None
    assert app.consent_state == "claimed"
    credential = ClientSecret.objects.get(app=app)
    stored = emulator.store.app(str(app.client_id))
    [key] = stored.key_credentials
    assert (credential.kind, str(credential.secret_id)) == ("certificate", key.key_id)
    assert credential.thumbprint == key.thumbprint
    assert not CertificateDraft.objects.exists()
    assert AuditEvent.objects.get(action="consent.granted").details["via"] == "PowerShell script"

    with django_capture_on_commit_callbacks(execute=True):
        as_alice.post(
            reverse("onboarding:mailbox", args=[acme.pk]), {"address": contoso.mailbox.upn}
        )
    run = CheckRun.objects.get(mailbox__tenant=acme)
    assert run.status == CheckRun.Status.PASSED, run.steps
    app.refresh_from_db()
    assert app.consent_state == "confirmed"


def test_an_output_without_a_script_certificate_saves_the_ids_and_goes_on_to_step_2(
    as_alice, acme, emulator, http, cca, contoso
):
    script = Script(download(as_alice, acme))
    result, _ = emulator_run(emulator, http, cca, contoso, script)
    printed = essentials(script, result.env)
    CertificateDraft.objects.all().delete()  # another portal's script, or used already
    response = as_alice.post(
        reverse("onboarding:register", args=[acme.pk]), {"client_id": printed, "directory": ""}
    )
    assert response["Location"] == reverse("onboarding:authentication", args=[acme.pk])
    app = AppRegistration.objects.get(tenant=acme)
    assert app.consent_granted_at is None
    assert not ClientSecret.objects.exists()
