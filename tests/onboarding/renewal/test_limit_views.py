"""The renewal pages and Entra's two-secret limit: which secret to delete first, "I deleted
it", and Entra's refusal reported by the admin. Tenant isolation, CSRF and audit too."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from onboarding.models import AuditEvent, CheckRun, ClientSecret, Mailbox
from tests.onboarding.conftest import make_secret

Status = ClientSecret.Status


def secret(app, status, **fields):
    return make_secret(app, secret_id=uuid.uuid4(), status=status, **fields)


@pytest.fixture
def acme_live(acme_consented, acme):
    """Acme set up and in use: one mailbox, one active secret."""
    Mailbox.objects.create(tenant=acme, address="dispatch@acme.example")
    return secret(acme_consented, Status.ACTIVE, hint="Act")


@pytest.fixture
def acme_full(acme_live, acme_consented):
    """After one failed renewal: Entra holds the active secret and the rejected one."""
    return acme_live, secret(acme_consented, Status.REJECTED, hint="Bad", retired_at=timezone.now())


def renew_url(tenant):
    return reverse("onboarding:renew-secret", args=[tenant.pk])


def limit_url(tenant):
    return reverse("onboarding:renew-limit", args=[tenant.pk])


def deleted_url(tenant, secret_pk):
    return reverse("onboarding:renew-secret-deleted", args=[tenant.pk, secret_pk])


def test_with_room_the_page_says_so(client, alice, acme, acme_live):
    client.force_login(alice)
    page = client.get(renew_url(acme)).content.decode()
    assert "there is room for a new one" in page
    assert "First make room" not in page


def test_at_the_limit_it_names_the_failed_secret_before_a_new_one_is_made(
    client, alice, acme, acme_full
):
    active, rejected = acme_full
    client.force_login(alice)
    page = client.get(renew_url(acme)).content.decode()
    assert "First make room in Entra: delete one secret" in page
    assert "failed verification and was never used" in page
    assert f'data-copy="{rejected.secret_id}" aria-label="Copy Secret ID to delete' in page
    assert f'data-copy="{active.secret_id}" aria-label="Copy Secret ID to delete' not in page
    assert f"Keep the secret in use (Secret ID <code>{active.secret_id}</code>)" in page
    assert page.index("First make room") < page.index("1. Create a new secret in Entra")
    assert deleted_url(acme, rejected.pk) in page


def test_a_single_tenant_app_is_not_asked_to_make_room_first(
    client, alice, acme, acme_full, settings
):
    # Without the interactive sign-in the wizard asks for a single-tenant app, for which
    # Entra sets no two-secret limit (onboarding.renewal.limits).
    settings.OPERATIONS_SIGN_IN = frozenset({"password"})
    client.force_login(alice)
    page = client.get(renew_url(acme)).content.decode()
    assert "First make room" not in page
    assert "holds two the portal still uses" not in page


def test_i_deleted_it_records_and_audits_and_makes_room(client, alice, acme, acme_full):
    _, rejected = acme_full
    client.force_login(alice)
    response = client.post(deleted_url(acme, rejected.pk), follow=True)
    assert response.redirect_chain[-1][0] == renew_url(acme)
    page = response.content.decode()
    assert f"Noted: the secret Bad… (Secret ID {rejected.secret_id}) is deleted in Entra" in page
    assert "there is room for a new one" in page
    rejected.refresh_from_db()
    assert rejected.deleted_in_entra_at is not None
    event = AuditEvent.objects.get(action="client_secret.deleted_in_entra")
    assert (event.actor, event.tenant, event.object_id) == (alice, acme, str(rejected.pk))


def test_saying_it_twice_records_it_once(client, alice, acme, acme_full):
    _, rejected = acme_full
    client.force_login(alice)
    client.post(deleted_url(acme, rejected.pk))
    again = client.post(deleted_url(acme, rejected.pk), follow=True)
    assert "already noted as deleted" in again.content.decode()
    assert AuditEvent.objects.filter(action="client_secret.deleted_in_entra").count() == 1


def test_the_secret_in_use_can_never_be_marked_deleted(client, alice, acme, acme_full):
    active, _ = acme_full
    client.force_login(alice)
    response = client.post(deleted_url(acme, active.pk), follow=True)
    assert "Nothing was noted: that secret is in use or being verified" in response.content.decode()
    active.refresh_from_db()
    assert active.deleted_in_entra_at is None
    assert not AuditEvent.objects.filter(action="client_secret.deleted_in_entra").exists()


def test_a_secret_being_proved_is_not_named_and_its_check_is_linked(
    client, alice, acme, acme_live, acme_consented
):
    pending = secret(acme_consented, Status.PENDING, hint="New")
    client.force_login(alice)
    page = client.get(renew_url(acme)).content.decode()
    assert "A new secret (<strong>New…</strong>) is being verified" in page
    assert "Secret ID to delete" not in page
    response = client.post(deleted_url(acme, pending.pk), follow=True)
    assert "Nothing was noted" in response.content.decode()


def test_another_tenants_secret_is_a_404(client, alice, bob, acme, acme_full, globex, globex_ready):
    theirs = secret(globex_ready, Status.REJECTED)
    client.force_login(alice)
    assert client.post(deleted_url(acme, theirs.pk)).status_code == 404
    assert client.post(deleted_url(globex, theirs.pk)).status_code == 404
    assert client.get(limit_url(globex)).status_code == 404
    assert client.post(limit_url(globex)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.deleted_in_entra_at is None
    assert not AuditEvent.objects.filter(action__startswith="client_secret.").exists()


@pytest.mark.parametrize(
    "path",
    [
        lambda t: f"/onboarding/{t.pk}/renew/secrets/{uuid.uuid4()}/deleted-in-entra/",
        lambda t: f"/onboarding/{t.pk}/renew/secrets/not-a-uuid/deleted-in-entra/",
    ],
)
def test_an_unknown_or_malformed_secret_is_a_404(client, alice, acme, acme_full, path):
    client.force_login(alice)
    assert client.post(path(acme)).status_code == 404


def test_i_deleted_it_takes_a_post_only(client, alice, acme, acme_full):
    _, rejected = acme_full
    client.force_login(alice)
    assert client.get(deleted_url(acme, rejected.pk)).status_code == 405
    rejected.refresh_from_db()
    assert rejected.deleted_in_entra_at is None


def test_the_posts_need_the_csrf_token(alice, acme, acme_full):
    _, rejected = acme_full
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(deleted_url(acme, rejected.pk)).status_code == 403
    assert strict.post(limit_url(acme)).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="client_secret.").exists()


def test_a_stranger_is_asked_to_sign_in(client, acme, acme_full):
    _, rejected = acme_full
    response = client.post(deleted_url(acme, rejected.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get(limit_url(acme)).status_code == 302


def test_reporting_entras_refusal_is_audited_and_explained(client, alice, acme, acme_full):
    active, rejected = acme_full
    client.force_login(alice)
    page = client.get(renew_url(acme)).content.decode()
    assert "Entra says I can't add another secret" in page
    response = client.post(limit_url(acme), follow=True)
    assert response.redirect_chain[-1][0] == limit_url(acme)
    text = response.content.decode()
    assert "Entra allows this app two client secrets only" in text
    assert "Not allowed to add 3 passwords. You can only add a maximum of 2 passwords." in text
    assert f'data-copy="{rejected.secret_id}" aria-label="Copy Secret ID to delete' in text
    assert f"Never delete the secret in use, Secret ID <code>{active.secret_id}</code>" in text
    event = AuditEvent.objects.get(action="client_secret.limit_reported")
    assert (event.actor, event.tenant) == (alice, acme)
    assert event.details == {"known_in_entra": 2, "to_delete": str(rejected.secret_id)}


def test_a_refusal_with_no_secret_to_delete_points_at_an_unknown_one(
    client, alice, acme, acme_live
):
    client.force_login(alice)
    text = client.post(limit_url(acme), follow=True).content.decode()
    assert "Entra holds a secret the portal does not know" in text
    assert f"Keep <code>{acme_live.secret_id}</code>: the secret in use." in text
    assert "Secret ID to delete" not in text


def test_a_failed_renewal_status_names_the_secret_to_delete(client, alice, acme, acme_full):
    _, rejected = acme_full
    run = CheckRun.objects.create(
        mailbox=Mailbox.objects.get(tenant=acme),
        trigger=CheckRun.Trigger.RENEWAL,
        secret=rejected,
        status=CheckRun.Status.FAILED,
        finished_at=timezone.now() - timedelta(minutes=1),
    )
    client.force_login(alice)
    page = client.get(reverse("onboarding:renew-status", args=[acme.pk, run.pk])).content.decode()
    assert "Entra keeps the secret that failed" in page
    assert deleted_url(acme, rejected.pk) in page
