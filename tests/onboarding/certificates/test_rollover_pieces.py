"""The parts of the certificate rollover on their own: the proof JWT Graph's addKey
asks for, the Object ID's bad input in step 4, what the Done page says about renewal,
the demo's management command and the timeline's sentences."""

from __future__ import annotations

import base64
import datetime as dt
from datetime import date, timedelta
from io import StringIO

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.core.management import CommandError, call_command

from onboarding import certificates
from onboarding.models import AppRegistration, CertificateRollover, ClientSecret, Tenant
from onboarding.status import renewal_sentence
from onboarding.wizard.forms import CertificateForm
from support.timeline import SENTENCES
from tests.recordings import load

OBJECT_ID = "3c0f5d6e-7a8b-4c9d-8e0f-1a2b3c4d5e6f"


def test_the_proof_is_the_documented_jwt_signed_by_the_current_key():
    made = certificates.make(tenant_name="Acme")
    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    proof = certificates.proof(
        private_key_pem=made.private_key_pem,
        certificate_pem=made.certificate_pem,
        object_id=OBJECT_ID,
        now=now,
    )
    header_and_claims = proof.rpartition(".")[0]
    # Graph refuses '=' padding in the header or payload (graph_addkey_proof_malformed).
    assert "=" not in header_and_claims
    public = x509.load_pem_x509_certificate(made.certificate_pem.encode()).public_key()
    claims = jwt.decode(
        proof,
        public,  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience="00000002-0000-0000-c000-000000000000",
        options={"verify_exp": False, "verify_nbf": False},
    )
    assert claims["iss"] == OBJECT_ID
    assert claims["exp"] - claims["nbf"] == 600  # "exp ... should be nbf + 10 mins"
    assert claims["nbf"] == int(now.timestamp())
    header = jwt.get_unverified_header(proof)
    assert header["alg"] == "RS256"
    assert header["kid"] == made.thumbprint
    sha1 = base64.urlsafe_b64decode(header["x5t"] + "=" * (-len(header["x5t"]) % 4))
    assert sha1.hex().upper() == made.thumbprint
    # The documented statement the proof follows is the recording's.
    assert "00000002-0000-0000-c000-000000000000" in load("graph_addkey_documented").statement


def test_the_key_value_is_the_certificates_der_in_base64():
    made = certificates.make(tenant_name="Acme")
    der = base64.b64decode(certificates.key_value(made.certificate_pem))
    cert = x509.load_der_x509_certificate(der)
    assert cert.fingerprint(hashes.SHA1()).hex().upper() == made.thumbprint


@pytest.fixture
def app(db, acme):
    return AppRegistration.objects.create(
        tenant=acme,
        client_id="11111111-2222-4333-8444-555555555555",
        directory="contoso.onmicrosoft.com",
        directory_id="99999999-8888-4777-8666-555555555555",
    )


def form(app, object_id: str) -> CertificateForm:
    return CertificateForm(
        {"certificate_id": "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "object_id": object_id},
        app=app,
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("not-a-guid", "The Object ID is 32 letters and digits in five groups"),
        ("11111111-2222-4333-8444-555555555555", "This is the Application (client) ID"),
        ("99999999-8888-4777-8666-555555555555", "This is the Directory (tenant) ID"),
        ("{" + OBJECT_ID.upper() + "}x", "The Object ID is 32 letters"),
    ],
)
def test_a_wrong_object_id_is_named(app, value, words):
    bound = form(app, value)
    assert not bound.is_valid()
    assert words in " ".join(str(error) for error in bound.errors["object_id"])


def test_the_object_id_is_optional_and_read_as_entra_shows_it(app):
    assert form(app, "").is_valid()
    bound = form(app, " {" + OBJECT_ID.upper() + "} ")
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["object_id"] == OBJECT_ID


def test_a_known_object_id_fills_the_field(app):
    AppRegistration.objects.filter(pk=app.pk).update(object_id=OBJECT_ID)
    app.refresh_from_db()
    assert CertificateForm(app=app)["object_id"].value() == OBJECT_ID


@pytest.fixture
def credential(app):
    made = certificates.make(tenant_name="Acme")
    row = ClientSecret(
        app=app,
        secret_id="5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        expires_on=date(2027, 6, 30),
        status=ClientSecret.Status.ACTIVE,
    )
    row.save()
    row.set_private_key(
        made.private_key_pem, certificate_pem=made.certificate_pem, thumbprint=made.thumbprint
    )
    row.save()
    return row


def test_the_done_page_says_how_the_certificate_is_renewed(credential, settings):
    assert "needs the app's Object ID" in renewal_sentence(credential)
    AppRegistration.objects.filter(pk=credential.app_id).update(object_id=OBJECT_ID)
    credential.app.refresh_from_db()
    assert renewal_sentence(credential) == (
        "The portal renews it by itself from 31 May 2027: nothing to do."
    )
    rollover = CertificateRollover.objects.create(
        app=credential.app, old=credential, stage=CertificateRollover.Stage.KEY_ADDED
    )
    assert renewal_sentence(credential) == (
        "The portal is renewing it now: new certificate added in entra."
    )
    CertificateRollover.objects.filter(pk=rollover.pk).update(
        stage=CertificateRollover.Stage.FAILED, diagnosis_key="rollover_proof_refused"
    )
    sentence = renewal_sentence(credential)
    assert "Automatic renewal stopped (Entra refused the portal's proof" in sentence
    assert "you will be reminded" in sentence
    settings.PORTAL_CERTIFICATE_ROLLOVER_DAYS = 0
    assert renewal_sentence(credential).startswith("Automatic renewal is turned off")


def test_a_client_secret_has_no_renewal_sentence(app):
    secret = ClientSecret(
        app=app, secret_id="5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d", expires_on=date(2027, 1, 1)
    )
    secret.set_value("abc~secret")
    assert renewal_sentence(secret) == ""


def test_the_demo_command_moves_the_expiry_inside_the_lead_time(credential, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    tenant = Tenant.objects.get(pk=credential.app.tenant_id)
    with pytest.raises(CommandError, match="no Object ID"):
        call_command("certificate_expiry", tenant.name)
    AppRegistration.objects.filter(pk=credential.app_id).update(object_id=OBJECT_ID)
    out = StringIO()
    call_command("certificate_expiry", tenant.name, "--in-days", "12", stdout=out)
    credential.refresh_from_db()
    assert credential.expires_on == tenant.local_today() + timedelta(days=12)
    assert "the rollover lead time is 30 days" in out.getvalue()
    assert CertificateRollover.objects.filter(old=credential).exists()


def test_the_demo_command_names_a_tenant_it_cannot_find(db):
    with pytest.raises(CommandError, match="No tenant is called"):
        call_command("certificate_expiry", "Nobody Ltd")


@pytest.mark.parametrize(
    "action",
    [
        "certificate.rollover_started",
        "certificate.rollover_key_made",
        "certificate.rollover_key_added",
        "certificate.rollover_proving",
        "certificate.rollover_switched",
        "certificate.rollover_retrying",
        "certificate.rollover_done",
        "certificate.rollover_failed",
        "certificate.expiry_moved",
        "app_registration.object_id_saved",
    ],
)
def test_every_rollover_event_reads_as_a_sentence_in_the_timeline(action):
    kind, sentence = SENTENCES[action]
    assert sentence({}).strip()
    assert kind in ("secret", "setup", "support")


def test_a_failed_rollover_reads_with_its_diagnosis():
    failed = SENTENCES["certificate.rollover_failed"][1]({"diagnosis": "rollover_gave_up"})
    assert failed == (
        "Certificate renewal stopped: Microsoft did not answer the certificate renewal "
        "(the certificate in use keeps working)"
    )
