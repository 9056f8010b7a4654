"""onboarding.microsoft against the emulator: real msal, real HTTPS, the portal's settings."""

import threading

import pytest

from microsoft_emulator.scenarios import ready_directory
from onboarding import microsoft
from onboarding.microsoft import MicrosoftError, http

pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")


@pytest.fixture
def ready(emulated_microsoft):
    return ready_directory(emulated_microsoft)


def app_token(ready, secret=None, directory=None):
    return microsoft.acquire_app_token(
        directory=directory or ready.directory.id,
        client_id=ready.app.client_id,
        client_secret=secret or ready.secret.value,
    )


def failure(call, *args, **kwargs) -> MicrosoftError:
    with pytest.raises(MicrosoftError) as raised:
        call(*args, **kwargs)
    return raised.value


# --- directory and consent URL ---------------------------------------------------


def test_it_resolves_a_directory_by_guid_and_by_domain(ready):
    assert microsoft.discover_directory(ready.directory.id) == ready.directory.id
    assert microsoft.discover_directory("contoso.onmicrosoft.com") == ready.directory.id


def test_it_reports_an_unknown_directory_as_aadsts90002(ready):
    error = failure(microsoft.discover_directory, "nobody.example.com")
    assert (error.code, error.status, error.transient) == ("AADSTS90002", 400, False)
    assert error.message.startswith("AADSTS90002: Tenant 'nobody.example.com' not found.")
    assert error.correlation_id


@pytest.mark.parametrize("directory", ["contoso", "a/b", "../x", "", "x y", "a?b=c"])
def test_it_reports_a_malformed_directory_as_aadsts900023(emulated_microsoft, directory):
    assert failure(microsoft.discover_directory, directory).code == "AADSTS900023"


def test_it_never_sends_a_malformed_directory(emulated_microsoft):
    failure(microsoft.discover_directory, "a/../b")
    assert emulated_microsoft.counters()["requests"] == {}


def test_it_reports_an_unreachable_microsoft_as_transient(settings):
    settings.MICROSOFT_LOGIN_URL = "https://127.0.0.1:9"
    microsoft.forget_clients()
    error = failure(microsoft.discover_directory, "contoso.onmicrosoft.com")
    assert (error.code, error.transient) == ("unreachable", True)
    assert "127.0.0.1:9" in error.message


def test_it_reports_a_discovery_outage_as_a_transient_http_error(emulated_microsoft, ready):
    emulated_microsoft.set_fault("discovery", error_share=1.0, error_status=503)
    error = failure(microsoft.discover_directory, ready.directory.id)
    assert (error.code, error.status, error.transient) == ("http_503", 503, True)


def test_it_builds_the_v2_admin_consent_url(emulated_microsoft):
    url = microsoft.admin_consent_url(
        directory="contoso.onmicrosoft.com",
        client_id="11111111-2222-4333-8444-555555555555",
        redirect_uri="https://portal.example/onboarding/consent/callback",
        state="abc",
    )
    assert url == (
        f"{emulated_microsoft.login_url}/contoso.onmicrosoft.com/v2.0/adminconsent"
        "?client_id=11111111-2222-4333-8444-555555555555"
        f"&scope=https%3A%2F%2F127.0.0.1%3A{emulated_microsoft.port}%2Fgraph%2F.default"
        "&redirect_uri=https%3A%2F%2Fportal.example%2Fonboarding%2Fconsent%2Fcallback&state=abc"
    )


def test_it_uses_the_real_cloud_hosts_when_configured(settings):
    settings.MICROSOFT_LOGIN_URL = "https://login.microsoftonline.com"
    settings.MICROSOFT_GRAPH_URL = "https://graph.microsoft.com"
    url = microsoft.admin_consent_url(
        directory="contoso.com", client_id="c", redirect_uri="https://p/cb", state="s"
    )
    assert url.startswith(
        "https://login.microsoftonline.com/contoso.com/v2.0/adminconsent?client_id=c"
    )
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in url


def test_it_refuses_a_malformed_directory_in_the_consent_url(emulated_microsoft):
    with pytest.raises(MicrosoftError, match="AADSTS900023"):
        microsoft.admin_consent_url(
            directory="x/y", client_id="c", redirect_uri="https://p", state="s"
        )


# --- app-only tokens --------------------------------------------------------------


def test_it_acquires_an_app_token_and_reads_its_roles(ready):
    token = app_token(ready)
    assert token.roles == {"Mail.Read", "Mail.Send"}
    assert 60 * 60 <= token.expires_in < 90 * 60  # Microsoft draws it at random
    assert not token.from_cache
    assert ready.secret.value not in repr(token)


def test_it_reuses_one_msal_app_so_the_token_comes_from_its_cache(emulated_microsoft, ready):
    first = app_token(ready)
    second = app_token(ready)
    assert second.from_cache
    assert second.access_token == first.access_token
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id: 1}
    assert emulated_microsoft.counters()["requests"]["discovery"] == 1


def test_threads_share_one_app_and_one_token_per_credential(emulated_microsoft, ready):
    # A slow discovery and token endpoint: without the locks, every thread would build
    # its own msal app (a discovery each) and ask for its own token.
    emulated_microsoft.set_fault("discovery", latency_ms=200)
    emulated_microsoft.set_fault("token", latency_ms=200)
    barrier = threading.Barrier(8)
    tokens: list[str] = []

    def acquire() -> None:
        barrier.wait()
        tokens.append(app_token(ready).access_token)

    threads = [threading.Thread(target=acquire) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 8
    assert len(set(tokens)) == 1
    counters = emulated_microsoft.counters()
    assert counters["requests"]["discovery"] == 1
    assert counters["token_requests"] == {ready.app.client_id: 1}


def test_it_keeps_a_separate_app_per_secret(emulated_microsoft, ready):
    app_token(ready)
    app_token(ready, secret=emulated_microsoft.add_secret(ready.app).value)
    assert emulated_microsoft.counters()["token_requests"] == {ready.app.client_id: 2}


def test_it_acquires_a_token_without_roles_before_consent(emulated_microsoft):
    unconsented = ready_directory(emulated_microsoft, "Fabrikam", consent=False)
    assert app_token(unconsented).roles == frozenset()


def test_it_reports_a_wrong_secret_without_repeating_it(ready):
    wrong = "xyz8Q~" + "w" * 34
    error = failure(app_token, ready, secret=wrong)
    assert (error.code, error.status, error.transient) == ("AADSTS7000215", 401, False)
    assert "not the client secret ID" in error.message
    assert "Trace ID" not in error.message
    assert error.correlation_id
    for text in (str(error), repr(error), error.message):
        assert wrong not in text


def test_it_reports_the_secret_id_pasted_as_the_value(ready):
    error = failure(app_token, ready, secret=ready.secret.key_id)
    assert error.code == "AADSTS7000215"
    assert ready.secret.key_id not in str(error)


def test_it_reports_an_expired_secret(emulated_microsoft, ready):
    expired = emulated_microsoft.add_secret(ready.app, days=-1)
    assert failure(app_token, ready, secret=expired.value).code == "AADSTS7000222"


def test_it_reports_an_app_missing_from_the_directory(emulated_microsoft, ready):
    other = emulated_microsoft.add_directory("Globex", "globex.onmicrosoft.com")
    assert failure(app_token, ready, directory=other.id).code == "AADSTS700016"


def test_it_reports_an_unknown_directory_when_acquiring_a_token(ready):
    error = failure(app_token, ready, directory="nobody.example.com")
    assert error.code == "AADSTS90002"


def test_it_reports_throttling_with_retry_after(emulated_microsoft, ready):
    emulated_microsoft.set_fault("token", throttle_share=1.0, retry_after=12)
    error = failure(app_token, ready)
    assert (error.code, error.status, error.transient, error.retry_after) == (
        "http_429",
        429,
        True,
        12.0,
    )


def test_it_reports_a_token_outage_as_transient(emulated_microsoft, ready):
    emulated_microsoft.set_fault("token", error_share=1.0, error_status=500)
    error = failure(app_token, ready)
    assert (error.code, error.status, error.transient) == ("http_500", 500, True)


def test_it_reads_roles_from_a_token_without_trusting_it():
    assert microsoft.token_roles("not-a-token") == frozenset()


# --- delegated password sign-in ---------------------------------------------------


@pytest.fixture
def delegated(emulated_microsoft):
    return ready_directory(emulated_microsoft, "Northwind", delegated=("Mail.Read", "Mail.Send"))


def password_sign_in(ready, password="Mailbox-pass-1", username=None):
    return microsoft.sign_in_with_password(
        directory=ready.directory.id,
        client_id=ready.app.client_id,
        username=username or ready.mailbox.upn,
        password=password,
    )


def test_it_signs_in_with_the_mailbox_password(emulated_microsoft, delegated):
    token = password_sign_in(delegated)
    assert token.scopes == {"Mail.Read"}
    assert token.username == delegated.mailbox.upn
    assert "Mailbox-pass-1" not in repr(token)
    # The portal's user-realm lookup, then msal's, which reached the emulator although
    # msal dropped its port.
    assert emulated_microsoft.counters()["requests"]["userrealm"] == 2


def test_it_reports_a_wrong_mailbox_password(delegated):
    error = failure(password_sign_in, delegated, password="wrong-password")
    assert (error.code, error.status) == ("AADSTS50126", 400)
    assert "wrong-password" not in str(error)


def test_it_reports_mfa(emulated_microsoft, delegated):
    emulated_microsoft.update_user(delegated.mailbox, mfa_required=True)
    assert failure(password_sign_in, delegated).code == "AADSTS50076"


def test_it_reports_missing_delegated_consent(ready):
    assert failure(password_sign_in, ready).code == "AADSTS65001"


def test_it_reports_public_client_flows_switched_off(emulated_microsoft, delegated):
    emulated_microsoft.update_app(delegated.app, public_client=False)
    assert failure(password_sign_in, delegated).code == "AADSTS7000218"


def test_it_reports_a_personal_account(emulated_microsoft, delegated):
    emulated_microsoft.add_personal_account("someone@outlook.com", "Personal-pass-1")
    error = failure(
        password_sign_in, delegated, password="Personal-pass-1", username="someone@outlook.com"
    )
    assert error.code == "personal_account"


# --- Graph ------------------------------------------------------------------------


def test_it_reads_the_newest_inbox_message(emulated_microsoft, ready):
    emulated_microsoft.add_message(ready.mailbox, "Newest")
    message = microsoft.read_inbox(
        access_token=app_token(ready).access_token, mailbox=ready.mailbox.upn
    )
    assert message is not None
    assert message.subject == "Newest"
    assert message.received_at is not None
    assert message.received_at.tzinfo is not None


def test_it_reads_an_empty_inbox_as_none(ready):
    assert ready.admin.messages == []
    assert (
        microsoft.read_inbox(access_token=app_token(ready).access_token, mailbox=ready.admin.upn)
        is None
    )


def test_it_sends_a_test_message_without_keeping_it(ready):
    microsoft.send_test_message(
        access_token=app_token(ready).access_token,
        mailbox=ready.mailbox.upn,
        to=ready.admin.upn,
        subject="Portal check",
        body="This is a test.",
    )
    assert ready.admin.messages[-1].subject == "Portal check"
    assert ready.mailbox.sent == []


def test_it_reads_and_sends_with_a_delegated_token(delegated):
    token = microsoft.sign_in_with_password(
        directory=delegated.directory.id,
        client_id=delegated.app.client_id,
        username=delegated.mailbox.upn,
        password="Mailbox-pass-1",
        scopes=("Mail.Read", "Mail.Send"),
    )
    assert microsoft.read_inbox(access_token=token.access_token, mailbox="me") is not None
    microsoft.send_test_message(
        access_token=token.access_token,
        mailbox="me",
        to=delegated.admin.upn,
        subject="Delegated",
        body="x",
    )
    assert delegated.admin.messages[-1].subject == "Delegated"


def graph_failure(ready, mailbox=None, token=None) -> MicrosoftError:
    return failure(
        microsoft.read_inbox,
        access_token=token or app_token(ready).access_token,
        mailbox=mailbox or ready.mailbox.upn,
    )


def test_it_reports_missing_roles_as_access_denied(emulated_microsoft):
    unconsented = ready_directory(emulated_microsoft, "Fabrikam", consent=False)
    error = graph_failure(unconsented)
    assert (error.code, error.status, error.transient) == ("ErrorAccessDenied", 403, False)
    assert error.correlation_id


def test_it_reports_an_access_policy_with_its_raop_message(emulated_microsoft, ready):
    emulated_microsoft.add_access_policy(ready.app, ready.directory, [ready.admin.upn])
    error = graph_failure(ready)
    assert error.code == "ErrorAccessDenied"
    assert "[RAOP]" in error.message


def test_it_reports_an_unknown_mailbox(ready):
    error = graph_failure(ready, mailbox="ghost@contoso.onmicrosoft.com")
    assert (error.code, error.status) == ("ErrorInvalidUser", 404)


def test_it_reports_a_user_without_a_mailbox(emulated_microsoft, ready):
    emulated_microsoft.update_user(ready.mailbox, mailbox=False)
    assert graph_failure(ready).code == "MailboxNotEnabledForRESTAPI"


def test_it_reports_an_expired_token(emulated_microsoft, ready):
    token = app_token(ready).access_token
    emulated_microsoft.advance_clock(90 * 60)  # past the longest default lifetime
    error = graph_failure(ready, token=token)
    assert (error.code, error.status) == ("InvalidAuthenticationToken", 401)


def test_it_reports_the_mailbox_concurrency_limit_as_transient(emulated_microsoft, ready):
    token = app_token(ready).access_token
    emulated_microsoft.set_mailbox_limit(1)
    with emulated_microsoft.emulator.faults.mailbox_slot(ready.app.client_id, ready.mailbox.upn):
        error = graph_failure(ready, token=token)
    assert (error.code, error.status, error.transient, error.retry_after) == (
        "ApplicationThrottled",
        429,
        True,
        1.0,
    )


def test_it_reports_a_graph_outage_as_transient(emulated_microsoft, ready):
    token = app_token(ready).access_token
    emulated_microsoft.set_fault("graph.sendMail", error_share=1.0, error_status=503)
    error = failure(
        microsoft.send_test_message,
        access_token=token,
        mailbox=ready.mailbox.upn,
        to=ready.admin.upn,
        subject="s",
        body="b",
    )
    assert (error.code, error.status, error.transient) == ("ServiceUnavailable", 503, True)


# --- the HTTP session ---------------------------------------------------------------


def test_it_ignores_the_environments_ca_bundle(monkeypatch, ready):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca.pem")
    assert microsoft.discover_directory(ready.directory.id) == ready.directory.id


def test_it_restores_only_the_configured_login_port(settings):
    settings.MICROSOFT_LOGIN_URL = "https://127.0.0.1:8443"
    session = http.Session(http.endpoints())
    assert session.with_login_port("https://127.0.0.1/common/userrealm/a@b.c") == (
        "https://127.0.0.1:8443/common/userrealm/a@b.c"
    )
    assert session.with_login_port("https://graph.example/v1.0") == "https://graph.example/v1.0"


def test_it_leaves_real_microsoft_urls_alone(settings):
    settings.MICROSOFT_LOGIN_URL = "https://login.microsoftonline.com"
    session = http.Session(http.endpoints())
    url = "https://login.microsoftonline.com/common/userrealm/a@b.c?api-version=1.0"
    assert session.with_login_port(url) == url


def test_it_reports_a_missing_ca_file_as_unreachable(settings, ready):
    settings.MICROSOFT_CA_BUNDLE = "/nonexistent/ca.pem"
    microsoft.forget_clients()
    assert failure(microsoft.discover_directory, ready.directory.id).code == "unreachable"


@pytest.mark.parametrize(
    ("description", "words"),
    [
        (
            "AADSTS7000229: The client application x is missing service principal in the "
            "tenant y. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119 "
            "Trace ID: d4ea Correlation ID: 3a6a Timestamp: 2025-09-18 01:17:37Z",
            "AADSTS7000229: The client application x is missing service principal in the "
            "tenant y. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
        ),
        (
            "AADSTS50126: Error validating credentials.\r\nTrace ID: a\r\nCorrelation ID: b",
            "AADSTS50126: Error validating credentials.",
        ),
        ("Trace ID: only", ""),
        ("", ""),
    ],
)
def test_it_keeps_microsofts_words_without_the_trace_trailer(description, words):
    from onboarding.microsoft.http import first_sentence

    assert first_sentence(description) == words


def test_it_reads_the_recorded_missing_service_principal_answer_without_its_trailer():
    from onboarding.microsoft.http import login_error
    from tests.recordings import load

    recorded = load("token_missing_service_principal")

    class Answer:
        status_code = recorded.status
        headers: dict[str, str] = {}

    error = login_error(recorded.json(), Answer())
    assert error.code == "AADSTS7000229"
    assert error.message.endswith("linkid=2225119")
    assert "Trace ID" not in error.message
    assert error.correlation_id == "3a6a7f72-a358-4034-8ee1-639c13a6b321"
