"""The portal registering the customer's own app (automatic mode), end to end against
the emulator: the plan, the admin's sign-in to the provisioning app, every Graph call,
the tenant at step 5 with its certificate, and a passing check; then each way it can
go wrong, with nothing left in the directory that the portal does not list."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from onboarding.models import (
    AppRegistration,
    AuditEvent,
    CheckRun,
    ClientSecret,
    ProvisioningRun,
    Tenant,
)
from onboarding.progress import record_progress
from onboarding.provisioning import flow, workflow
from tests.microsoft_emulator.conftest import PortSession, csrf, sign_in
from tests.personal_mailbox import text
from tests.recordings import load

pytestmark = pytest.mark.django_db
ADMIN, APP_ADMIN, READER = (
    "admin@contoso.onmicrosoft.com",
    "appadmin@contoso.onmicrosoft.com",
    "reader@contoso.onmicrosoft.com",
)
PASSWORD = "Admin-pass-1"


def make_provisioning_app(emulator: Any, settings: Any) -> Any:
    """The vendor's registration app: multi-tenant, a public client, the delegated
    permissions the registration needs (README "Letting the portal register the app")."""
    home = emulator.add_directory("Logistics vendor", "logisticsvendor.onmicrosoft.com")
    app = emulator.register_app(
        home,
        "Mail connector setup",
        redirect_uris=[flow.callback_url()],
        delegated=list(flow.SCOPES),
        public_client=True,
        sign_in_audience="AzureADMultipleOrgs",
    )
    settings.PORTAL_PROVISIONING_APP_ID = app.client_id
    return app


def make_contoso(emulator: Any) -> Any:
    directory = emulator.add_directory("Contoso", "contoso.onmicrosoft.com")
    emulator.add_user(directory, ADMIN, PASSWORD, admin=True)
    app_admin = emulator.add_user(directory, APP_ADMIN, PASSWORD)
    app_admin.admin_role = "Application Administrator"
    emulator.add_user(directory, READER, PASSWORD)
    mailbox = emulator.add_user(directory, "dispatch@contoso.onmicrosoft.com", "Mb-pass-1")
    emulator.add_message(mailbox, "Order 9", "Three pallets.", sender=ADMIN)
    return directory


@pytest.fixture
def provisioning_app(emulated_microsoft, settings):
    return make_provisioning_app(emulated_microsoft, settings)


@pytest.fixture
def contoso(emulated_microsoft):
    return make_contoso(emulated_microsoft)


@pytest.fixture
def automatic(acme: Tenant) -> Tenant:
    acme.setup_mode = Tenant.SetupMode.AUTOMATIC
    acme.save(update_fields=["setup_mode"])
    record_progress(acme)
    return acme


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(workflow, "_sleep", lambda seconds: None)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def register(client, emulator, tenant, upn=ADMIN, credential="certificate", decision="accept"):
    """Press the button, sign in and consent at Microsoft, come back: the portal's answer."""
    started = client.post(
        reverse("onboarding:provisioning-start", args=[tenant.pk]), {"credential": credential}
    )
    assert started.status_code == 302, started.content[:300]
    http = PortSession(emulator)
    page = sign_in(http, http.get(started["Location"], allow_redirects=False), upn, PASSWORD)
    if page.status_code == 200 and 'name="decision"' in page.text:
        page = http.post(
            page.url, data={"csrf": csrf(page.text), "decision": decision}, allow_redirects=False
        )
    assert page.status_code == 302, page.text[:400]
    return client.get(reverse("onboarding:provisioning-callback"), query(page.headers["Location"]))


def directory_apps(emulator, directory) -> list[Any]:
    return [a for a in emulator.store.state.apps if a.directory_id == directory.id]


def test_step_1_shows_every_change_and_asks_for_the_sign_in(as_alice, provisioning_app, automatic):
    page = text(as_alice.get(reverse("onboarding:register", args=[automatic.pk])))
    assert "Let the portal register your app" in page
    for call in (
        "/me/transitiveMemberOf",
        "/policies/defaultAppManagementPolicy",
        "POST",
        "/servicePrincipals",
        "appRoleAssignedTo",
        "DELETE",
    ):
        assert call in page
    assert "Sign in with Microsoft and register the app" in page
    started = as_alice.post(
        reverse("onboarding:provisioning-start", args=[automatic.pk]), {"credential": "certificate"}
    )
    asked = query(started["Location"])
    assert "/organizations/oauth2/v2.0/authorize" in started["Location"]
    assert asked["client_id"] == provisioning_app.client_id
    assert asked["code_challenge_method"] == "S256"
    assert {"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"} <= {
        scope.rsplit("/", 1)[-1] for scope in asked["scope"].split()
    }


def test_one_sign_in_registers_the_app_and_a_mailbox_then_passes_its_check(
    as_alice,
    provisioning_app,
    contoso,
    automatic,
    emulated_microsoft,
    django_capture_on_commit_callbacks,
):
    response = register(as_alice, emulated_microsoft, automatic)
    assert response.status_code == 302, text(response)[:600]
    assert response["Location"] == reverse("onboarding:mailbox", args=[automatic.pk])
    app = AppRegistration.objects.get(tenant=automatic)
    [made] = directory_apps(emulated_microsoft, contoso)
    assert (str(app.client_id), str(app.object_id)) == (made.client_id, made.object_id)
    assert str(app.directory_id) == contoso.id
    assert app.authentication_confirmed_at is not None
    assert app.consent_state == "claimed"
    credential = ClientSecret.objects.get(app=app)
    [key] = made.key_credentials
    assert (credential.kind, str(credential.secret_id), credential.thumbprint) == (
        "certificate",
        key.key_id,
        key.thumbprint,
    )
    assert made.secrets == []
    sp = emulated_microsoft.store.service_principal(contoso.id, made.client_id)
    assert set(sp.app_roles) == {"Mail.Read", "Mail.Send"}
    run = ProvisioningRun.objects.get()
    assert run.status == "done"
    assert [item["kind"] for item in run.created] == [
        "application",
        "service_principal",
        "app_role_assignment",
        "app_role_assignment",
    ]
    assert "token" not in str(AuditEvent.objects.values_list("details", flat=True)).lower()

    with django_capture_on_commit_callbacks(execute=True):
        as_alice.post(
            reverse("onboarding:mailbox", args=[automatic.pk]),
            {"address": "dispatch@contoso.onmicrosoft.com"},
        )
    check = CheckRun.objects.get(mailbox__tenant=automatic)
    assert check.status == CheckRun.Status.PASSED, check.steps
    app.refresh_from_db()
    assert app.consent_state == "confirmed"


def test_a_secret_asked_for_goes_into_the_vault_and_is_shown_nowhere(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    response = register(as_alice, emulated_microsoft, automatic, credential="secret")
    assert response.status_code == 302
    [made] = directory_apps(emulated_microsoft, contoso)
    [secret] = made.secrets
    stored = ClientSecret.objects.get(app__tenant=automatic)
    assert stored.kind == "secret"
    assert stored.reveal() == secret.value
    assert str(stored.secret_id) == secret.key_id
    page = as_alice.get(response["Location"])
    assert secret.value not in page.content.decode()
    assert secret.value not in str(list(AuditEvent.objects.values_list("details", flat=True)))


def test_a_policy_blocking_secrets_gives_the_certificate_and_says_why(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    emulated_microsoft.block_password_credentials(contoso)
    response = register(as_alice, emulated_microsoft, automatic, credential="secret")
    assert response.status_code == 302
    assert ClientSecret.objects.get(app__tenant=automatic).kind == "certificate"
    page = text(as_alice.get(response["Location"]))
    assert "app management policy blocks client secrets" in page


def test_an_application_administrator_is_told_before_anything_is_made(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    response = register(as_alice, emulated_microsoft, automatic, upn=APP_ADMIN)
    assert response.status_code == 200
    page = text(response)
    assert "Your account cannot grant admin consent" in page
    assert "Application Administrator" in page
    assert "Nothing was created." in page
    assert directory_apps(emulated_microsoft, contoso) == []
    assert not AppRegistration.objects.filter(tenant=automatic).exists()


def test_a_cancelled_consent_makes_nothing(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    response = register(as_alice, emulated_microsoft, automatic, decision="cancel")
    assert response.status_code == 200
    assert "The sign-in was cancelled" in text(response)
    assert directory_apps(emulated_microsoft, contoso) == []


def test_a_name_taken_by_an_app_the_portal_did_not_make_stops_before_anything(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    from onboarding.wizard.services import suggested_app_name

    emulated_microsoft.register_app(contoso, suggested_app_name(automatic))
    response = register(as_alice, emulated_microsoft, automatic)
    assert "An app of that name exists already" in text(response)
    assert len(directory_apps(emulated_microsoft, contoso)) == 1  # only the other one


@pytest.mark.parametrize(
    ("endpoint", "step", "made"),
    [
        ("graph.user", "roles", 0),  # the admin's roles
        ("graph.policy", "policies", 0),
        ("graph.application", "name", 0),  # the name's look-up, before POST /applications
        ("graph.servicePrincipal", "service_principal", 1),  # the application was made
    ],
)
def test_graph_down_at_a_step_removes_what_was_made_and_says_so(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft, endpoint, step, made
):
    emulated_microsoft.set_fault(endpoint, error_share=1.0, error_status=503)
    response = register(as_alice, emulated_microsoft, automatic)
    page = text(response)
    assert "The registration stopped" in page
    assert "Nothing was left in your directory" in page
    emulated_microsoft.clear_faults()
    assert directory_apps(emulated_microsoft, contoso) == []
    run = ProvisioningRun.objects.get()
    assert (run.status, run.failed_step, len(run.created)) == ("failed", step, made)
    assert not AppRegistration.objects.filter(tenant=automatic).exists()


def test_microsofts_recorded_refusal_of_the_grant_removes_the_app(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft, monkeypatch
):
    """Graph's recorded 403 for appRoleAssignedTo (tests/recordings/
    graph_app_role_assigned_to_denied), served at the grant itself."""
    from onboarding import microsoft

    real = microsoft.graph_service_principal

    def then_refuse_the_grant(token: str) -> str:
        found = real(token)
        load("graph_app_role_assigned_to_denied").replay_into(emulated_microsoft)
        return found

    monkeypatch.setattr(microsoft, "graph_service_principal", then_refuse_the_grant)
    response = register(as_alice, emulated_microsoft, automatic)
    assert "Authorization_RequestDenied" in text(response)
    run = ProvisioningRun.objects.get()
    assert (run.status, run.failed_step) == ("failed", "grant_Mail.Read")
    assert [item["kind"] for item in run.created] == ["application", "service_principal"]
    assert directory_apps(emulated_microsoft, contoso) == []


def test_removal_failing_too_leaves_the_items_listed(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft, monkeypatch
):
    from onboarding import microsoft

    def down(*args: object, **kwargs: object) -> None:
        raise microsoft.MicrosoftError("http_503", "down", status=503, transient=True)

    emulated_microsoft.set_fault("graph.servicePrincipal", error_share=1.0, error_status=503)
    monkeypatch.setattr(microsoft, "delete_application", down)
    page = text(register(as_alice, emulated_microsoft, automatic))
    assert "These are still in your directory" in page
    [left] = directory_apps(emulated_microsoft, contoso)
    assert left.object_id in page
    assert ProvisioningRun.objects.get().status == "left_over"


def test_a_throttled_call_is_waited_out_and_the_registration_goes_on(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft, monkeypatch
):
    emulated_microsoft.set_fault("graph.servicePrincipal", throttle_share=1.0, retry_after=1)
    waited: list[float] = []

    def wait(seconds: float) -> None:
        waited.append(seconds)
        emulated_microsoft.clear_faults()  # Microsoft lets the next try through

    monkeypatch.setattr(workflow, "_sleep", wait)
    response = register(as_alice, emulated_microsoft, automatic)
    assert response.status_code == 302, text(response)[:500]
    assert waited == [1.0]  # Retry-After


def test_what_a_lost_attempt_left_is_listed_and_removed_by_the_next(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    """The admin closed the window and the worker died after the application was made:
    the run still lists it; step 1 says so, and the next attempt removes it first."""
    leftover = emulated_microsoft.register_app(contoso, "Acme mailbox connection (lost)")
    ProvisioningRun.objects.create(
        tenant=automatic,
        directory_id=contoso.id,
        display_name="lost",
        credential_kind="certificate",
        status="left_over",
        created=[{"kind": "application", "id": leftover.object_id, "label": "Acme (lost)"}],
    )
    page = text(as_alice.get(reverse("onboarding:register", args=[automatic.pk])))
    assert "An earlier attempt left these in your directory" in page
    assert "Acme (lost)" in page
    response = register(as_alice, emulated_microsoft, automatic)
    assert response.status_code == 302
    assert emulated_microsoft.store.app(leftover.client_id) is None
    assert ProvisioningRun.objects.filter(status="cleaned").count() == 1


def test_bad_input_to_the_button(as_alice, provisioning_app, automatic):
    url = reverse("onboarding:provisioning-start", args=[automatic.pk])
    response = as_alice.post(url, {"credential": "password"})
    assert response["Location"] == reverse("onboarding:register", args=[automatic.pk])
    assert as_alice.get(url).status_code == 405


def test_another_tenants_admin_gets_404(client, bob, provisioning_app, automatic):
    client.force_login(bob)
    url = reverse("onboarding:provisioning-start", args=[automatic.pk])
    assert client.post(url, {"credential": "certificate"}).status_code == 404


def test_a_replayed_callback_is_refused(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    started = as_alice.post(
        reverse("onboarding:provisioning-start", args=[automatic.pk]), {"credential": "certificate"}
    )
    http = PortSession(emulated_microsoft)
    page = sign_in(http, http.get(started["Location"], allow_redirects=False), ADMIN, PASSWORD)
    if page.status_code == 200:
        page = http.post(
            page.url, data={"csrf": csrf(page.text), "decision": "accept"}, allow_redirects=False
        )
    answer = query(page.headers["Location"])
    callback = reverse("onboarding:provisioning-callback")
    assert as_alice.get(callback, answer).status_code == 302
    assert as_alice.get(callback, answer).status_code == 400
    assert len(directory_apps(emulated_microsoft, contoso)) == 1


def test_nothing_of_the_sign_in_is_kept(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft, caplog, monkeypatch
):
    caplog.set_level("DEBUG")
    seen: list[str] = []
    real = workflow.register

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["access_token"])
        return real(*args, **kwargs)

    monkeypatch.setattr(workflow, "register", watching)
    assert register(as_alice, emulated_microsoft, automatic).status_code == 302
    [token] = seen
    assert token.count(".") == 2  # the admin's delegated token, a JWT
    assert token not in caplog.text
    stored = [
        *AuditEvent.objects.values_list("details", flat=True),
        *ProvisioningRun.objects.values_list("created", flat=True),
    ]
    assert token not in str(stored)
    session = as_alice.session
    assert not session.get(flow.SESSION_KEY)  # the flow (its PKCE verifier) is gone too


def _refuse_after(monkeypatch, emulator, function: str, endpoint: str, status: int, body: str = ""):
    """Have Microsoft (the emulator) answer the call that follows `function` with
    `status`: a failure at exactly the next step."""
    from onboarding import microsoft

    real = getattr(microsoft, function)

    def then_refuse(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        emulator.replay(endpoint, status=status, body=body, times=4)
        return found

    monkeypatch.setattr(microsoft, function, then_refuse)


def test_graph_down_at_post_applications_makes_nothing(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft, monkeypatch
):
    _refuse_after(monkeypatch, emulated_microsoft, "find_applications", "graph.application", 503)
    page = text(register(as_alice, emulated_microsoft, automatic))
    assert "Nothing was left in your directory" in page
    run = ProvisioningRun.objects.get()
    assert (run.status, run.failed_step, run.created) == ("failed", "application", [])
    assert directory_apps(emulated_microsoft, contoso) == []


def test_a_secret_refused_by_a_policy_set_meanwhile_removes_the_app(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft, monkeypatch
):
    """addPassword refused (CredentialTypeNotAllowedAsPerAppPolicy, as recorded in
    tests/recordings/graph_add_password_blocked_by_policy and answered by the emulator)
    by a policy set after the portal read them: the app made is removed."""
    from onboarding import microsoft

    real = microsoft.assign_app_role

    def then_block(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        emulated_microsoft.block_password_credentials(contoso)
        return found

    monkeypatch.setattr(microsoft, "assign_app_role", then_block)
    page = text(register(as_alice, emulated_microsoft, automatic, credential="secret"))
    assert "CredentialTypeNotAllowedAsPerAppPolicy" in page
    run = ProvisioningRun.objects.get()
    assert (run.status, run.failed_step) == ("failed", "secret")
    assert directory_apps(emulated_microsoft, contoso) == []
    assert not ClientSecret.objects.exists()


def test_a_second_attempt_while_one_runs_is_refused(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    ProvisioningRun.objects.create(
        tenant=automatic, directory_id=contoso.id, display_name="x", credential_kind="certificate"
    )
    page = text(register(as_alice, emulated_microsoft, automatic))
    assert "A registration is already running" in page
    assert directory_apps(emulated_microsoft, contoso) == []


def test_once_registered_the_button_goes_to_the_mailbox(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    register(as_alice, emulated_microsoft, automatic)
    again = as_alice.post(
        reverse("onboarding:provisioning-start", args=[automatic.pk]), {"credential": "certificate"}
    )
    assert again["Location"] == reverse("onboarding:mailbox", args=[automatic.pk])
    assert len(directory_apps(emulated_microsoft, contoso)) == 1


def _forward_link(as_alice, emulated_microsoft, automatic) -> str:
    """An Application Administrator tries; the page gives the link for a colleague."""
    response = register(as_alice, emulated_microsoft, automatic, upn=APP_ADMIN)
    found = re.search(
        r'data-copy="([^"]+/onboarding/provisioning/forwarded/[^"]+/)"', response.content.decode()
    )
    assert found, text(response)[:600]
    return urlsplit(found[1]).path


def _colleague_registers(client, emulator, link: str, upn: str = ADMIN):
    page = client.get(link)
    assert page.status_code == 200
    started = client.post(link)
    assert started.status_code == 302
    http = PortSession(emulator)
    answer = sign_in(http, http.get(started["Location"], allow_redirects=False), upn, PASSWORD)
    if answer.status_code == 200 and 'name="decision"' in answer.text:
        answer = http.post(
            answer.url,
            data={"csrf": csrf(answer.text), "decision": "accept"},
            allow_redirects=False,
        )
    return client.get(
        reverse("onboarding:provisioning-callback"), query(answer.headers["Location"])
    )


def test_an_admin_without_the_role_forwards_a_link_and_a_colleague_registers_the_app(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    from django.test import Client

    link = _forward_link(as_alice, emulated_microsoft, automatic)
    colleague = Client()  # no portal account
    page = text(colleague.get(link))
    assert "Register the mailbox app for Acme" in page
    assert "alice@acme.example" in page
    assert contoso.id in page
    done = _colleague_registers(colleague, emulated_microsoft, link)
    assert done.status_code == 200
    assert "The app is registered" in text(done)
    app = AppRegistration.objects.get(tenant=automatic)
    assert str(app.directory_id) == contoso.id
    # Once only.
    assert colleague.get(link).status_code == 400


def test_a_forwarded_link_registers_in_the_askers_directory_only(
    as_alice, provisioning_app, contoso, automatic, emulated_microsoft
):
    from django.test import Client

    link = _forward_link(as_alice, emulated_microsoft, automatic)
    other = emulated_microsoft.add_directory("Globex", "globex.onmicrosoft.com")
    emulated_microsoft.add_user(other, "admin@globex.onmicrosoft.com", PASSWORD, admin=True)
    done = _colleague_registers(
        Client(), emulated_microsoft, link, upn="admin@globex.onmicrosoft.com"
    )
    assert "That is another directory" in text(done)
    assert not AppRegistration.objects.filter(tenant=automatic).exists()
    assert directory_apps(emulated_microsoft, other) == []


def test_an_altered_forwarded_link_is_refused(client, provisioning_app, automatic):
    link = reverse("onboarding:provisioning-forwarded", args=["not-a-signed-token"])
    assert client.get(link).status_code == 400
