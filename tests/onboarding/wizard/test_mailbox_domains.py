"""Step 5: a mailbox at a domain that is not one of the app's directory gets a warning
(looked up through Microsoft's OpenID discovery, as step 1 looks up the directory), and
a mailbox is removed only after a page that asks."""

from __future__ import annotations

from django.urls import reverse

from onboarding.models import Mailbox
from onboarding.wizard.forms import OTHER_DIRECTORY, UNKNOWN_DOMAIN, MailboxForm
from tests.onboarding.conftest import ACME_DIRECTORY_ID, GLOBEX_DIRECTORY_ID
from tests.onboarding.wizard.conftest import mailbox_url


def mailbox_form(tenant, mailbox=None, **data) -> MailboxForm:
    return MailboxForm(data, tenant=tenant, mailbox=mailbox)


def test_a_domain_of_the_apps_directory_passes(acme_app, acme, domain_directory):
    domain_directory.answers["acme.example"] = ACME_DIRECTORY_ID
    form = mailbox_form(acme, address="ops@acme.example")
    assert form.is_valid(), form.errors
    assert domain_directory.lookups == ["acme.example"]


def test_a_domain_of_another_directory_is_warned_about(acme_app, acme, domain_directory):
    domain_directory.answers["globex.example"] = GLOBEX_DIRECTORY_ID
    form = mailbox_form(acme, address="ops@globex.example")
    assert not form.is_valid()
    assert form.needs_confirmation
    assert [w.message for w in form.warnings] == [OTHER_DIRECTORY.format(domain="globex.example")]


def test_a_domain_no_directory_has_is_warned_about(acme_app, acme, domain_directory):
    domain_directory.answers["acme-typo.example"] = None
    form = mailbox_form(acme, address="ops@acme-typo.example")
    assert not form.is_valid()
    assert [w.message for w in form.warnings] == [UNKNOWN_DOMAIN.format(domain="acme-typo.example")]


def test_the_warning_is_confirmed_for_that_domain_only(acme_app, acme, domain_directory):
    domain_directory.answers["acme-typo.example"] = None
    domain_directory.answers["other-typo.example"] = None
    confirmed = mailbox_form(
        acme,
        address="ops@acme-typo.example",
        acknowledged="domain:acme-typo.example",
        save_anyway="on",
    )
    assert confirmed.is_valid(), confirmed.errors
    other = mailbox_form(
        acme,
        address="ops@other-typo.example",
        acknowledged="domain:acme-typo.example",
        save_anyway="on",
    )
    assert not other.is_valid()


def test_the_sign_in_name_is_looked_up_too(acme_app, acme, domain_directory):
    domain_directory.answers["acme.example"] = ACME_DIRECTORY_ID
    domain_directory.answers["globex.onmicrosoft.com"] = GLOBEX_DIRECTORY_ID
    form = mailbox_form(acme, address="ops@acme.example", upn="ops@globex.onmicrosoft.com")
    assert not form.is_valid()
    assert "globex.onmicrosoft.com belongs to another" in form.warnings[0].message


def test_microsoft_out_of_reach_gives_no_warning(acme_app, acme, domain_directory):
    # No answer set: the fake says Microsoft is unreachable. Step 6's check will tell.
    assert mailbox_form(acme, address="ops@acme.example").is_valid()


def test_domains_already_known_are_not_looked_up_again(acme_app, acme, domain_directory):
    acme_app.directory = "acme.onmicrosoft.com"
    acme_app.save()
    Mailbox.objects.create(tenant=acme, address="dispatch@acme.example")
    form = mailbox_form(acme, address="orders@acme.example", upn="orders@acme.onmicrosoft.com")
    assert form.is_valid(), form.errors
    assert domain_directory.lookups == []


def test_a_personal_account_is_in_no_directory_to_look_up(acme_app, acme, domain_directory):
    form = mailbox_form(acme, address="someone@outlook.com")
    assert form.is_valid(), form.errors
    assert form.warnings == []
    assert domain_directory.lookups == []


def test_the_page_shows_the_warning_and_the_tick_box(
    as_alice, at_mailbox_step, acme, domain_directory
):
    domain_directory.answers["acme-typo.example"] = None
    response = as_alice.post(mailbox_url(acme), {"address": "ops@acme-typo.example"})
    page = response.content.decode()
    assert "Nothing was saved yet: please check the warning below." in page
    assert "acme-typo.example is not a verified domain" in page
    assert "The address is right: save it anyway." in page
    assert 'id="id_address_warning_1" data-warning-for="id_address"' in page
    assert not Mailbox.objects.exists()
    response = as_alice.post(
        mailbox_url(acme),
        {
            "address": "ops@acme-typo.example",
            "acknowledged": "domain:acme-typo.example",
            "save_anyway": "on",
        },
    )
    assert response.status_code == 302
    assert Mailbox.objects.get().address == "ops@acme-typo.example"


def test_the_address_field_is_an_email_field(as_alice, at_mailbox_step, acme):
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert 'type="email" name="address"' in page


def test_the_list_asks_before_removing(as_alice, acme_ready, acme):
    mailbox = acme.mailboxes.get()
    remove = reverse("onboarding:mailbox-remove", args=[acme.pk, mailbox.pk])
    page = as_alice.get(mailbox_url(acme)).content.decode()
    assert f'href="{remove}">Remove' in page  # a link to the question, not a button
    question = as_alice.get(remove).content.decode()
    assert "Nothing changes in Microsoft 365" in question
    assert f"Remove {mailbox.address}</button>" in question
    assert Mailbox.objects.exists()
    as_alice.post(remove)
    assert not Mailbox.objects.exists()


def test_another_tenants_mailbox_cannot_be_asked_about(as_alice, acme_ready, globex_ready):
    other = globex_ready.tenant.mailboxes.first() or Mailbox.objects.create(
        tenant=globex_ready.tenant, address="other@globex.example"
    )
    url = reverse("onboarding:mailbox-remove", args=[acme_ready.tenant.pk, other.pk])
    assert as_alice.get(url).status_code == 404
