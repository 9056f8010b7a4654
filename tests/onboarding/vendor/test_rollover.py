"""The vendor app's certificate renewing itself against the emulator (time-machine moves
the portal's clock and the in-process emulator's alike), and what support hears."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from onboarding.models import VendorCredential, VendorNotice
from onboarding.vendor import credential, rollover, watch
from tests.personal_mailbox import text
from tests.recordings import load
from tests.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db
Status = VendorCredential.Status


def thumbprints(emulator, app) -> set[str]:
    return {c.thumbprint for c in emulator.store.app(app.client_id).key_credentials}


def in_use_thumbprint() -> str:
    in_use = credential.in_use()
    assert in_use is not None
    return in_use.thumbprint


def expiry() -> datetime:
    """Midnight of the day the certificate in use expires."""
    in_use = credential.in_use()
    assert in_use is not None
    return timezone.make_aware(datetime.combine(in_use.expires_on, datetime.min.time()))


def due(vendor) -> datetime:
    """A moment inside the rollover's lead time of the certificate in use."""
    in_use = credential.in_use()
    assert in_use is not None
    return rollover.starts_on(in_use) + timedelta(hours=1)


def test_nothing_is_due_before_the_lead_time(vendor):
    assert rollover.advance() == rollover.Advanced()
    assert VendorCredential.objects.count() == 1


def test_it_rolls_over_through_every_stage_and_the_api_signs_in_with_the_new_key(
    vendor, emulated_microsoft, settings
):
    settings.PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS = 120
    settings.PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS = 24
    old = vendor.row
    start = due(vendor)
    with time_machine.travel(start, tick=False):
        assert rollover.advance().stage == "made"
        assert rollover.advance().stage == "added"
    new = VendorCredential.objects.exclude(pk=old.pk).get()
    assert new.status == Status.ADDED
    assert new.key_id is not None
    assert thumbprints(emulated_microsoft, vendor.app) == {old.thumbprint, new.thumbprint}
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        assert rollover.advance() == rollover.Advanced(wait=60.0)  # Entra replicates
    with time_machine.travel(start + timedelta(seconds=121), tick=False):
        assert rollover.advance().stage == "switched"
    assert in_use_thumbprint() == new.thumbprint
    old.refresh_from_db()
    assert old.status == Status.RETIRED
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert rollover.advance() == rollover.Advanced()  # the grace period
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        assert rollover.advance().stage == "removed"
    old.refresh_from_db()
    assert old.status == Status.REMOVED
    assert thumbprints(emulated_microsoft, vendor.app) == {new.thumbprint}
    # The new key signs in (the old one is gone from the app).
    signs_in_with = credential.app_credential()
    assert signs_in_with.certificate == new.certificate_pem
    assert not mail.outbox  # nothing for support to do


def test_a_throttled_addkey_waits_for_retry_after(vendor, emulated_microsoft):
    start = due(vendor)
    with time_machine.travel(start, tick=False):
        rollover.advance()
        emulated_microsoft.set_fault("graph.application", throttle_share=1.0, retry_after=30)
        assert rollover.advance() == rollover.Advanced("waiting", 30.0)
        emulated_microsoft.clear_faults()
    pending = VendorCredential.objects.get(status=Status.PENDING)
    assert pending.attempts == 1
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert rollover.advance().stage == "added"


def test_graph_down_on_every_try_stops_the_rollover_and_tells_support_once(
    vendor, emulated_microsoft
):
    start = due(vendor)
    emulated_microsoft.set_fault("graph.application", error_share=1.0, error_status=503)
    moment = start
    with time_machine.travel(moment, tick=False):
        rollover.advance()
    for _ in range(rollover.MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        with time_machine.travel(moment, tick=False):
            rollover.advance()
    pending = VendorCredential.objects.get(status=Status.PENDING)
    assert pending.error_code == "ServiceUnavailable"  # Graph's code in the 503
    assert [m.subject for m in mail.outbox] == ["The vendor app's certificate did not renew itself"]
    assert "ServiceUnavailable" in mail.outbox[0].body
    # The certificate in use still is; nothing more happens until support retries.
    assert in_use_thumbprint() == vendor.row.thumbprint
    with time_machine.travel(moment + timedelta(hours=2), tick=False):
        assert rollover.advance().stage == ""
    assert len(mail.outbox) == 1
    emulated_microsoft.clear_faults()
    assert rollover.retry() == 1
    with time_machine.travel(moment + timedelta(hours=3), tick=False):
        assert rollover.advance().stage == "added"


def test_microsofts_recorded_refusal_of_the_proof_stops_the_rollover(vendor, emulated_microsoft):
    start = due(vendor)
    with time_machine.travel(start, tick=False):
        rollover.advance()
        load("graph_addkey_proof_malformed").replay_into(emulated_microsoft)
        assert rollover.advance().stage == "failed"
    pending = VendorCredential.objects.get(status=Status.PENDING)
    assert pending.error_code == "Authentication_MissingOrMalformed"
    assert "Authentication_MissingOrMalformed" in mail.outbox[0].body
    assert thumbprints(emulated_microsoft, vendor.app) == {vendor.row.thumbprint}


def test_a_wrong_object_id_is_refused_by_the_emulator_too(vendor, emulated_microsoft, settings):
    settings.PORTAL_VENDOR_APP_OBJECT_ID = "00000000-0000-4000-8000-000000000000"
    start = due(vendor)
    with time_machine.travel(start, tick=False):
        rollover.advance()
        assert rollover.advance().stage == "failed"
    assert VendorCredential.objects.get(status=Status.PENDING).error_code


def test_a_certificate_from_files_is_not_rolled_over(vendor, settings):
    settings.PORTAL_VENDOR_APP_CERTIFICATE = vendor.row.certificate_pem
    settings.PORTAL_VENDOR_APP_PRIVATE_KEY = vendor.row.reveal_private_key()
    assert not rollover.configured()
    with time_machine.travel(due(vendor), tick=False):
        assert rollover.advance() == rollover.Advanced()


# --- the health line and support's reminders ---------------------------------------


def test_the_health_line_says_when_it_renews_itself(vendor, vendor_tenant):
    found = watch.health()
    assert found is not None
    assert (found.tone, found.tenants, found.thumbprint) == ("success", 1, vendor.row.thumbprint)
    assert found.renewal.startswith("The portal renews it by itself from ")


def test_the_health_line_says_when_nothing_is_in_use(vendor):
    VendorCredential.objects.update(status=Status.RETIRED)
    found = watch.health()
    assert found is not None
    assert found.tone == "danger"
    assert "No certificate is in use" in found.sentence


def test_support_is_reminded_once_per_threshold_of_a_certificate_from_files(vendor, settings):
    settings.PORTAL_VENDOR_APP_CERTIFICATE = vendor.row.certificate_pem
    settings.PORTAL_VENDOR_APP_PRIVATE_KEY = vendor.row.reveal_private_key()
    expires = expiry()
    with time_machine.travel(expires - timedelta(days=29), tick=False):
        assert watch.remind() == ["expiry:30"]
        assert watch.remind() == []  # once
    with time_machine.travel(expires - timedelta(days=6, hours=12), tick=False):
        assert watch.remind() == ["expiry:7"]
    assert len(mail.outbox) == 2
    assert "expires on" in mail.outbox[0].subject
    assert VendorNotice.objects.count() == 2


def test_a_self_renewing_certificate_reminds_support_only_a_week_before(vendor):
    expires = expiry()
    with time_machine.travel(expires - timedelta(days=20), tick=False):
        assert watch.remind() == []
    with time_machine.travel(expires - timedelta(days=5), tick=False):
        assert watch.remind() == ["expiry:7"]


def test_the_support_overview_shows_the_health_line(vendor, vendor_tenant, client, charlie):
    sign_in_verified(client, charlie)
    response = client.get("/support/overview/")
    assert response.status_code == 200
    page = text(response)
    assert "The vendor's app" in page
    assert vendor.row.thumbprint in page
    assert "Tenants using it1" in page
    assert "The portal renews it by itself from" in page


def test_support_overview_says_nothing_of_a_vendor_app_when_vendor_mode_is_off(
    client, charlie, settings
):
    settings.PORTAL_VENDOR_APP_ID = ""
    sign_in_verified(client, charlie)
    assert "The vendor's app" not in text(client.get("/support/overview/"))
