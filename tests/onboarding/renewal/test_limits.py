"""Entra's two-secret limit from the portal's records, and the "deleted in Entra" record."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import Actor
from onboarding.client_secrets import secret_deleted_in_entra
from onboarding.models import AuditEvent, ClientSecret
from onboarding.renewal.limits import ENTRA_SECRET_LIMIT, secret_limit, secret_room
from onboarding.wizard.services import APP_NAME_MAX, suggested_app_name
from tests.onboarding.conftest import make_secret
from tests.recordings import load

Status = ClientSecret.Status


def secret(app, status, *, days_ago=0, **fields):
    return make_secret(
        app,
        secret_id=uuid.uuid4(),
        status=status,
        created_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def test_the_limit_is_the_documented_one():
    statement = load("supported_accounts_two_secrets").statement
    assert "Maximum of two client secrets" in statement
    assert ENTRA_SECRET_LIMIT == 2


def test_one_secret_in_use_leaves_room(acme_consented):
    active = secret(acme_consented, Status.ACTIVE)
    room = secret_room(acme_consented)
    assert (room.count, room.at_limit, room.active, room.to_delete) == (1, False, active, None)


def test_after_a_failed_renewal_the_failed_secret_is_to_delete(acme_consented):
    active = secret(acme_consented, Status.ACTIVE, days_ago=30)
    rejected = secret(acme_consented, Status.REJECTED)
    room = secret_room(acme_consented)
    assert room.at_limit
    assert (room.active, room.to_delete) == (active, rejected)


def test_a_failed_secret_goes_before_a_replaced_one_and_the_active_never(acme_consented):
    secret(acme_consented, Status.RETIRED, days_ago=200, retired_at=timezone.now())
    rejected = secret(acme_consented, Status.REJECTED, days_ago=5)
    secret(acme_consented, Status.ACTIVE, days_ago=10)
    room = secret_room(acme_consented)
    assert room.count == 3
    assert room.to_delete == rejected


def test_the_oldest_replaced_secret_goes_first(acme_consented):
    old = secret(acme_consented, Status.RETIRED, retired_at=timezone.now() - timedelta(days=90))
    secret(acme_consented, Status.RETIRED, retired_at=timezone.now())
    secret(acme_consented, Status.ACTIVE)
    assert secret_room(acme_consented).to_delete == old


def test_a_secret_deleted_in_entra_no_longer_counts(acme_consented):
    secret(acme_consented, Status.ACTIVE)
    secret(acme_consented, Status.REJECTED, deleted_in_entra_at=timezone.now())
    room = secret_room(acme_consented)
    assert (room.count, room.at_limit, room.to_delete) == (1, False, None)


def test_a_secret_being_proved_is_never_to_delete(acme_consented):
    secret(acme_consented, Status.ACTIVE, days_ago=1)
    pending = secret(acme_consented, Status.PENDING)
    room = secret_room(acme_consented)
    assert (room.at_limit, room.pending, room.to_delete) == (True, pending, None)


@pytest.mark.parametrize("status", [Status.RETIRED, Status.REJECTED])
def test_deleted_in_entra_is_recorded_once_and_audited(acme_consented, alice, status):
    gone = secret(acme_consented, status)
    actor = Actor(user=alice, ip_address="192.0.2.7")
    assert secret_deleted_in_entra(gone, actor=actor)
    assert not secret_deleted_in_entra(gone, actor=actor)
    gone.refresh_from_db()
    assert gone.deleted_in_entra_at is not None
    assert gone.status == status
    (event,) = AuditEvent.objects.filter(action="client_secret.deleted_in_entra")
    assert (event.actor, event.ip_address, event.object_id) == (alice, "192.0.2.7", str(gone.pk))
    assert event.details == {"secret_id": str(gone.secret_id), "status": status}


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.PENDING])
def test_a_live_secret_cannot_be_recorded_deleted(acme_consented, alice, status):
    live = secret(acme_consented, status)
    assert not secret_deleted_in_entra(live, actor=Actor(user=alice))
    live.refresh_from_db()
    assert live.deleted_in_entra_at is None
    assert not AuditEvent.objects.filter(action="client_secret.deleted_in_entra").exists()


def test_the_suggested_app_name_fits_entras_90_characters(acme):
    statement = load("supported_accounts_display_name").statement
    assert statement.rstrip(" |").endswith("Maximum length of 90 characters")
    acme.name = "Überlange Spedition " + "x" * 180
    assert len(acme.name) == 200
    name = suggested_app_name(acme)
    assert len(name) <= APP_NAME_MAX == 90
    assert name.startswith("Überlange Spedition xxx")
    assert name.endswith(f"… mailbox connection ({acme.pk.hex[:8]})")


def test_a_short_tenant_name_is_kept_whole_and_names_stay_unique(acme, globex):
    assert suggested_app_name(acme) == f"{acme.name} mailbox connection ({acme.pk.hex[:8]})"
    acme.name = globex.name = "y" * 200
    assert suggested_app_name(acme) != suggested_app_name(globex)


# --- the limit follows the account type the wizard asks for -------------------------


def test_the_documented_limit_is_for_personal_account_types_only():
    statement = load("supported_accounts_two_secrets").statement
    secrets_row = next(line for line in statement.splitlines() if "passwordCredentials" in line)
    cells = [cell.strip() for cell in secrets_row.strip("|").split("|")]
    # AzureADMyOrg, AzureADMultipleOrgs, then the personal-account audiences.
    assert cells[1:] == ["No limit\\*", "No limit\\*", "Maximum of two client secrets"]


@pytest.mark.parametrize(
    ("methods", "limit"),
    [
        (frozenset({"interactive", "password"}), ENTRA_SECRET_LIMIT),
        (frozenset({"interactive"}), ENTRA_SECRET_LIMIT),
        (frozenset({"password"}), None),
        (frozenset(), None),
    ],
)
def test_the_limit_applies_only_when_the_wizard_asks_for_personal_accounts(
    settings, methods, limit
):
    settings.OPERATIONS_SIGN_IN = methods
    assert secret_limit() == limit


def test_a_single_tenant_app_is_never_at_the_limit(acme_consented, settings):
    settings.OPERATIONS_SIGN_IN = frozenset()
    secret(acme_consented, Status.ACTIVE, days_ago=30)
    rejected = secret(acme_consented, Status.REJECTED, days_ago=5)
    secret(acme_consented, Status.RETIRED, days_ago=60, retired_at=timezone.now())
    room = secret_room(acme_consented)
    assert (room.count, room.limit, room.at_limit) == (3, None, False)
    # Should Entra refuse all the same (an app registered otherwise), the refusal page
    # still knows which secret to delete first.
    assert room.to_delete == rejected


def test_with_personal_accounts_two_secrets_are_the_limit(acme_consented, settings):
    settings.OPERATIONS_SIGN_IN = frozenset({"interactive"})
    secret(acme_consented, Status.ACTIVE, days_ago=30)
    secret(acme_consented, Status.REJECTED)
    room = secret_room(acme_consented)
    assert (room.limit, room.at_limit) == (ENTRA_SECRET_LIMIT, True)
