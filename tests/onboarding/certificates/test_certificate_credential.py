"""Step 4's certificate against the emulator: the portal makes it, the admin uploads
its public part in Entra and saves the Certificate ID, and the check signs in with it
(msal's client assertion, PS256 with x5t#S256); Microsoft's recorded refusals read as
the catalogue's certificate diagnoses."""

from __future__ import annotations

import json
from datetime import date

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.actors import Actor
from microsoft_emulator.scenarios import ready_directory
from onboarding import certificates, tasks, vault
from onboarding.models import CertificateDraft, CheckRun, ClientSecret
from onboarding.wizard import services
from tests.onboarding.check_helpers import configure, run_check, steps, through_the_wizard
from tests.recordings import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


def test_a_made_certificate_is_rsa_2048_self_signed_and_named_for_the_tenant():
    made = certificates.make(tenant_name="Acme")
    cert = x509.load_pem_x509_certificate(made.certificate_pem.encode())
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size >= 2048
    assert cert.issuer == cert.subject
    assert "Acme" in cert.subject.rfc4514_string()
    assert made.thumbprint == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert 364 <= (made.not_after - made.not_before).days <= 366
    assert "PRIVATE KEY" in made.private_key_pem
    assert "PRIVATE KEY" not in made.certificate_pem


def test_a_certificate_uploaded_in_entra_signs_the_check_in(
    acme, alice, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    draft = services.create_certificate(acme.app_registration, actor=Actor(user=alice))
    assert bytes(draft.private_key_ciphertext).find(b"PRIVATE KEY") == -1  # only ciphertext
    uploaded = emulated_microsoft.add_certificate(ready.app, draft.certificate_pem)
    with django_capture_on_commit_callbacks(execute=True):
        saved = services.save_certificate(
            draft, certificate_id=uploaded.key_id, actor=Actor(user=alice)
        )
        tasks.enqueue_requested(saved.checks)  # as the view does
    assert not CertificateDraft.objects.exists()
    credential = ClientSecret.objects.get(pk=saved.obj.pk)
    assert credential.is_certificate
    assert credential.thumbprint == draft.thumbprint
    assert "PRIVATE KEY" in credential.reveal()
    # The secret saved before is retired: the certificate replaces it.
    assert ClientSecret.objects.filter(status="retired").count() == 1
    run = CheckRun.objects.filter(mailbox=mailbox).latest("created_at")
    assert run.status == CheckRun.Status.PASSED, run.steps


@pytest.mark.parametrize(
    ("name", "code", "key"),
    [
        ("token_assertion_key_not_found", "AADSTS700027", "certificate_not_uploaded"),
        ("token_assertion_expired", "AADSTS700024", "assertion_time"),
    ],
)
def test_microsofts_recorded_refusal_of_the_assertion_names_the_fix(
    acme, alice, ready, emulated_microsoft, django_capture_on_commit_callbacks, name, code, key
):
    mailbox = configure(acme, ready)
    draft = services.create_certificate(acme.app_registration, actor=Actor(user=alice))
    uploaded = emulated_microsoft.add_certificate(ready.app, draft.certificate_pem)
    services.save_certificate(draft, certificate_id=uploaded.key_id, actor=Actor(user=alice))
    recorded = load(name)
    if recorded.body.startswith("{"):
        recorded.replay_into(emulated_microsoft)
    else:
        # Recorded as the error_description msal4j quoted: served in Microsoft's JSON
        # shape, without error_codes, so the code is read from the message as posted.
        body = {"error": "invalid_client", "error_description": recorded.body}
        emulated_microsoft.replay("token", status=recorded.status, body=json.dumps(body))
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["token"] == ("failed", key)
    assert run.error_code == code


def test_a_certificate_never_uploaded_fails_as_not_uploaded_at_the_emulator(
    acme, alice, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    draft = services.create_certificate(acme.app_registration, actor=Actor(user=alice))
    services.save_certificate(
        draft, certificate_id="5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d", actor=Actor(user=alice)
    )
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["token"] == ("failed", "certificate_not_uploaded")


def test_the_download_is_the_public_certificate_only(client, alice, acme, ready):
    configure(acme, ready)
    through_the_wizard(acme, ready)
    client.force_login(alice)
    assert client.post(f"/onboarding/{acme.pk}/step/4/certificate/").status_code == 302
    draft = CertificateDraft.objects.get()
    response = client.get(f"/onboarding/{acme.pk}/step/4/certificate/{draft.pk}/download/")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in body
    assert vault.reveal(draft, "private_key") not in body
    page = client.get(f"/onboarding/{acme.pk}/step/4/").content.decode()
    assert draft.thumbprint in page
    assert (draft.expires_on - date.today()).days >= 364


def test_another_tenants_admin_cannot_download_or_save_acmes_certificate(
    client, alice, bob, acme, ready
):
    configure(acme, ready)
    draft = services.create_certificate(acme.app_registration, actor=Actor(user=alice))
    client.force_login(bob)
    base = f"/onboarding/{acme.pk}/step/4/certificate/{draft.pk}"
    assert client.get(f"{base}/download/").status_code == 404
    assert client.post(f"{base}/", {"certificate_id": draft.pk}).status_code == 404


def _switch(client, acme, draft, certificate_id, capture):
    with capture(execute=True):
        return client.post(
            f"/onboarding/{acme.pk}/step/4/certificate/{draft.pk}/",
            {"certificate_id": certificate_id},
        )


def test_a_working_secret_stays_until_the_certificate_is_proved(
    client, acme, alice, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    configure(acme, ready)  # its secret is active
    through_the_wizard(acme, ready)
    client.force_login(alice)
    draft = services.create_certificate(acme.app_registration, actor=Actor(user=alice))
    uploaded = emulated_microsoft.add_certificate(ready.app, draft.certificate_pem)
    response = _switch(client, acme, draft, uploaded.key_id, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert "/renew/" in response["Location"]
    credentials = {c.kind: c.status for c in ClientSecret.objects.all()}
    assert credentials == {"certificate": "active", "secret": "retired"}
    # The renewal page tells which Secret ID to delete in Entra.
    page = client.get(response["Location"]).content.decode()
    assert str(ready.secret.key_id) in page


def test_a_certificate_that_fails_its_proof_leaves_the_secret_working(
    client, acme, alice, ready, emulated_microsoft, django_capture_on_commit_callbacks
):
    mailbox = configure(acme, ready)
    through_the_wizard(acme, ready)
    client.force_login(alice)
    draft = services.create_certificate(acme.app_registration, actor=Actor(user=alice))
    # Not uploaded in Entra: Microsoft answers AADSTS700027 to the proving check.
    _switch(
        client,
        acme,
        draft,
        "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        django_capture_on_commit_callbacks,
    )
    credentials = {c.kind: c.status for c in ClientSecret.objects.all()}
    assert credentials == {"certificate": "rejected", "secret": "active"}
    run = run_check(mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    assert run.status == CheckRun.Status.PASSED, run.steps
