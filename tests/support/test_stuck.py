"""Support sees who is stuck, on what, since when (issue 15, finding 10): the "waiting
since" column, onboarding blockers in the diagnosis column, the stuck filter with 0,
the readable timeline filtered by kind."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from onboarding.audit import audit_record
from onboarding.models import AppRegistration, AuditEvent, CheckRun, Membership, Tenant
from support import blockers
from tests.support.conftest import make_tenant

pytestmark = pytest.mark.django_db


def rows(client, query=""):
    return {tenant.name: tenant for tenant in client.get(f"/support/?{query}").context["tenants"]}


def acted(tenant: Tenant, user, action: str, days_ago: float, **details) -> AuditEvent:
    event = audit_record(action=action, actor=Actor(user=user), tenant=tenant, **details)
    AuditEvent.objects.filter(pk=event.pk).update(at=timezone.now() - timedelta(days=days_ago))
    return event


@pytest.fixture
def alice(db):
    # The customers' admins, of these tenants only (tests.conftest's belong to Acme).
    return User.objects.create_user("ann@ten.example", "x" * 20, full_name="Ann Admin")


@pytest.fixture
def bob(db):
    return User.objects.create_user("ben@two.example", "x" * 20, full_name="Ben Admin")


@pytest.fixture
def waiting(db, alice, bob, charlie):
    """Three tenants in setup, their admins last active 10, 2 and 0 days ago; one done."""
    ten = make_tenant("Ten Days", step=3, created_days_ago=30, directory="ten.onmicrosoft.com")
    two = make_tenant("Two Days", step=2, created_days_ago=30, directory="two.onmicrosoft.com")
    fresh = make_tenant("Fresh", step=1, created_days_ago=0)
    make_tenant("Finished", step=7, created_days_ago=90)
    Membership.objects.create(tenant=ten, user=alice)
    Membership.objects.create(tenant=two, user=bob)
    acted(ten, alice, "app_registration.saved", 10)
    acted(two, bob, "app_registration.authentication_confirmed", 2)
    # Support's own note is not the customer moving on, nor is only signing in.
    acted(ten, charlie, "support.note", 0, text="Chased by phone")
    acted(ten, alice, "login", 0)
    return ten, two, fresh


@pytest.mark.parametrize(
    ("stuck", "expected"),
    [
        ("0", {"Ten Days", "Two Days", "Fresh"}),  # 0 counts: everyone still in the setup
        ("1", {"Ten Days", "Two Days"}),
        ("5", {"Ten Days"}),
        ("10", {"Ten Days"}),
        ("11", set()),
        ("", {"Ten Days", "Two Days", "Fresh", "Finished"}),  # no filter
    ],
)
def test_stuck_counts_days_since_the_customer_last_did_something(
    staff_client, waiting, stuck, expected
):
    assert set(rows(staff_client, f"stuck={stuck}")) == expected


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", "9999999", " ", "\x00"])
def test_a_bad_stuck_value_is_ignored(staff_client, waiting, bad):
    assert len(rows(staff_client, f"stuck={bad}")) == 4


def test_the_list_shows_since_when_each_tenant_waits(staff_client, waiting):
    listed = rows(staff_client)
    assert listed["Ten Days"].idle_days == 10
    assert listed["Two Days"].idle_days == 2
    page = staff_client.get("/support/?stuck=5").content.decode()
    assert "Waiting since" in page
    assert "10 days" in page
    assert 'value="5"' in page
    assert 'min="0"' in page


def test_it_sorts_by_the_longest_wait(staff_client, waiting):
    names = list(rows(staff_client, "sort=waiting&stuck=0"))
    assert names == ["Ten Days", "Two Days", "Fresh"]


def consent_failed(tenant, user, code, days_ago=1):
    app = AppRegistration.objects.get(tenant=tenant)
    return acted(tenant, user, "consent.failed", days_ago, code=code, via="wizard", obj=app)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("AADSTS65004", "Admin consent declined on Microsoft's consent page"),
        ("AADSTS90094", "Admin consent tried without an admin role"),
        # Microsoft's "Need admin approval" page returns a bare access_denied.
        ("access_denied", "Admin consent tried without an admin role"),
        ("AADSTS50011", "not among the app's redirect URIs"),
        ("AADSTS999999", "Admin consent failed (AADSTS999999)"),
    ],
)
def test_the_diagnosis_column_names_a_consent_blocker(staff_client, waiting, alice, code, words):
    ten, _, _ = waiting
    consent_failed(ten, alice, code)
    assert words in rows(staff_client)["Ten Days"].blocker
    assert words.split("(")[0] in html.unescape(staff_client.get("/support/").content.decode())


def test_a_consent_granted_after_a_failure_is_no_blocker(staff_client, waiting, alice):
    ten, _, _ = waiting
    consent_failed(ten, alice, "AADSTS65004", days_ago=2)
    AppRegistration.objects.filter(tenant=ten).update(consent_granted_at=timezone.now())
    assert "declined" not in rows(staff_client)["Ten Days"].blocker


def test_no_answer_from_the_consent_page_is_a_missing_callback(staff_client, waiting):
    assert rows(staff_client)["Ten Days"].blocker == blockers.CALLBACK_MISSING
    assert rows(staff_client)["Two Days"].blocker == "Waiting at step 2: Authentication settings"


def test_a_failed_first_check_during_setup_is_a_blocker_not_a_failing_tenant(staff_client, db):
    make_tenant(
        "Verifying",
        step=6,
        health="degraded",
        mailbox="ops@verifying.example",
        mailbox_health="degraded",
        diagnosis_code="delegated_consent_missing",
    )
    assert rows(staff_client, "failing=1") == {}
    row = rows(staff_client)["Verifying"]
    assert row.state.label == "Setup in progress"
    assert row.blocker == "Consent for the password sign-in is missing"


def test_the_export_has_the_state_the_wait_and_the_blocker(staff_client, waiting):
    import csv
    import io

    raw = b"".join(staff_client.get("/support/export.csv?stuck=5").streaming_content)
    header, row = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    record = dict(zip(header, row, strict=True))
    assert record["State"] == "Setup in progress"
    assert record["Diagnosis"] == blockers.CALLBACK_MISSING
    assert record["Last activity"].startswith(
        (timezone.now() - timedelta(days=10)).date().isoformat()
    )


# --- the timeline ---------------------------------------------------------------------


def test_the_timeline_speaks_in_sentences(staff_client, waiting, alice):
    ten, _, _ = waiting
    consent_failed(ten, alice, "AADSTS65004")
    timeline = staff_client.get(f"/support/tenants/{ten.pk}/").context["timeline"]
    titles = [entry.title for entry in timeline]
    assert "Admin consent declined on Microsoft's consent page" in titles
    assert "Step 1: app registration saved" in titles
    assert not any("." in title.split(" ")[0] for title in titles)  # no "consent.failed"


def test_a_check_is_one_entry_with_who_asked_and_what_it_changed(staff_client, charlie, db):
    tenant = make_tenant("Alpha Air", mailbox="ops@alpha.example")
    mailbox = tenant.mailboxes.get()
    run = CheckRun.objects.create(
        mailbox=mailbox,
        trigger="support",
        status="failed",
        requested_by=charlie,
        diagnosis_key="app_not_found",
        finished_at=timezone.now(),
    )
    audit_record(action="check.requested", actor=Actor(user=charlie), tenant=tenant, obj=run)
    audit_record(
        action="mailbox.health_changed",
        tenant=tenant,
        obj=mailbox,
        old="healthy",
        new="degraded",
        check_run=str(run.pk),
    )
    (entry,) = staff_client.get(f"/support/tenants/{tenant.pk}/").context["timeline"]
    assert entry.title == "Check of ops@alpha.example failed"
    assert entry.detail == (
        "Application not found in your directory. Mailbox health now: Partly working"
    )


def test_the_timeline_filters_by_kind(staff_client, waiting, alice):
    ten, _, _ = waiting
    consent_failed(ten, alice, "AADSTS65004")
    url = f"/support/tenants/{ten.pk}/"
    consent = staff_client.get(f"{url}?kind=consent")
    assert [entry.kind for entry in consent.context["timeline"]] == ["consent"]
    assert 'aria-current="page" href="?kind=consent#timeline"' in consent.content.decode()
    notes = staff_client.get(f"{url}?kind=note").context["timeline"]
    assert [entry.detail for entry in notes] == ["Chased by phone"]
    everything = staff_client.get(f"{url}?kind=nonsense").context["timeline"]
    assert len(everything) == 4  # step 1, the sign-in, the note, the consent
    assert "Nothing of this kind yet." in staff_client.get(f"{url}?kind=reminder").content.decode()
