from django.utils import timezone

from accounts.actors import Actor
from onboarding.checks import health
from onboarding.consent import services as consent
from onboarding.models import AuditEvent, ClientSecret, Mailbox, Tenant
from onboarding.progress import progress_for, record_progress
from onboarding.wizard import services as wizard
from tests.onboarding.conftest import (
    ACME_CLIENT_ID,
    ACME_DIRECTORY_ID,
    GLOBEX_CLIENT_ID,
    make_secret,
)


def states(tenant):
    return [item.state for item in progress_for(tenant).items(current=1)]


def test_it_opens_only_the_first_step_for_a_new_tenant(acme):
    progress = progress_for(acme)
    assert states(acme) == ["todo"] + ["locked"] * 6
    assert progress.resume_step.number == 1


def test_it_resumes_at_authentication_once_the_app_is_registered(acme_app):
    progress = progress_for(acme_app.tenant)
    assert progress.is_done(1)
    assert progress.resume_step.url_name == "authentication"


def test_it_lets_the_admin_go_on_to_the_secret_while_consent_is_pending(acme_configured):
    progress = progress_for(acme_configured.tenant)
    assert progress.resume_step.number == 3
    assert progress.is_reachable(4)
    assert not progress.is_reachable(5)
    assert not progress.is_reachable(6)


def test_it_opens_the_mailbox_step_after_the_secret(acme_configured):
    make_secret(acme_configured)
    progress = progress_for(acme_configured.tenant)
    assert progress.is_reachable(5)
    assert progress.resume_step.number == 3  # consent is still the first thing left


def test_it_waits_for_verification_when_everything_is_entered(acme_ready):
    progress = progress_for(acme_ready.tenant)
    assert progress.done == frozenset({1, 2, 3, 4, 5})
    assert progress.resume_step.url_name == "verify"
    assert not progress.is_reachable(7)


def test_it_is_done_when_every_mailbox_is_healthy(acme_ready, acme):
    acme.mailboxes.update(health=Tenant.Health.HEALTHY)
    progress = progress_for(acme)
    assert progress.is_done(6)
    assert progress.resume_step.url_name == "done"


def test_it_is_not_done_while_one_mailbox_fails(acme_ready, acme):
    acme.mailboxes.update(health=Tenant.Health.HEALTHY)
    Mailbox.objects.create(tenant=acme, address="b@acme.example", health=Tenant.Health.FAILING)
    assert not progress_for(acme).is_done(6)


def test_it_does_not_count_a_retired_or_rejected_secret(acme_configured):
    make_secret(acme_configured, status=ClientSecret.Status.RETIRED)
    make_secret(acme_configured, status=ClientSecret.Status.REJECTED)
    assert not progress_for(acme_configured.tenant).is_done(4)


def test_it_marks_the_current_step_in_the_list(acme_configured):
    items = progress_for(acme_configured.tenant).items(current=2)
    assert [item.is_current for item in items] == [False, True, False, False, False, False, False]
    assert [item.state for item in items][:4] == ["done", "done", "todo", "todo"]


def test_it_records_the_step_for_the_support_lists(acme_configured, acme):
    record_progress(acme)
    acme.refresh_from_db()
    assert acme.onboarding_step == 3


def test_it_suggests_a_different_app_name_for_each_tenant(acme, globex):
    assert wizard.suggested_app_name(acme) != wizard.suggested_app_name(globex)
    assert acme.name in wizard.suggested_app_name(acme)


def test_it_creates_the_registration_and_audits_it(acme, alice):
    app = wizard.save_registration(
        acme,
        client_id=ACME_CLIENT_ID,
        directory="acme.onmicrosoft.com",
        directory_id=ACME_DIRECTORY_ID,
        actor=Actor(user=alice),
    ).obj
    event = AuditEvent.objects.get(action="app_registration.saved")
    assert (event.actor, event.tenant, event.object_id) == (alice, acme, str(app.pk))
    assert event.details["directory_id"] == ACME_DIRECTORY_ID
    app.refresh_from_db()
    assert (str(app.client_id), app.directory, str(app.directory_id)) == (
        ACME_CLIENT_ID,
        "acme.onmicrosoft.com",
        ACME_DIRECTORY_ID,
    )


def test_it_keeps_consent_when_the_same_directory_is_typed_another_way(acme_ready, acme, alice):
    wizard.save_registration(
        acme,
        client_id=ACME_CLIENT_ID,
        directory="acme.onmicrosoft.com",
        directory_id=ACME_DIRECTORY_ID,
        actor=Actor(user=alice),
    )
    acme_ready.refresh_from_db()
    assert acme_ready.consent_granted_at is not None
    assert acme_ready.directory == "acme.onmicrosoft.com"


def test_it_clears_consent_and_settings_when_the_client_id_changes(acme_ready, acme, alice):
    acme.mailboxes.update(health=Tenant.Health.HEALTHY, diagnosis_code="ok")
    Tenant.objects.filter(pk=acme.pk).update(health=Tenant.Health.HEALTHY)
    wizard.save_registration(
        acme,
        client_id=GLOBEX_CLIENT_ID,
        directory=ACME_DIRECTORY_ID,
        directory_id=ACME_DIRECTORY_ID,
        actor=Actor(user=alice),
    )
    acme_ready.refresh_from_db()
    acme.refresh_from_db()
    assert AuditEvent.objects.get(action="app_registration.saved").details["consent_cleared"]
    assert acme_ready.consent_granted_at is None
    assert acme_ready.consent_granted_by is None
    assert acme_ready.authentication_confirmed_at is None
    assert list(acme.mailboxes.values_list("health", "diagnosis_code")) == [("unknown", "")]
    assert acme.health == Tenant.Health.UNKNOWN


def test_it_clears_consent_but_keeps_settings_when_the_directory_changes(acme_ready, acme, alice):
    other = "1d3c5b7a-9e8f-4d6c-8b4a-2f1e0d9c8b7a"
    wizard.save_registration(
        acme, client_id=ACME_CLIENT_ID, directory=other, directory_id=other, actor=Actor(user=alice)
    )
    acme_ready.refresh_from_db()
    assert acme_ready.consent_granted_at is None
    assert acme_ready.authentication_confirmed_at is not None
    assert progress_for(acme).resume_step.number == 3


def test_it_records_consent_and_clears_old_check_results(acme_configured, acme, alice):
    Mailbox.objects.create(tenant=acme, address="a@acme.example", health="failing")
    consent.record_consent(acme_configured, actor=Actor(user=alice), forwarded=False)
    acme_configured.refresh_from_db()
    assert acme_configured.consent_granted_by == alice
    assert acme_configured.consent_granted_at <= timezone.now()
    assert acme.mailboxes.get().health == "unknown"
    assert AuditEvent.objects.get(action="consent.granted").details["via"] == "wizard"


def test_it_confirms_authentication_once(acme_app, alice):
    wizard.confirm_authentication(acme_app, actor=Actor(user=alice))
    first = acme_app.authentication_confirmed_at
    wizard.confirm_authentication(acme_app, actor=Actor(user=alice))
    acme_app.refresh_from_db()
    assert first is not None
    assert acme_app.authentication_confirmed_at == first
    assert (
        AuditEvent.objects.filter(action="app_registration.authentication_confirmed").count() == 1
    )


def test_it_clears_only_the_named_mailbox(acme):
    a = Mailbox.objects.create(tenant=acme, address="a@acme.example", health="healthy")
    b = Mailbox.objects.create(tenant=acme, address="b@acme.example", health="healthy")
    health.verification_reset(acme, [a.pk])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.health, b.health) == ("unknown", "healthy")
