"""The emulator's own admin consent callbacks held against the ones Microsoft really sent
(tests/recordings/adminconsent_*.json): which parameters come back, in which order, the
error, the AADSTS code and the start of its message."""

from __future__ import annotations

import re

import pytest

from microsoft_emulator.scenarios import ready_directory
from tests.microsoft_emulator.conftest import csrf, query, sign_in
from tests.microsoft_emulator.test_admin_consent import consent_page, decide, return_link
from tests.recordings import Recording, load

# What a source's author blanked out (a directory ID, an application): never compared.
REDACTED = re.compile(r"%<\w+>")


@pytest.fixture
def unconsented(emulator):
    # Named as the directory in the recordings, so its name can be compared too.
    return ready_directory(emulator, "ExampleDotCom", consent=False)


def description_lines(description: str) -> list[str]:
    """The labels of the lines after the message: Trace ID, Correlation ID, Timestamp."""
    return [line.split(":", 1)[0] for line in description.split("\r\n")[1:]]


def assert_same_message(recorded: str, ours: str) -> None:
    """The first line matches, except where the source was redacted."""
    recorded_first, ours_first = recorded.split("\r\n")[0], ours.split("\r\n")[0]
    position = 0
    for fragment in REDACTED.split(recorded_first):
        found = ours_first.find(fragment, position)
        assert found >= position, f"{fragment!r} not in {ours_first!r}"
        position = found + len(fragment)
    assert description_lines(ours) == description_lines(recorded)


def assert_sent_like(recording: Recording, sent: dict[str, str], *, extra: tuple = ()) -> None:
    """The same parameters in the same order (plus `extra`, where the source is cut)."""
    assert [k for k in sent if k not in extra] == list(recording.callback)
    assert sent["error"] == recording.callback["error"]


def test_a_non_admin_comes_back_as_microsofts_need_admin_approval_page_sends(
    emulator, http, unconsented
):
    recorded = load("adminconsent_not_admin_return_link")
    # The recording used the v1 URL; the portal uses v2. Both must answer alike.
    for v1 in (True, False):
        page = consent_page(
            http, emulator, unconsented, unconsented.mailbox, "Mailbox-pass-1", v1=v1
        )
        sent = query(return_link(page))
        assert_sent_like(recorded, sent)
        assert sent == {**recorded.callback, "state": "st4te"}
        assert not {"error_description", "error_uri", "admin_consent", "tenant"} & set(sent)
        http.cookies.clear()


def test_a_declined_consent_comes_back_as_microsoft_sends_it(emulator, http, unconsented):
    recorded = load("adminconsent_declined")
    page = consent_page(http, emulator, unconsented, unconsented.admin, "Admin-pass-1")
    sent = query(decide(http, page, "cancel").headers["Location"])
    assert_sent_like(recorded, sent)
    assert_same_message(recorded.callback["error_description"], sent["error_description"])
    assert sent["error_uri"].endswith("/error?code=65004")
    assert recorded.callback["error_uri"].endswith("/error?code=65004")
    assert sent["admin_consent"] == recorded.callback["admin_consent"]
    assert "tenant" not in sent


def test_an_admin_of_another_directory_comes_back_as_microsoft_sends_it(
    emulator, http, unconsented
):
    recorded = load("adminconsent_other_directory")
    other = ready_directory(emulator, "Globex")
    answer = consent_page(http, emulator, unconsented, other.admin, "Admin-pass-1")
    assert answer.status_code == 302  # redirected, not stopped on Microsoft's page
    sent = query(answer.headers["Location"])
    # The source is cut after error_uri; the emulator sends it and the state.
    assert_sent_like(recorded, sent, extra=("error_uri", "state"))
    assert list(sent)[-2:] == ["error_uri", "state"]
    assert_same_message(recorded.callback["error_description"], sent["error_description"])
    assert "admin_consent" not in sent
    assert "tenant" not in sent


def test_a_multi_tenant_app_consented_at_organizations_comes_back_as_documented(emulator, http):
    """The vendor's app, registered in its own directory, consented by another
    directory's admin at /organizations: the documented success (admin_consent, the
    consenting directory as a GUID, scope, state, in that order), and the app's service
    principal created in the consenting directory."""
    recorded = load("adminconsent_success_organizations")
    home = emulator.add_directory("Vendor", "vendor.onmicrosoft.com")
    app = emulator.register_app(
        home,
        "Vendor app",
        redirect_uris=["https://portal.example/callback"],
        permissions=["Mail.Read", "Mail.Send"],
        sign_in_audience="AzureADMultipleOrgs",
    )
    customer = emulator.add_directory("Customer", "customer.onmicrosoft.com")
    admin = emulator.add_user(
        customer, "admin@customer.onmicrosoft.com", "Admin-pass-1", admin=True
    )
    url = (
        f"{emulator.login_url}/organizations/v2.0/adminconsent?client_id={app.client_id}"
        f"&scope=https://graph.microsoft.com/.default&redirect_uri=https://portal.example/callback"
        "&state=12345"
    )
    page = sign_in(http, http.get(url, allow_redirects=False), admin.upn, "Admin-pass-1")
    answer = http.post(
        page.url, data={"csrf": csrf(page.text), "decision": "accept"}, allow_redirects=False
    )
    sent = query(answer.headers["Location"])
    assert list(sent) == list(recorded.callback)
    assert sent["admin_consent"] == recorded.callback["admin_consent"] == "True"
    assert re.fullmatch(r"[0-9a-f-]{36}", sent["tenant"])
    assert sent["tenant"] == customer.id
    assert sent["state"] == recorded.callback["state"]
    sp = emulator.store.service_principal(customer.id, app.client_id)
    assert sp is not None
    assert set(sp.app_roles) == {"Mail.Read", "Mail.Send"}
