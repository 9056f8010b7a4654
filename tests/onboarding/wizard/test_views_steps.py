from django.urls import reverse

from onboarding.models import AppRegistration, CheckRun, Tenant
from tests.onboarding.conftest import ACME_CLIENT_ID, ACME_DIRECTORY_ID, GLOBEX_CLIENT_ID


def url(name, tenant, *args):
    return reverse(f"onboarding:{name}", args=[tenant.pk, *args])


def test_it_sends_strangers_to_sign_in(client, acme):
    response = client.get(url("register", acme))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_resumes_where_the_admin_left_off(as_alice, acme_configured, acme):
    assert as_alice.get(url("resume", acme))["Location"] == url("permissions", acme)


def test_it_links_each_tenant_from_the_start_page(as_alice, acme):
    assert url("resume", acme) in as_alice.get(reverse("home")).content.decode()


def test_it_shows_the_values_to_set_when_registering(as_alice, acme):
    page = as_alice.get(url("register", acme)).content.decode()
    assert "Acme Logistics mailbox connection" in page
    assert 'data-copy="https://localhost"' in page
    assert "personal Microsoft accounts" in page
    assert "Microsoft_AAD_RegisteredApps/CreateApplicationBlade" in page
    assert 'aria-current="step"' in page


def test_it_saves_the_ids_after_looking_up_the_directory(as_alice, acme, fake_microsoft):
    response = as_alice.post(
        url("register", acme),
        {"client_id": ACME_CLIENT_ID.upper(), "directory": "Acme.onmicrosoft.com"},
    )
    assert response["Location"] == url("authentication", acme)
    app = AppRegistration.objects.get(tenant=acme)
    assert (str(app.client_id), app.directory, str(app.directory_id)) == (
        ACME_CLIENT_ID,
        "acme.onmicrosoft.com",
        ACME_DIRECTORY_ID,
    )
    assert fake_microsoft.lookups == ["acme.onmicrosoft.com"]
    acme.refresh_from_db()
    assert acme.onboarding_step == 2


def test_it_points_at_the_overview_page_for_an_unknown_directory(as_alice, acme, fake_microsoft):
    response = as_alice.post(
        url("register", acme), {"client_id": ACME_CLIENT_ID, "directory": "nobody.onmicrosoft.com"}
    )
    assert response.status_code == 200
    assert "Overview page" in response.context["form"].errors["directory"][0]
    assert not AppRegistration.objects.exists()


def test_it_says_microsoft_is_unreachable_without_blaming_the_value(as_alice, acme, fake_microsoft):
    fake_microsoft.unreachable = True
    response = as_alice.post(
        url("register", acme), {"client_id": ACME_CLIENT_ID, "directory": ACME_DIRECTORY_ID}
    )
    form = response.context["form"]
    assert "could not be reached" in form.non_field_errors()[0]
    assert "directory" not in form.errors
    assert not AppRegistration.objects.exists()


def test_it_does_not_ask_microsoft_about_a_malformed_directory(as_alice, acme, fake_microsoft):
    response = as_alice.post(url("register", acme), {"client_id": "nope", "directory": "common"})
    assert set(response.context["form"].errors) == {"client_id", "directory"}
    assert fake_microsoft.lookups == []


def test_it_spots_the_directory_id_pasted_as_client_id(as_alice, acme, fake_microsoft):
    response = as_alice.post(
        url("register", acme), {"client_id": ACME_DIRECTORY_ID, "directory": ACME_DIRECTORY_ID}
    )
    assert "Directory (tenant) ID" in response.context["form"].errors["client_id"][0]


def test_it_keeps_later_steps_closed(as_alice, acme):
    for name in ("authentication", "permissions", "secret", "mailbox", "verify", "done"):
        response = as_alice.get(url(name, acme))
        assert response["Location"] == url("register", acme), name


def test_it_lists_the_consent_callback_among_the_redirect_uris(as_alice, acme_app, acme):
    page = as_alice.get(url("authentication", acme)).content.decode()
    assert 'data-copy="http://127.0.0.1:8000/onboarding/consent/callback/"' in page
    assert 'data-copy="http://localhost"' in page
    assert f"ApplicationMenuBlade/~/Authentication/appId/{ACME_CLIENT_ID}" in page


def test_it_wants_the_authentication_settings_confirmed(as_alice, acme_app, acme):
    response = as_alice.post(url("authentication", acme), {})
    assert "confirmed" in response.context["form"].errors
    response = as_alice.post(url("authentication", acme), {"confirmed": "on"})
    assert response["Location"] == url("permissions", acme)
    acme_app.refresh_from_db()
    assert acme_app.authentication_confirmed_at is not None


def test_it_offers_consent_and_a_link_to_forward(as_alice, acme_configured, acme):
    page = as_alice.get(url("permissions", acme)).content.decode()
    assert url("consent-start", acme) in page
    assert "/onboarding/consent/forwarded/" in page
    assert "Privileged Role Administrator" in page
    assert "Cloud Application Administrator" not in page
    assert 'data-copy="Mail.Send"' in page


def test_it_shows_who_granted_consent(as_alice, acme_consented, acme):
    # Claimed by the callback; a passing check has not confirmed it yet.
    page = as_alice.get(url("permissions", acme)).content.decode()
    assert "Consent reported, not confirmed yet" in page
    assert "Alice Admin" in page
    acme_consented.consent_confirmed_at = acme_consented.consent_granted_at
    acme_consented.save()
    page = as_alice.get(url("permissions", acme)).content.decode()
    assert "Consent confirmed by Microsoft" in page
    assert "/onboarding/consent/forwarded/" not in page


def test_it_clears_consent_when_an_earlier_answer_changes(
    as_alice, acme_ready, acme, fake_microsoft
):
    data = {"client_id": GLOBEX_CLIENT_ID, "directory": ACME_DIRECTORY_ID}
    # A live tenant's app is changed only once the admin confirms what it disconnects.
    shown = as_alice.post(url("register", acme), data)
    acme_ready.refresh_from_db()
    assert acme_ready.consent_granted_at is not None
    response = as_alice.post(
        url("register", acme),
        {**data, "confirm_change": shown.context["change"].token},
        follow=True,
    )
    assert "consent must be granted again" in response.content.decode()
    acme_ready.refresh_from_db()
    assert acme_ready.consent_granted_at is None
    assert acme_ready.authentication_confirmed_at is None
    assert as_alice.get(url("verify", acme))["Location"] == url("authentication", acme)


def test_it_shows_the_check_as_queued_without_inventing_a_result(as_alice, acme_ready, acme):
    # Showing the page (or polling it) starts no check: the admin presses "Run check".
    page = as_alice.get(url("verify", acme)).content.decode()
    assert "Not checked yet" in page
    assert ">Run check</button>" in page
    assert "Healthy" not in page
    as_alice.get(url("verify-status", acme), HTTP_HX_REQUEST="true")
    assert not CheckRun.objects.exists()
    # Requested, not yet run (its task is enqueued on commit, which never comes here).
    assert as_alice.post(url("verify", acme))["Location"] == url("verify", acme)
    assert CheckRun.objects.get().status == "queued"
    page = as_alice.get(url("verify", acme)).content.decode()
    assert "Queued" in page
    assert "dispatch@acme.example" in page
    assert url("verify-status", acme) in page
    assert "Healthy" not in page


def test_it_serves_the_live_status_as_a_fragment(as_alice, acme_ready, acme):
    response = as_alice.get(url("verify-status", acme), HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="verify-status"')
    assert "<html" not in content


def test_it_opens_the_done_page_only_once_verified(as_alice, acme_ready, acme):
    assert as_alice.get(url("done", acme))["Location"] == url("verify", acme)
    acme.mailboxes.update(health=Tenant.Health.HEALTHY)
    response = as_alice.get(url("done", acme))
    assert response.status_code == 200
    assert "Your mailbox is connected" in response.content.decode()


def test_it_sends_the_live_status_to_the_open_step_when_verify_closed(as_alice, acme_ready, acme):
    acme.mailboxes.all().delete()
    response = as_alice.get(url("verify-status", acme), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == url("mailbox", acme)
