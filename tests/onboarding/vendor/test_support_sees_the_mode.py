"""Support sees each tenant's way to connect, and vendor mode's steps in the timeline
and the blocker column."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.onboarding.vendor.conftest import consent_at_microsoft, press_consent, through_consent
from tests.personal_mailbox import text
from tests.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, charlie):
    sign_in_verified(client, charlie)
    return client


def test_the_list_and_the_tenant_page_name_the_way_and_the_vendor_consent(
    staff, alice, vendor, customer, vendor_tenant, emulated_microsoft
):
    from django.test import Client

    admin = Client()
    admin.force_login(alice)
    through_consent(admin, emulated_microsoft, vendor_tenant, customer.admin.upn)
    listing = text(staff.get(reverse("support:tenant-list")))
    assert "The vendor's app" in listing
    detail = text(staff.get(reverse("support:tenant-detail", args=[vendor_tenant.pk])))
    assert "Way to connect: The vendor's app" in detail
    assert "Way to connect chosen" not in detail or "the vendor's app" in detail
    assert "Admin consent to the vendor's app, proved by an administrator's sign-in" in detail
    assert customer.directory.id in detail


def test_a_vendor_consent_refused_shows_as_the_tenants_blocker(
    staff, alice, vendor, customer, vendor_tenant, emulated_microsoft
):
    from django.test import Client

    admin = Client()
    admin.force_login(alice)
    url = press_consent(admin, vendor_tenant)
    _, answer = consent_at_microsoft(emulated_microsoft, url, customer.reader.upn, "Rd-pass-1")
    admin.get(reverse("onboarding:vendor-consent-callback"), answer)
    listing = text(staff.get(reverse("support:tenant-list")))
    assert "Admin consent tried without an admin role" in listing
