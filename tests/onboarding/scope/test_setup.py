"""Choosing, filling in and leaving the mailbox scope (onboarding.scope.setup): what it
does to the tenant's progress, its audit trail and the commands it generates."""

from __future__ import annotations

import uuid

import pytest

from accounts.actors import Actor
from onboarding.models import AppRegistration, AuditEvent, Mailbox, MailboxScope, ProvisioningRun
from onboarding.progress import progress_for
from onboarding.scope import setup
from onboarding.steps import PERMISSIONS

pytestmark = pytest.mark.django_db

CLIENT_ID = uuid.UUID("6731de76-14a6-49ae-97bc-6eba6914391e")
OBJECT_ID = uuid.UUID("a1b2c3d4-0000-4000-8000-000000000001")


@pytest.fixture
def app(acme):
    return AppRegistration.objects.create(
        tenant=acme, client_id=CLIENT_ID, directory="contoso.onmicrosoft.com"
    )


def test_limiting_completes_step_3_without_entra_consent(acme, alice, app):
    assert not progress_for(acme).is_done(PERMISSIONS)
    scope, checks = setup.limit(acme, actor=Actor.of(None, alice))
    assert progress_for(acme).is_done(PERMISSIONS)
    assert scope.service_principal_object_id is None
    assert checks == []  # nothing to verify yet: no secret, no mailbox
    assert AuditEvent.objects.filter(action="scope.chosen", tenant=acme).count() == 1
    again, _ = setup.limit(acme, actor=Actor.of(None, alice))
    assert again.pk == scope.pk
    assert AuditEvent.objects.filter(action="scope.chosen", tenant=acme).count() == 1


def test_an_app_the_portal_registered_fills_in_its_object_id(acme, alice, app):
    ProvisioningRun.objects.create(
        tenant=acme,
        directory_id=uuid.uuid4(),
        display_name="Mail connector",
        credential_kind="certificate",
        status=ProvisioningRun.Status.DONE,
        created=[{"kind": "service_principal", "id": str(OBJECT_ID), "label": "x"}],
    )
    scope, _ = setup.limit(acme, actor=Actor.of(None, alice))
    assert scope.service_principal_object_id == OBJECT_ID


def test_the_vendors_app_is_not_limited_here(acme, alice):
    acme.setup_mode = acme.SetupMode.VENDOR
    with pytest.raises(setup.ScopeNotOffered):
        setup.limit(acme, actor=Actor.of(None, alice))
    assert not MailboxScope.objects.exists()


def test_commands_name_the_connected_mailboxes_once_both_answers_are_given(acme, alice, app):
    scope, _ = setup.limit(acme, actor=Actor.of(None, alice))
    assert setup.commands(scope) is None  # no Object ID yet
    setup.save(
        scope,
        service_principal_object_id=OBJECT_ID,
        probe_address="admin@contoso.onmicrosoft.com",
        group="",
        actor=Actor.of(None, alice),
    )
    assert setup.commands(scope) is None  # no mailbox yet
    Mailbox.objects.create(tenant=acme, address="dispatch@contoso.onmicrosoft.com")
    commands = setup.commands(scope, admin_upn="admin@contoso.onmicrosoft.com")
    assert commands is not None
    text = commands.setup_text
    assert f"-AppId '{CLIENT_ID}' -ObjectId '{OBJECT_ID}'" in text
    assert "PrimarySmtpAddress -eq 'dispatch@contoso.onmicrosoft.com'" in text
    assert "admin@contoso.onmicrosoft.com" not in text.split("New-ManagementScope")[1]


def test_access_is_labelled_tenant_wide_or_limited(acme, alice, app):
    assert setup.access_label(acme) == "tenant-wide"
    setup.limit(acme, actor=Actor.of(None, alice))
    assert setup.access_label(acme) == "limited to 0 mailboxes"
    Mailbox.objects.create(tenant=acme, address="dispatch@contoso.onmicrosoft.com")
    assert setup.access_label(acme) == "limited to 1 mailbox"
    assert setup.access_label(acme, limited=True, mailboxes=3) == "limited to 3 mailboxes"


def test_widening_goes_back_to_needing_entra_consent(acme, alice, app):
    scope, _ = setup.limit(acme, actor=Actor.of(None, alice))
    setup.widen(scope, actor=Actor.of(None, alice))
    assert not MailboxScope.objects.filter(tenant=acme).exists()
    assert not progress_for(acme).is_done(PERMISSIONS)
    assert AuditEvent.objects.filter(action="scope.removed", tenant=acme).exists()


def test_commands_run_is_recorded_for_the_checks_to_wait(acme, alice, app):
    scope, _ = setup.limit(acme, actor=Actor.of(None, alice))
    setup.commands_run(scope, actor=Actor.of(None, alice))
    scope.refresh_from_db()
    assert scope.commands_run_at is not None
