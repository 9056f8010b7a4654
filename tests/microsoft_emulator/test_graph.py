"""Microsoft Graph: mail read and send, users, applications, and how tokens are enforced."""

import base64

import pytest

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.conftest import graph_scope


@pytest.fixture
def token(emulator, cca, ready):
    def acquire(ready=ready, scope=None):
        app = cca(ready.app.client_id, ready.secret.value, ready.directory.id)
        return app.acquire_token_for_client(scope or graph_scope(emulator))["access_token"]

    return acquire


def graph(http, emulator, method, path, token, **kwargs):
    headers = {
        "Authorization": f"Bearer {token}",
        "client-request-id": "11111111-0000-0000-0000-000000000000",
    }
    return http.request(method, f"{emulator.graph_url}/v1.0{path}", headers=headers, **kwargs)


def inbox(http, emulator, token, mailbox):
    return graph(
        http,
        emulator,
        "GET",
        f"/users/{mailbox}/mailFolders/inbox/messages",
        token,
        params={"$top": "1", "$select": "id,subject,receivedDateTime"},
    )


def mail_to(address, subject="Test"):
    return {
        "message": {
            "subject": subject,
            "body": {"contentType": "Text", "content": "Hi"},
            "toRecipients": [{"emailAddress": {"address": address}}],
        },
        "saveToSentItems": False,
    }


def test_it_reads_the_newest_inbox_message(emulator, http, ready, token):
    emulator.add_message(ready.mailbox, "Newest")
    response = inbox(http, emulator, token(), ready.mailbox.upn)
    assert response.status_code == 200
    (message,) = response.json()["value"]
    assert message["subject"] == "Newest"
    assert set(message) == {"@odata.etag", "id", "subject", "receivedDateTime"}


def test_it_reads_the_inbox_by_user_id_too(emulator, http, ready, token):
    assert (
        inbox(http, emulator, token(), ready.mailbox.id).json()["value"][0]["subject"] == "Welcome"
    )


def test_it_sends_mail_that_lands_in_an_emulated_inbox(emulator, http, ready, token):
    response = graph(
        http,
        emulator,
        "POST",
        f"/users/{ready.mailbox.upn}/sendMail",
        token(),
        json=mail_to(ready.admin.upn, "Portal test"),
    )
    assert response.status_code == 202
    assert response.content == b""
    assert [m.subject for m in ready.admin.messages] == ["Portal test"]
    assert ready.admin.messages[0].sender == ready.mailbox.upn
    assert ready.mailbox.sent == []  # saveToSentItems false


def test_it_sends_base64_mime(emulator, http, ready, token):
    mime = f"To: {ready.admin.upn}\r\nSubject: MIME test\r\n\r\nBody".encode()
    response = http.post(
        f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}/sendMail",
        data=base64.b64encode(mime),
        headers={"Authorization": f"Bearer {token()}", "Content-Type": "text/plain"},
    )
    assert response.status_code == 202
    assert ready.admin.messages[-1].subject == "MIME test"


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"not base64!!", "text/plain", "ErrorMimeContentInvalidBase64String"),
        (b"", "application/json", "BadRequest"),
        (b'{"message": {"subject": "x"}}', "application/json", "ErrorInvalidRecipients"),
    ],
)
def test_it_refuses_bad_send_bodies(emulator, http, ready, token, body, content_type, code):
    response = http.post(
        f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}/sendMail",
        data=body,
        headers={"Authorization": f"Bearer {token()}", "Content-Type": content_type},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_it_denies_a_token_without_roles_with_error_access_denied(emulator, http, token):
    unconsented = ready_directory(emulator, "Fabrikam", consent=False)
    response = inbox(http, emulator, token(unconsented), unconsented.mailbox.upn)
    error = response.json()["error"]
    assert response.status_code == 403
    assert error["code"] == "ErrorAccessDenied"
    assert error["message"] == "Access is denied. Check credentials and try again."
    assert error["innerError"]["client-request-id"] == "11111111-0000-0000-0000-000000000000"
    assert response.headers["request-id"] == error["innerError"]["request-id"]


def test_it_denies_sending_without_mail_send(emulator, http, token):
    read_only = ready_directory(emulator, "Fabrikam", permissions=("Mail.Read",))
    response = graph(
        http,
        emulator,
        "POST",
        f"/users/{read_only.mailbox.upn}/sendMail",
        token(read_only),
        json=mail_to(read_only.admin.upn),
    )
    assert response.json()["error"]["code"] == "ErrorAccessDenied"
    assert inbox(http, emulator, token(read_only), read_only.mailbox.upn).status_code == 200


def test_it_applies_exchange_access_policies_with_the_raop_message(emulator, http, ready, token):
    emulator.add_access_policy(ready.app, ready.directory, [ready.admin.upn])
    response = inbox(http, emulator, token(), ready.mailbox.upn)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ErrorAccessDenied"
    assert (
        "[RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."
        in response.json()["error"]["message"]
    )
    assert inbox(http, emulator, token(), ready.admin.upn).status_code == 200


def test_it_applies_a_deny_policy_to_the_listed_mailboxes_only(emulator, http, ready, token):
    emulator.add_access_policy(ready.app, ready.directory, [ready.mailbox.upn], mode="DenyAccess")
    assert inbox(http, emulator, token(), ready.mailbox.upn).status_code == 403
    assert inbox(http, emulator, token(), ready.admin.upn).status_code == 200


def test_it_answers_an_unknown_user_with_error_invalid_user(emulator, http, ready, token):
    response = inbox(http, emulator, token(), "ghost@contoso.onmicrosoft.com")
    assert response.status_code == 404
    assert response.json()["error"] == {
        **response.json()["error"],
        "code": "ErrorInvalidUser",
        "message": "The requested user 'ghost@contoso.onmicrosoft.com' is invalid.",
    }


def test_it_refuses_a_personal_mailbox_to_an_app_only_token(emulator, http, ready, token):
    emulator.add_personal_account("someone@outlook.com", "x")
    assert (
        inbox(http, emulator, token(), "someone@outlook.com").json()["error"]["code"]
        == "ErrorInvalidUser"
    )


def test_it_answers_a_user_without_mailbox_with_mailbox_not_enabled(emulator, http, ready, token):
    emulator.update_user(ready.mailbox, mailbox=False)
    response = inbox(http, emulator, token(), ready.mailbox.upn)
    assert response.json()["error"]["code"] == "MailboxNotEnabledForRESTAPI"
    assert response.json()["error"]["message"] == (
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
    )


def test_it_refuses_an_expired_token(emulator, http, ready, token):
    access = token()
    emulator.advance_clock(90 * 60)  # past the longest default lifetime
    response = inbox(http, emulator, access, ready.mailbox.upn)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert (
        response.json()["error"]["message"] == "Lifetime validation failed, the token is expired."
    )


def test_it_refuses_a_token_for_another_audience(emulator, http, ready, token):
    access = token(scope=[f"api://{ready.app.client_id}/.default"])
    response = inbox(http, emulator, access, ready.mailbox.upn)
    assert response.status_code == 401
    assert (
        response.json()["error"]["message"] == "Access token validation failure. Invalid audience."
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "Access token is empty."),
        ("Bearer not.a.token", "Access token validation failure."),
    ],
)
def test_it_refuses_missing_or_forged_tokens(emulator, http, ready, header, message):
    response = http.get(
        f"{emulator.graph_url}/v1.0/users/{ready.mailbox.upn}/messages",
        headers={"Authorization": header},
    )
    assert response.status_code == 401
    assert response.json()["error"]["message"] == message


def test_it_refuses_a_bad_top(emulator, http, ready, token):
    response = graph(
        http, emulator, "GET", f"/users/{ready.mailbox.upn}/messages", token(), params={"$top": "0"}
    )
    assert response.status_code == 400


def test_it_needs_a_directory_role_to_read_users(emulator, http, ready, token):
    assert graph(http, emulator, "GET", f"/users/{ready.mailbox.upn}", token()).json()["error"][
        "code"
    ] == ("Authorization_RequestDenied")
    reader = ready_directory(emulator, "Globex", permissions=("User.Read.All",))
    user = graph(http, emulator, "GET", f"/users/{reader.mailbox.upn}", token(reader)).json()
    assert (user["userPrincipalName"], user["mail"]) == (reader.mailbox.upn, reader.mailbox.upn)
    missing = graph(http, emulator, "GET", "/users/ghost@globex.onmicrosoft.com", token(reader))
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_it_lists_password_credentials_with_application_read_all(emulator, http, token):
    auditor = ready_directory(emulator, "Globex", permissions=("Mail.Read", "Application.Read.All"))
    app_id = auditor.app.client_id
    response = graph(
        http,
        emulator,
        "GET",
        f"/applications(appId='{app_id}')",
        token(auditor),
        params={"$select": "displayName,passwordCredentials"},
    )
    body = response.json()
    (credential,) = body["passwordCredentials"]
    assert body["displayName"] == auditor.app.name
    assert credential["keyId"] == auditor.secret.key_id
    assert credential["hint"] == auditor.secret.value[:3]
    assert credential["secretText"] is None
    assert credential["displayName"] == "Oauth"
    assert credential["endDateTime"].endswith("Z")


def test_it_refuses_applications_without_application_read_all(emulator, http, ready, token):
    response = graph(
        http, emulator, "GET", f"/applications(appId='{ready.app.client_id}')", token()
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_it_refuses_me_to_an_app_only_token(emulator, http, ready, token):
    response = graph(http, emulator, "GET", "/me", token())
    assert response.status_code == 400
    assert "/me request is only valid with delegated authentication flow." in response.text


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_it_serves_delegated_me_messages_and_send_mail(emulator, http, pca):
    delegated = ready_directory(emulator, delegated=("Mail.Read", "Mail.Send", "User.Read"))
    app = pca(delegated.app.client_id, delegated.directory.id)
    scopes = [f"{emulator.graph_url}/{name}" for name in ("Mail.Read", "Mail.Send", "User.Read")]
    access = app.acquire_token_by_username_password(
        delegated.mailbox.upn, "Mailbox-pass-1", scopes
    )["access_token"]
    assert (
        graph(http, emulator, "GET", "/me/messages", access).json()["value"][0]["subject"]
        == "Welcome"
    )
    assert (
        graph(http, emulator, "GET", "/me", access).json()["userPrincipalName"]
        == delegated.mailbox.upn
    )
    sent = graph(
        http, emulator, "POST", "/me/sendMail", access, json=mail_to(delegated.admin.upn, "From me")
    )
    assert sent.status_code == 202
    assert delegated.admin.messages[-1].subject == "From me"
    other = inbox(http, emulator, access, delegated.admin.upn)
    assert other.json()["error"]["code"] == "ErrorAccessDenied"
