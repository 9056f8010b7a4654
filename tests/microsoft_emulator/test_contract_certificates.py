"""Certificate credentials held to Microsoft's recorded answers: uploading a certificate
in the admin center (tests/recordings/entra_upload_certificate), client assertions at the
token endpoint (token_assertion_*.json), and Graph's addKey/removeKey with a proof of
possession (graph_addkey_*.json, graph_removekey_documented)."""

from __future__ import annotations

import base64
import datetime
import re
import uuid

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from microsoft_emulator import certificates
from microsoft_emulator.scenarios import ready_directory
from microsoft_emulator.state import state_from_plain, to_plain
from tests.microsoft_emulator.conftest import claims, csrf, graph_scope, sign_in
from tests.recordings import load

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ENTRA_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z")
KEY_TIME = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}")
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
THUMBPRINT = re.compile(r"'[0-9A-F]{40}'")
DAY = datetime.timedelta(days=1)


class SelfSigned:
    """A key pair and a self-signed certificate for it, as New-SelfSignedCertificate or
    openssl would make one."""

    def __init__(self, name: str = "operations-app", *, start: float = -1, days: float = 365):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + start * DAY)
            .not_valid_after(now + days * DAY)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def sha1(self) -> str:
        return self.cert.fingerprint(hashes.SHA1()).hex().upper()

    @property
    def x5t(self) -> str:
        return base64.urlsafe_b64encode(bytes.fromhex(self.sha1)).rstrip(b"=").decode()

    def sign(self, payload: dict, *, header: dict | None = None, key=None) -> str:
        return jwt.encode(
            payload,
            key or self.key,
            algorithm="RS256",
            headers=header if header is not None else {"x5t": self.x5t},
        )


@pytest.fixture
def contoso(emulator):
    return ready_directory(emulator, delegated=("Mail.Read",))


@pytest.fixture
def certificate(emulator, contoso):
    cert = SelfSigned()
    emulator.add_certificate(contoso.app, cert.pem, display_name="ops")
    return cert


def token_url(emulator, ready) -> str:
    return f"{emulator.login_url}/{ready.directory.id}/oauth2/v2.0/token"


def assertion_claims(emulator, ready, **changes) -> dict:
    now = int(datetime.datetime.now(datetime.UTC).timestamp())
    client_id = ready.app.client_id
    base = {
        "aud": token_url(emulator, ready),
        "iss": client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "exp": now + 600,
    }
    return {**base, **changes}


def redeem(http, emulator, ready, assertion: str):
    """client_credentials with a client assertion, as msal sends it."""
    return http.post(
        token_url(emulator, ready),
        data={
            "client_id": ready.app.client_id,
            "grant_type": "client_credentials",
            "scope": graph_scope(emulator)[0],
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )


def message(text: str) -> str:
    """An AADSTS message without its code and without Entra's trace trailer."""
    text = re.sub(r"^.*?AADSTS\d+: ", "", text, flags=re.S)
    return re.split(r"\s*(?:\r\n)?Trace ID:|\]\. T$", text)[0].strip()


# --- the token endpoint ----------------------------------------------------------------
def test_msal_signs_with_a_sha1_thumbprint_and_gets_an_app_token(emulator, cca, contoso):
    # x5t and RS256, as msal sends for {"thumbprint": ...} (token_assertion_format).
    cert = SelfSigned()
    emulator.add_certificate(contoso.app, cert.der)  # a .cer in DER works as a PEM does
    credential = {"private_key": cert.key_pem, "thumbprint": cert.sha1}
    app = cca(contoso.app.client_id, credential, contoso.directory.id)
    result = app.acquire_token_for_client(graph_scope(emulator))
    assert claims(result["access_token"])["appidacr"] == "2", result


def test_msal_signs_ps256_with_x5t_s256_from_the_certificate(emulator, cca, contoso, certificate):
    # msal 1.39 has no "thumbprint_sha256" key: given the certificate it sends x5t#S256
    # and PS256, as certificate-credentials.md recommends.
    credential = {"private_key": certificate.key_pem, "public_certificate": certificate.pem}
    app = cca(contoso.app.client_id, credential, contoso.directory.id)
    result = app.acquire_token_for_client(graph_scope(emulator))
    assert claims(result["access_token"])["appidacr"] == "2", result


def test_a_certificate_works_wherever_a_secret_does(emulator, cca, contoso, certificate):
    # "anywhere a client secret could be used" (token_assertion_format): the password
    # grant and the refresh token here; the authorization code goes the same way.
    credential = {"private_key": certificate.key_pem, "thumbprint": certificate.sha1}
    app = cca(contoso.app.client_id, credential, contoso.directory.id)
    scopes = [f"{emulator.graph_url}/Mail.Read"]
    first = app.acquire_token_by_username_password(
        contoso.mailbox.upn, "Mailbox-pass-1", scopes=scopes
    )
    assert claims(first["access_token"])["appidacr"] == "2", first
    again = app.acquire_token_by_refresh_token(first["refresh_token"], scopes=scopes)
    assert claims(again["access_token"])["appidacr"] == "2", again


def test_an_unregistered_certificate_gets_entras_700027(emulator, cca, contoso):
    recording = load("token_assertion_key_not_found_thumbprint")
    stranger = SelfSigned("stranger")
    credential = {"private_key": stranger.key_pem, "thumbprint": stranger.sha1}
    app = cca(contoso.app.client_id, credential, contoso.directory.id)
    result = app.acquire_token_for_client(graph_scope(emulator))
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]
    ours = message(result["error_description"])
    theirs = message(recording.body).replace("<thumbprint>", stranger.sha1)
    assert ours.startswith(theirs.replace("<1pappId>", contoso.app.client_id))


def test_a_header_without_a_thumbprint_gets_the_bracket_without_one(emulator, http, contoso):
    recording = load("token_assertion_key_not_found")
    stranger = SelfSigned("stranger")
    assertion = stranger.sign(assertion_claims(emulator, contoso), header={"kid": "mine"})
    response = redeem(http, emulator, contoso, assertion)
    expected = recording.json()
    assert response.status_code == recording.status
    body = response.json()
    assert (body["error"], body["error_codes"]) == ("invalid_client", [700027])
    # The reporter masked the app ID two ways (see the recording's notes).
    theirs = message(expected["error_description"])
    for masked in ("asdfghjk-e4e5-4056-9978-232728290ac", "bbbda549-e4e5-40f9-9945-2327de4f0dac"):
        theirs = theirs.replace(masked, contoso.app.client_id)
    assert message(body["error_description"]) == theirs
    assert body["error_uri"] == expected["error_uri"].replace(
        "https://login.microsoftonline.com", emulator.login_url
    )


def test_a_bad_signature_names_the_key_found(emulator, http, contoso, certificate):
    recording = load("token_assertion_bad_signature")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = redeem(
        http, emulator, contoso, certificate.sign(assertion_claims(emulator, contoso), key=forger)
    )
    body = response.json()
    assert (response.status_code, body["error_codes"]) == (401, [700027])
    ours = message(body["error_description"])
    assert ours.startswith("Client assertion contains an invalid signature. [Reason - ")
    bracket = ours[ours.index("[") :]
    theirs = recording.body[recording.body.index("[") :].removesuffix(" T")
    theirs = KEY_TIME.sub("<time>", GUID.sub(contoso.app.client_id, theirs))
    assert KEY_TIME.sub("<time>", bracket) == THUMBPRINT.sub(f"'{certificate.sha1}'", theirs)


def test_an_expired_assertion_gets_700024_in_entras_words(emulator, http, contoso, certificate):
    recording = load("token_assertion_expired")
    assertion = certificate.sign(assertion_claims(emulator, contoso))
    emulator.advance_clock(600 + certificates.CLOCK_SKEW.total_seconds() + 1)
    response = redeem(http, emulator, contoso, assertion)
    body = response.json()
    assert (response.status_code, body["error"]) == (recording.status, "invalid_client")
    assert body["error_codes"] == [700024]
    ours, theirs = message(body["error_description"]), message(recording.body)
    assert ENTRA_TIME.sub("<time>", ours) == ENTRA_TIME.sub("<time>", theirs)
    assert len(ENTRA_TIME.findall(ours)) == 3


def test_it_allows_five_minutes_of_clock_skew(emulator, http, contoso, certificate):
    late = certificate.sign(assertion_claims(emulator, contoso))
    emulator.advance_clock(600 + 240)
    assert redeem(http, emulator, contoso, late).status_code == 200
    now = int(emulator.store.now().timestamp())
    early = assertion_claims(emulator, contoso, nbf=now + 400, exp=now + 900)
    refused = redeem(http, emulator, contoso, certificate.sign(early))
    assert refused.json()["error_codes"] == [700024]
    assert "assertion valid from 1970" not in refused.json()["error_description"]


def test_an_assertion_may_be_sent_again_within_its_lifetime(emulator, http, contoso, certificate):
    # msal reuses one for nine minutes (token_assertion_reused): no single-use jti.
    assert "reuse the client assertion" in load("token_assertion_reused").statement
    assertion = certificate.sign(assertion_claims(emulator, contoso))
    assert redeem(http, emulator, contoso, assertion).status_code == 200
    assert redeem(http, emulator, contoso, assertion).status_code == 200


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"aud": "https://login.microsoftonline.com/common/oauth2/v2.0/token"}, 700023),
        ({"iss": "00000000-0000-0000-0000-000000000001"}, 700021),
        ({"sub": "00000000-0000-0000-0000-000000000001"}, 700021),
    ],
)
def test_wrong_claims_get_the_documented_codes(emulator, http, contoso, certificate, changes, code):
    documented = load("token_assertion_errors_documented").statement
    assertion = certificate.sign(assertion_claims(emulator, contoso, **changes))
    body = redeem(http, emulator, contoso, assertion).json()
    assert body["error_codes"] == [code]
    row = next(line for line in documented.splitlines() if line.startswith(f"|AADSTS{code}|"))
    assert f"| {message(body['error_description'])} |" in row


def test_the_v1_token_endpoint_is_an_accepted_audience(emulator, http, contoso, certificate):
    v1 = token_url(emulator, contoso).replace("/oauth2/v2.0/token", "/oauth2/token")
    assertion = certificate.sign(assertion_claims(emulator, contoso, aud=v1))
    assert redeem(http, emulator, contoso, assertion).status_code == 200


def test_something_that_is_not_a_jwt_gets_50027(emulator, http, contoso):
    body = redeem(http, emulator, contoso, "not-a-jwt").json()
    assert body["error_codes"] == [50027]
    assert (
        "JWT token is invalid or malformed." in load("token_assertion_errors_documented").statement
    )
    assert message(body["error_description"]) == "JWT token is invalid or malformed."


def test_an_expired_certificate_is_a_key_not_found(emulator, http, contoso):
    old = SelfSigned("old", start=-400, days=-1)
    emulator.add_certificate(contoso.app, old.pem)
    body = redeem(http, emulator, contoso, old.sign(assertion_claims(emulator, contoso))).json()
    assert body["error_codes"] == [700027]
    assert "[Reason - The key was not found., " in body["error_description"]


# --- the admin center ------------------------------------------------------------------
@pytest.fixture
def admin(emulator, http, contoso):
    sign_in(http, http.get(f"{emulator.base_url}/entra/"), contoso.admin.upn, "Admin-pass-1")
    return http


def credentials_url(emulator, ready) -> str:
    return f"{emulator.base_url}/entra/apps/{ready.app.client_id}/credentials"


def upload(admin, emulator, ready, content: bytes, name: str = "ops.cer", description=""):
    page = admin.get(credentials_url(emulator, ready))
    return admin.post(
        f"{credentials_url(emulator, ready)}/certificate",
        data={"csrf": csrf(page.text), "description": description},
        files={"certificate": (name, content)},
        allow_redirects=False,
    )


def test_the_certificates_section_has_entras_labels(emulator, admin, contoso):
    statement = load("entra_upload_certificate").statement.splitlines()
    page = admin.get(credentials_url(emulator, contoso)).text
    assert ">Upload certificate<" in page
    assert f">{statement[-1]}</label>" in page
    assert 'accept=".cer,.pem,.crt"' in page
    for column in ("Thumbprint", "Description", "Start date", "Expires", "Certificate ID"):
        assert f'<th scope="col">{column}</th>' in page


def test_an_uploaded_certificate_is_listed_with_its_thumbprint(emulator, admin, contoso):
    cert = SelfSigned()
    uploaded = upload(admin, emulator, contoso, cert.pem.encode(), "ops.pem")
    assert uploaded.status_code == 302, uploaded.text
    (entry,) = contoso.app.key_credentials
    assert (entry.thumbprint, entry.display_name) == (cert.sha1, "CN=operations-app")
    assert (entry.type, entry.usage) == ("AsymmetricX509Cert", "Verify")
    assert entry.thumbprint_sha256 == cert.cert.fingerprint(hashes.SHA256()).hex().upper()
    assert entry.start == cert.cert.not_valid_before_utc.replace(microsecond=0)
    page = admin.get(credentials_url(emulator, contoso)).text
    assert f'data-testid="certificate-thumbprint">{cert.sha1}<' in page
    assert entry.start.strftime("%-m/%-d/%Y") in page
    assert upload(admin, emulator, contoso, cert.der, description="again").status_code == 400


@pytest.mark.parametrize(
    ("content", "refusal"),
    [
        ("key", certificates.PRIVATE_KEY),
        ("junk", certificates.NOT_A_CERTIFICATE),
    ],
)
def test_it_refuses_what_entra_refuses(emulator, admin, contoso, content, refusal):
    cert = SelfSigned()
    data = {"key": (cert.key_pem + cert.pem).encode(), "junk": b"not a certificate"}[content]
    response = upload(admin, emulator, contoso, data)
    assert response.status_code == 400
    assert refusal.replace("'", "&#39;") in response.text
    assert contoso.app.key_credentials == []


def test_deleting_a_certificate_removes_it(emulator, admin, contoso, certificate):
    (entry,) = contoso.app.key_credentials
    page = admin.get(credentials_url(emulator, contoso))
    admin.post(
        f"{credentials_url(emulator, contoso)}/{entry.key_id}/delete",
        data={"csrf": csrf(page.text)},
    )
    assert contoso.app.key_credentials == []


def test_key_credentials_are_kept_in_the_state_file(emulator, contoso, certificate):
    plain = to_plain(emulator.state)
    (app,) = plain["apps"]
    (saved,) = app["key_credentials"]
    assert saved["thumbprint"] == certificate.sha1
    assert saved["usage"] == "Verify"
    restored = state_from_plain(plain)
    assert restored.apps[0].certificates[0].pem == contoso.app.key_credentials[0].pem
    # A file from before the rename, without the SHA-256 thumbprint, still loads.
    saved.pop("thumbprint_sha256")
    app["certificates"] = app.pop("key_credentials")
    (old,) = state_from_plain(plain).apps[0].key_credentials
    assert old.thumbprint_sha256 == contoso.app.key_credentials[0].thumbprint_sha256


def test_the_control_api_uploads_a_certificate(emulator, http, contoso):
    cert = SelfSigned()
    url = f"{emulator.base_url}/_emulator/apps/{contoso.app.client_id}/certificates"
    response = http.post(url, json={"certificate": base64.b64encode(cert.der).decode()})
    assert response.status_code == 201, response.text
    assert response.json()["thumbprint"] == cert.sha1
    refused = http.post(url, json={"certificate": cert.key_pem})
    assert refused.status_code == 400


# --- Graph addKey and removeKey --------------------------------------------------------
@pytest.fixture
def app_token(emulator, cca, contoso, certificate):
    """The app's own token, got with its certificate."""
    credential = {"private_key": certificate.key_pem, "thumbprint": certificate.sha1}
    app = cca(contoso.app.client_id, credential, contoso.directory.id)
    return app.acquire_token_for_client(graph_scope(emulator))["access_token"]


def proof(ready, cert: SelfSigned, **changes) -> str:
    now = int(datetime.datetime.now(datetime.UTC).timestamp())
    payload = {
        "aud": "00000002-0000-0000-c000-000000000000",
        "iss": ready.app.object_id,
        "nbf": now,
        "exp": now + 600,
        **changes,
    }
    # As .NET's X509SigningCredentials writes it (application-rollkey-prooftoken.md).
    return cert.sign(payload, header={"kid": cert.sha1, "x5t": cert.x5t})


def graph(http, emulator, path, token, body):
    return http.post(
        f"{emulator.graph_url}/v1.0{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "client-request-id": str(uuid.uuid4())},
    )


def add_key(http, emulator, ready, token, new: SelfSigned, the_proof: str):
    body = {
        "keyCredential": {
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "key": base64.b64encode(new.der).decode(),
        },
        "passwordCredential": None,
        "proof": the_proof,
    }
    return graph(http, emulator, f"/applications/{ready.app.object_id}/addKey", token, body)


def test_an_app_rolls_its_own_certificate(emulator, http, cca, contoso, certificate, app_token):
    assert "does not need any specific permission" in load("graph_addkey_documented").statement
    new = SelfSigned("operations-app-2026")
    response = add_key(http, emulator, contoso, app_token, new, proof(contoso, certificate))
    assert response.status_code == 200, response.text
    added = response.json()
    assert added["@odata.context"].endswith("/v1.0/$metadata#microsoft.graph.keyCredential")
    assert (added["type"], added["usage"], added["key"]) == ("AsymmetricX509Cert", "Verify", None)
    assert added["customKeyIdentifier"] == new.sha1
    assert added["displayName"] == "CN=operations-app-2026"
    # The new certificate signs in; the old one still does until it is removed.
    credential = {"private_key": new.key_pem, "thumbprint": new.sha1}
    result = cca(contoso.app.client_id, credential, contoso.directory.id).acquire_token_for_client(
        graph_scope(emulator)
    )
    assert "access_token" in result, result
    old_id = next(c.key_id for c in contoso.app.key_credentials if c.thumbprint != new.sha1)
    removal = graph(
        http,
        emulator,
        f"/applications(appId='{contoso.app.client_id}')/removeKey",
        app_token,
        {"keyId": old_id, "proof": proof(contoso, new)},
    )
    assert removal.status_code == 204, removal.text  # graph_removekey_documented
    assert [c.thumbprint for c in contoso.app.key_credentials] == [new.sha1]


@pytest.mark.parametrize(
    "problem",
    ["graph_aud", "iss_client_id", "too_long", "expired", "unknown_key", "padded"],
)
def test_a_proof_graph_does_not_accept_gets_its_401(
    emulator, http, contoso, certificate, app_token, problem
):
    recording = load("graph_addkey_proof_malformed")
    now = int(datetime.datetime.now(datetime.UTC).timestamp())
    bad = {
        "graph_aud": lambda: proof(
            contoso, certificate, aud="00000003-0000-0000-c000-000000000000"
        ),
        "iss_client_id": lambda: proof(contoso, certificate, iss=contoso.app.client_id),
        "too_long": lambda: proof(contoso, certificate, exp=now + 3600),
        "expired": lambda: proof(contoso, certificate, nbf=now - 1800, exp=now - 1200),
        "unknown_key": lambda: proof(contoso, SelfSigned("stranger")),
        "padded": lambda: _padded(proof(contoso, certificate)),
    }[problem]()
    response = add_key(http, emulator, contoso, app_token, SelfSigned(), bad)
    expected = recording.json()["error"]
    assert response.status_code == recording.status
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (expected["code"], expected["message"])
    assert set(error["innerError"]) == set(expected["innerError"])
    assert len(contoso.app.key_credentials) == 1


def _padded(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}==.{payload}.{signature}"


def test_addkey_without_a_proof_is_insufficient_privileges(
    emulator, http, contoso, certificate, app_token
):
    statement = load("graph_addkey_without_proof").statement
    response = add_key(http, emulator, contoso, app_token, SelfSigned(), "")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert f'"{error["message"]}"' in statement


def test_another_apps_token_may_not_roll_the_keys(emulator, http, cca, contoso, certificate):
    other = ready_directory(emulator, "Contoso Two")
    # Same directory is what matters: the other app lives in its own, so its token
    # does not see this app at all.
    token = cca(other.app.client_id, other.secret.value, other.directory.id)
    response = add_key(
        http,
        emulator,
        contoso,
        token.acquire_token_for_client(graph_scope(emulator))["access_token"],
        SelfSigned(),
        proof(contoso, certificate),
    )
    assert response.status_code == 404
    neighbour = emulator.register_app(contoso.directory, "Neighbour", permissions=["Mail.Read"])
    secret = emulator.add_secret(neighbour)
    emulator.grant_admin_consent(neighbour, contoso.directory)
    token = cca(neighbour.client_id, secret.value, contoso.directory.id)
    response = add_key(
        http,
        emulator,
        contoso,
        token.acquire_token_for_client(graph_scope(emulator))["access_token"],
        SelfSigned(),
        proof(contoso, certificate),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_an_app_finds_its_object_id_by_its_app_id(emulator, http, cca):
    auditor = ready_directory(emulator, "Globex", permissions=("Mail.Read", "Application.Read.All"))
    app = cca(auditor.app.client_id, auditor.secret.value, auditor.directory.id)
    token = app.acquire_token_for_client(graph_scope(emulator))["access_token"]
    response = http.get(
        f"{emulator.graph_url}/v1.0/applications",
        params={"$filter": f"appId eq '{auditor.app.client_id}'", "$select": "id,appId"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    (found,) = response.json()["value"]
    assert found == {"id": auditor.app.object_id, "appId": auditor.app.client_id}
    single = http.get(
        f"{emulator.graph_url}/v1.0/applications(appId='{auditor.app.client_id}')",
        params={"$select": "id"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert single.json()["id"] == auditor.app.object_id
