"""The tenant's page in support: the customer reference support sets, and the legacy
hand-off's exports of the tenant's credentials."""

from __future__ import annotations

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.models import AuditEvent, Mailbox, Tenant


def _url(tenant: Tenant) -> str:
    return f"/support/tenants/{tenant.pk}/"


def test_support_sets_changes_and_removes_the_customer_reference(staff_client, acme, charlie):
    url = f"/support/tenants/{acme.pk}/customer-reference/"
    response = staff_client.post(url, {"customer_reference": "  CRM-0042 "}, follow=True)
    assert "Customer reference saved." in response.content.decode()
    acme.refresh_from_db()
    assert acme.customer_reference == "CRM-0042"
    page = staff_client.get(_url(acme)).content.decode()
    assert "Now: <strong>CRM-0042</strong>" in page
    assert "Customer reference set to CRM-0042" in page  # in the timeline

    staff_client.post(url, {"customer_reference": "CRM-0042"})  # the same: nothing to record
    staff_client.post(url, {"customer_reference": ""})
    acme.refresh_from_db()
    assert acme.customer_reference == ""
    events = AuditEvent.objects.filter(action="support.customer_reference_set").order_by("at")
    assert [(e.details["before"], e.details["after"]) for e in events] == [
        ("", "CRM-0042"),
        ("CRM-0042", ""),
    ]
    assert {e.actor_label for e in events} == {charlie.email}


def test_a_too_long_reference_is_refused(staff_client, acme):
    url = f"/support/tenants/{acme.pk}/customer-reference/"
    response = staff_client.post(url, {"customer_reference": "x" * 101})
    assert response.status_code == 400
    assert "Keep it to 100 characters." in response.content.decode()
    acme.refresh_from_db()
    assert acme.customer_reference == ""


def test_the_reference_is_only_set_by_post(staff_client, acme):
    url = f"/support/tenants/{acme.pk}/customer-reference/"
    assert staff_client.get(url).status_code == 405


def test_exports_of_the_tenants_credentials_are_listed(staff_client, acme, globex):
    mailbox = Mailbox.objects.create(tenant=acme, address="ops@acme.example")
    # As api/views.py records an answered export (details copied from there).
    audit_record(
        action="api.credentials_exported",
        actor=Actor(),
        tenant=acme,
        obj=mailbox,
        service_account="Legacy operations app",
        service_account_id="00000000-0000-0000-0000-000000000001",
        key_id="abcdefghijkl",
        reason="Old server cannot take tokens",
    )
    audit_record(
        action="api.credentials_exported",
        tenant=globex,
        service_account="Someone else's app",
        reason="other tenant",
    )
    page = staff_client.get(_url(acme)).content.decode()
    assert "Credentials exported to <strong>Legacy operations app</strong> at" in page
    assert "ops@acme.example" in page
    assert "Reason given: Old server cannot take tokens" in page
    assert "Someone else&#x27;s app" not in page
    assert "Someone else's app" not in page


def test_a_tenant_never_exported_says_so(staff_client, acme):
    page = staff_client.get(_url(acme)).content.decode()
    assert "The legacy hand-off has never exported this tenant's credentials." in page
