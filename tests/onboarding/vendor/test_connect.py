"""Vendor mode end to end against the emulator: one consent to the vendor's
multi-tenant app, the silent sign-in that proves the directory, the binding, and a
check of a mailbox with the vendor's certificate in the customer's directory."""

from __future__ import annotations

import jwt
import pytest
from django.test import Client
from django.urls import reverse

from onboarding.models import AppRegistration, AuditEvent, CheckRun, MailboxSignIn, Tenant
from onboarding.progress import progress_for
from onboarding.steps import AUTHENTICATION, MAILBOX, PERMISSIONS, REGISTER, SECRET
from tests.microsoft_emulator.conftest import PortSession, sign_in
from tests.onboarding.check_helpers import run_check, steps
from tests.onboarding.vendor.conftest import (
    consent_at_microsoft,
    press_consent,
    query,
    through_consent,
)
from tests.personal_mailbox import text
from tests.recordings import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, alice, vendor_tenant):
    client.force_login(alice)
    return client


def test_consent_asks_for_the_vendors_app_at_organizations(admin_client, vendor, vendor_tenant):
    url = press_consent(admin_client, vendor_tenant)
    assert "/organizations/v2.0/adminconsent?" in url
    asked = query(url)
    assert asked["client_id"] == vendor.app.client_id
    assert asked["redirect_uri"].endswith("/onboarding/vendor/consent/callback/")
    assert asked["scope"].endswith("/.default")


def test_one_consent_binds_the_tenant_to_the_directory_that_proved_it(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft
):
    response = through_consent(admin_client, emulated_microsoft, vendor_tenant, customer.admin.upn)
    assert response.status_code == 302
    assert response["Location"].endswith("/step/5/")
    app = AppRegistration.objects.get(tenant=vendor_tenant)
    assert str(app.client_id) == vendor.app.client_id
    assert str(app.directory_id) == customer.directory.id
    assert app.consent_granted_at is not None
    assert app.consent_confirmed_at is None
    # The customer's directory now has the vendor app's service principal, with the roles.
    sp = emulated_microsoft.store.service_principal(customer.directory.id, vendor.app.client_id)
    assert sp is not None
    assert set(sp.app_roles) == {"Mail.Read", "Mail.Send"}
    # Steps 1, 2 and 4 are not the customer's; 3 is done.
    progress = progress_for(vendor_tenant)
    assert progress.skipped == {REGISTER, AUTHENTICATION, SECRET}
    assert progress.is_done(PERMISSIONS)
    assert progress.resume_step.number == MAILBOX
    event = AuditEvent.objects.get(action="vendor_consent.granted")
    assert event.details["directory_id"] == customer.directory.id
    # Nothing of the proving sign-in is kept.
    assert not MailboxSignIn.objects.exists()
    assert "token" not in str(AuditEvent.objects.values_list("details", flat=True)).lower()


def test_a_mailbox_then_passes_its_check_with_the_vendors_certificate(
    admin_client,
    vendor,
    customer,
    vendor_tenant,
    emulated_microsoft,
    django_capture_on_commit_callbacks,
):
    through_consent(admin_client, emulated_microsoft, vendor_tenant, customer.admin.upn)
    with django_capture_on_commit_callbacks(execute=True):  # the check the save asks for
        response = admin_client.post(
            reverse("onboarding:mailbox", args=[vendor_tenant.pk]),
            {"address": customer.mailbox.upn},
        )
    assert response.status_code == 302, text(response)[:500]
    mailbox = vendor_tenant.mailboxes.get()
    run = CheckRun.objects.get(mailbox=mailbox)
    assert run.status == CheckRun.Status.PASSED, run.steps
    assert steps(run)["token"] == ("passed", "")
    assert steps(run)["read_inbox"] == ("passed", "")
    assert steps(run)["send_test"] == ("passed", "")
    app = AppRegistration.objects.get(tenant=vendor_tenant)
    assert app.consent_confirmed_at is not None
    mailbox.refresh_from_db()
    assert mailbox.health == "healthy"
    # A scheduled re-check takes the same way (the vendor's certificate, this directory).
    again = run_check(mailbox, django_capture_on_commit_callbacks, trigger="schedule")
    assert again.status == CheckRun.Status.PASSED, again.steps


def test_a_declined_consent_binds_nothing_and_says_so(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft
):
    url = press_consent(admin_client, vendor_tenant)
    _, answer = consent_at_microsoft(emulated_microsoft, url, customer.admin.upn, decision="cancel")
    response = admin_client.get(reverse("onboarding:vendor-consent-callback"), answer)
    assert response.status_code == 200
    assert "Consent was declined" in text(response)
    assert not AppRegistration.objects.filter(tenant=vendor_tenant).exists()
    assert AuditEvent.objects.get(action="vendor_consent.failed").details["kind"] == "declined"


def test_an_account_without_an_admin_role_is_told_who_can_consent(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft
):
    url = press_consent(admin_client, vendor_tenant)
    _, answer = consent_at_microsoft(emulated_microsoft, url, customer.reader.upn, "Rd-pass-1")
    response = admin_client.get(reverse("onboarding:vendor-consent-callback"), answer)
    assert response.status_code == 200
    page = text(response)
    assert "An administrator needs to grant consent" in page
    assert "Global Administrator" in page
    assert "Privileged Role Administrator" in page
    assert not AppRegistration.objects.filter(tenant=vendor_tenant).exists()


def test_a_forged_tenant_in_the_consent_callback_binds_nothing(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft
):
    """Microsoft's docs: never trust the callback's `tenant`. Another customer's
    directory that consented to the vendor's app is claimed; the proving sign-in comes
    from the admin's own directory, so the claim is refused."""
    other = emulated_microsoft.add_directory("Globex", "globex.onmicrosoft.com")
    emulated_microsoft.store.consent(vendor.app, other)  # Globex consented to the vendor
    http, answer = consent_at_microsoft(
        emulated_microsoft, press_consent(admin_client, vendor_tenant), customer.admin.upn
    )
    forged = {**answer, "tenant": other.id}
    returned = admin_client.get(reverse("onboarding:vendor-consent-callback"), forged)
    assert returned.status_code == 302
    assert f"/{other.id}/oauth2/v2.0/authorize?" in returned["Location"]
    authorize = http.get(returned["Location"], allow_redirects=False)
    # Microsoft will not sign the Contoso admin in at Globex (AADSTS50020, on its own
    # page): no code ever comes back, and the portal binds nothing.
    assert authorize.status_code != 302
    assert "AADSTS50020" in authorize.text
    assert not AppRegistration.objects.filter(tenant=vendor_tenant).exists()


def _forged_round_trip(admin_client, emulator, vendor, customer, tenant, other, upn, password):
    """The Acme admin consents in Contoso, forges the callback's tenant to `other`, and
    hands the sign-in link to `upn` of `other`, who signs in there in their own browser
    and gives the code back: what the portal makes of that code."""
    _, answer = consent_at_microsoft(
        emulator, press_consent(admin_client, tenant), customer.admin.upn
    )
    returned = admin_client.get(
        reverse("onboarding:vendor-consent-callback"), {**answer, "tenant": other.id}
    )
    elsewhere = PortSession(emulator)
    page = sign_in(
        elsewhere, elsewhere.get(returned["Location"], allow_redirects=False), upn, password
    )
    assert page.status_code == 302, page.text[:300]
    return admin_client.get(
        reverse("onboarding:vendor-sign-in-callback"), query(page.headers["Location"])
    )


def test_a_code_from_a_user_of_another_directory_who_cannot_consent_binds_nothing(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft
):
    other = emulated_microsoft.add_directory("Globex", "globex.onmicrosoft.com")
    emulated_microsoft.store.consent(vendor.app, other)  # Globex consented long ago
    clerk = emulated_microsoft.add_user(other, "clerk@globex.onmicrosoft.com", "Clerk-pass-1")
    response = _forged_round_trip(
        admin_client,
        emulated_microsoft,
        vendor,
        customer,
        vendor_tenant,
        other,
        clerk.upn,
        "Clerk-pass-1",
    )
    assert response.status_code == 200
    assert "cannot grant consent" in text(response)
    assert not AppRegistration.objects.filter(tenant=vendor_tenant).exists()
    failed = AuditEvent.objects.filter(action="vendor_consent.failed").latest("at")
    assert failed.details["kind"] == "not_admin_sign_in"


def test_a_replayed_consent_callback_is_refused(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft
):
    _, answer = consent_at_microsoft(
        emulated_microsoft, press_consent(admin_client, vendor_tenant), customer.admin.upn
    )
    first = admin_client.get(reverse("onboarding:vendor-consent-callback"), answer)
    assert first.status_code == 302
    again = admin_client.get(reverse("onboarding:vendor-consent-callback"), answer)
    assert again.status_code == 400


def test_a_callback_in_another_session_is_refused(
    admin_client, alice, vendor, customer, vendor_tenant, emulated_microsoft
):
    _, answer = consent_at_microsoft(
        emulated_microsoft, press_consent(admin_client, vendor_tenant), customer.admin.upn
    )
    other = Client()
    other.force_login(alice)
    assert other.get(reverse("onboarding:vendor-consent-callback"), answer).status_code == 400


def test_a_directory_bound_to_another_tenant_is_refused(
    admin_client, vendor, customer, vendor_tenant, globex, emulated_microsoft
):
    globex.setup_mode = Tenant.SetupMode.VENDOR
    globex.save(update_fields=["setup_mode"])
    AppRegistration.objects.create(
        tenant=globex,
        client_id=vendor.app.client_id,
        directory=customer.directory.id,
        directory_id=customer.directory.id,
    )
    response = through_consent(admin_client, emulated_microsoft, vendor_tenant, customer.admin.upn)
    assert response.status_code == 200
    assert "connected to another organisation" in text(response)
    assert not AppRegistration.objects.filter(tenant=vendor_tenant).exists()


def test_another_tenants_admin_gets_404_for_the_consent_button(client, bob, vendor, vendor_tenant):
    client.force_login(bob)
    response = client.post(reverse("onboarding:vendor-consent-start", args=[vendor_tenant.pk]))
    assert response.status_code == 404


def test_a_tenant_on_its_own_app_has_no_vendor_consent(client, alice, acme, vendor):
    client.force_login(alice)
    response = client.post(reverse("onboarding:vendor-consent-start", args=[acme.pk]))
    assert response.status_code == 404


def test_the_operations_api_lists_the_connection_and_hands_out_its_token(
    admin_client,
    vendor,
    customer,
    vendor_tenant,
    emulated_microsoft,
    django_capture_on_commit_callbacks,
):
    """The operations app never needs the vendor's key: the portal's token call signs in
    with it in the customer's directory."""
    from django.db.models import Q

    from api.connections import connections, row
    from api.tokens import issue

    through_consent(admin_client, emulated_microsoft, vendor_tenant, customer.admin.upn)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("onboarding:mailbox", args=[vendor_tenant.pk]),
            {"address": customer.mailbox.upn},
        )
    mailbox = connections(Q(tenant=vendor_tenant)).get()
    listed = row(mailbox)
    assert listed["credential"] == {"type": "vendor_app", "secret_id": None, "expires_on": None}
    assert listed["health"] == "healthy"
    token = issue(mailbox)
    assert token.kind == "application"
    assert token.expires_in >= 300
    # The emulator's token (the test may read it; the portal does not): issued in the
    # customer's directory to the vendor's app, with the two roles.
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    assert claims["tid"] == customer.directory.id
    assert claims["appid"] == vendor.app.client_id
    assert set(claims["roles"]) == {"Mail.Read", "Mail.Send"}


def _to_sign_in_callback(client, emulator, tenant, upn):
    """Consent and the proving sign-in at Microsoft, up to the code coming back."""
    http, answer = consent_at_microsoft(emulator, press_consent(client, tenant), upn)
    returned = client.get(reverse("onboarding:vendor-consent-callback"), answer)
    authorize = http.get(returned["Location"], allow_redirects=False)
    return query(authorize.headers["Location"])


@pytest.mark.parametrize(
    ("endpoint", "status"), [("token", 503), ("token", 429), ("graph.user", 503)]
)
def test_microsoft_failing_midway_binds_nothing_and_says_to_try_again(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft, endpoint, status
):
    code = _to_sign_in_callback(admin_client, emulated_microsoft, vendor_tenant, customer.admin.upn)
    if status == 429:
        emulated_microsoft.set_fault(endpoint, throttle_share=1.0, retry_after=5)
    else:
        emulated_microsoft.set_fault(endpoint, error_share=1.0, error_status=status)
    response = admin_client.get(reverse("onboarding:vendor-sign-in-callback"), code)
    assert response.status_code == 503
    assert "Microsoft did not answer in time" in text(response)
    assert not AppRegistration.objects.filter(tenant=vendor_tenant).exists()


def test_the_vendors_credential_missing_stops_consent_with_a_page(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft
):
    from onboarding.models import VendorCredential

    _, answer = consent_at_microsoft(
        emulated_microsoft, press_consent(admin_client, vendor_tenant), customer.admin.upn
    )
    VendorCredential.objects.update(status=VendorCredential.Status.RETIRED)
    response = admin_client.get(reverse("onboarding:vendor-consent-callback"), answer)
    assert response.status_code == 503
    assert "The vendor's app cannot sign in right now" in text(response)
    assert "vendor_credential_missing" in text(response)


def test_a_check_after_the_app_was_removed_from_the_directory_points_to_step_3(
    admin_client,
    vendor,
    customer,
    vendor_tenant,
    emulated_microsoft,
    django_capture_on_commit_callbacks,
):
    """The customer deletes the vendor's enterprise app: Microsoft then knows no such app
    in the directory (AADSTS700016), which for vendor mode is consent to grant again."""
    through_consent(admin_client, emulated_microsoft, vendor_tenant, customer.admin.upn)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("onboarding:mailbox", args=[vendor_tenant.pk]),
            {"address": customer.mailbox.upn},
        )
    mailbox = vendor_tenant.mailboxes.get()
    emulated_microsoft.store.delete_service_principal(vendor.app, customer.directory)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert run.status == CheckRun.Status.FAILED
    assert steps(run)["token"] == ("failed", "vendor_consent_missing")


def test_microsofts_recorded_unknown_app_answer_reads_as_consent_to_grant_again(
    admin_client,
    vendor,
    customer,
    vendor_tenant,
    emulated_microsoft,
    django_capture_on_commit_callbacks,
):
    through_consent(admin_client, emulated_microsoft, vendor_tenant, customer.admin.upn)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("onboarding:mailbox", args=[vendor_tenant.pk]),
            {"address": customer.mailbox.upn},
        )
    mailbox = vendor_tenant.mailboxes.get()
    load("token_unknown_client_id").replay_into(emulated_microsoft)
    run = run_check(mailbox, django_capture_on_commit_callbacks)
    assert steps(run)["token"] == ("failed", "vendor_consent_missing")
    assert run.error_code == "AADSTS700016"


def test_a_personal_outlook_mailbox_is_refused_with_the_way_out(
    admin_client, vendor, customer, vendor_tenant, emulated_microsoft
):
    through_consent(admin_client, emulated_microsoft, vendor_tenant, customer.admin.upn)
    response = admin_client.post(
        reverse("onboarding:mailbox", args=[vendor_tenant.pk]), {"address": "someone@outlook.com"}
    )
    assert response.status_code == 200
    assert "cannot be connected through the vendor's app" in text(response)
    assert not vendor_tenant.mailboxes.exists()
