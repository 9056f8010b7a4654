"""Step 5's sign-in name: the user principal name (UPN) of a mailbox whose address is
not the name its account signs in with (an alias, a hybrid directory)."""

import pytest
from django.test import Client
from django.urls import reverse

from onboarding.models import AuditEvent, CheckRun, Mailbox, Tenant
from onboarding.wizard.forms import UPN_INVALID, MailboxForm
from tests.onboarding.wizard.conftest import mailbox_url

UPN = "dispatch@acme.onmicrosoft.com"


def form(tenant, mailbox=None, **data):
    return MailboxForm(data, tenant=tenant, mailbox=mailbox)


def test_the_field_says_where_entra_shows_the_upn(acme):
    field = MailboxForm(tenant=acme, mailbox=None)["upn"]
    assert field.label == "User principal name (if different)"
    assert "Microsoft Entra admin center > Users > the user > User principal name" in str(
        field.help_text
    )
    assert not field.field.required


def test_it_takes_a_upn_in_lower_case(acme):
    given = form(acme, address="orders@acme.example", upn="  Dispatch@ACME.onmicrosoft.com ")
    assert given.is_valid(), given.errors
    assert given.cleaned_data["upn"] == UPN


@pytest.mark.parametrize("upn", ["", "   ", "ORDERS@acme.example"])
def test_it_stores_no_upn_when_none_or_the_address_itself_is_given(acme, upn):
    given = form(acme, address="orders@acme.example", upn=upn)
    assert given.is_valid(), given.errors
    assert given.cleaned_data["upn"] == ""


@pytest.mark.parametrize(
    "upn",
    [
        "dispatch",
        "dispatch@",
        "@acme.onmicrosoft.com",
        "dispatch@acme",
        "dis patch@acme.onmicrosoft.com",
        "dispatch@acme.onmicrosoft.com, other@acme.example",
        "<script>alert(1)</script>@acme.example",
        "dispatch@acme.onmicrosoft.com\nBcc: x@evil.example",
    ],
)
def test_it_refuses_a_upn_that_is_not_address_shaped(acme, upn):
    assert form(acme, address="orders@acme.example", upn=upn).errors["upn"] == [UPN_INVALID]


def test_it_refuses_a_personal_account_as_upn(acme):
    errors = form(acme, address="orders@acme.example", upn="me@outlook.com").errors["upn"]
    assert "personal Microsoft account" in errors[0]


def test_it_refuses_an_overlong_upn(acme):
    upn = f"{'a' * 64}@{'b' * 180}.onmicrosoft.com"
    assert len(upn) > 254
    assert "upn" in form(acme, address="orders@acme.example", upn=upn).errors


def test_the_change_form_shows_the_stored_upn(acme):
    mailbox = Mailbox.objects.create(tenant=acme, address="orders@acme.example", upn=UPN)
    assert MailboxForm(tenant=acme, mailbox=mailbox)["upn"].value() == UPN


def test_the_sign_in_name_is_the_upn_else_the_address(acme):
    assert Mailbox(tenant=acme, address="a@acme.example").sign_in_name == "a@acme.example"
    assert Mailbox(tenant=acme, address="a@acme.example", upn=UPN).sign_in_name == UPN


# --- the pages ------------------------------------------------------------------------


def edit_url(mailbox):
    return reverse("onboarding:mailbox-edit", args=[mailbox.tenant_id, mailbox.pk])


def mailbox_events():
    return list(AuditEvent.objects.filter(action__startswith="mailbox.").order_by("at"))


def test_it_adds_a_mailbox_with_its_upn_and_audits_it(as_alice, at_mailbox_step, acme, alice):
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert "User principal name (if different)" in page
    as_alice.post(mailbox_url(acme), {"address": "orders@acme.example", "upn": UPN.upper()})
    mailbox = Mailbox.objects.get()
    assert (mailbox.address, mailbox.upn, mailbox.sign_in_name) == ("orders@acme.example", UPN, UPN)
    (event,) = mailbox_events()
    assert (event.action, event.actor) == ("mailbox.added", alice)
    assert (event.details["upn"], event.details["upn_changed"]) == (UPN, True)
    assert f"signs in as {UPN}" in as_alice.get(mailbox_url(acme)).content.decode()


def test_it_shows_a_bad_upn_next_to_the_field_and_saves_nothing(as_alice, at_mailbox_step, acme):
    response = as_alice.post(mailbox_url(acme), {"address": "orders@acme.example", "upn": "x@"})
    assert response.status_code == 200
    assert UPN_INVALID in response.content.decode()
    assert not Mailbox.objects.exists()
    assert mailbox_events() == []


def test_changing_only_the_upn_is_audited_and_clears_the_check(as_alice, acme_ready, acme):
    acme.mailboxes.update(health=Tenant.Health.HEALTHY)
    mailbox = acme.mailboxes.get()
    as_alice.post(edit_url(mailbox), {"address": mailbox.address, "upn": UPN})
    mailbox.refresh_from_db()
    assert (mailbox.upn, mailbox.health) == (UPN, "unknown")
    (event,) = mailbox_events()
    assert event.action == "mailbox.changed"
    assert (event.details["upn"], event.details["upn_changed"]) == (UPN, True)
    assert CheckRun.objects.filter(mailbox=mailbox).exists()


def test_clearing_the_upn_is_audited_too(as_alice, acme_ready, acme):
    mailbox = acme.mailboxes.get()
    Mailbox.objects.filter(pk=mailbox.pk).update(upn=UPN)
    as_alice.post(edit_url(mailbox), {"address": mailbox.address, "upn": ""})
    mailbox.refresh_from_db()
    assert mailbox.upn == ""
    (event,) = mailbox_events()
    assert (event.details["upn"], event.details["upn_changed"]) == ("", True)


def test_saving_the_same_upn_again_changes_nothing(as_alice, acme_ready, acme):
    mailbox = acme.mailboxes.get()
    Mailbox.objects.filter(pk=mailbox.pk).update(upn=UPN, health=Tenant.Health.HEALTHY)
    as_alice.post(edit_url(mailbox), {"address": mailbox.address, "upn": UPN})
    mailbox.refresh_from_db()
    assert (mailbox.upn, mailbox.health) == (UPN, "healthy")
    assert mailbox_events() == []


def test_another_tenants_admin_cannot_set_the_upn(client, bob, acme_ready, acme):
    mailbox = acme.mailboxes.get()
    client.force_login(bob)
    response = client.post(edit_url(mailbox), {"address": mailbox.address, "upn": UPN})
    assert response.status_code == 404
    mailbox.refresh_from_db()
    assert mailbox.upn == ""


def test_setting_the_upn_needs_the_csrf_token(acme_ready, acme, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    mailbox = acme.mailboxes.get()
    response = client.post(edit_url(mailbox), {"address": mailbox.address, "upn": UPN})
    assert response.status_code == 403
    mailbox.refresh_from_db()
    assert mailbox.upn == ""


def test_a_save_without_a_upn_keeps_the_stored_one(acme, alice):
    from accounts.actors import Actor
    from onboarding.wizard import services

    mailbox = Mailbox.objects.create(tenant=acme, address="orders@acme.example", upn=UPN)
    services.save_mailbox(
        mailbox, address="sales@acme.example", password=None, forget=False, actor=Actor(alice)
    )
    assert Mailbox.objects.get().upn == UPN
    services.save_mailbox(mailbox, address=UPN, password=None, forget=False, actor=Actor(alice))
    assert Mailbox.objects.get().upn == ""  # the address is now the sign-in name itself
