from typing import Any

import pytest
from django.test import RequestFactory

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.models import AuditEvent


def test_it_records_who_what_where(alice, acme):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5")
    event = audit_record(
        action="tenant.renamed", actor=Actor.of(request, alice), tenant=acme, obj=acme, old="Acme"
    )
    event.refresh_from_db()
    assert event.actor_label == "alice@acme.example"
    assert (event.object_type, event.object_id) == ("onboarding.tenant", str(acme.pk))
    assert event.ip_address == "203.0.113.5"
    assert event.details == {"old": "Acme"}


def test_it_works_without_actor_request_or_object(db):
    event = audit_record(action="system.started")
    assert (event.actor_label, event.object_type, event.ip_address) == ("", "", None)


@pytest.mark.parametrize("key", ["password", "new_password1", "token", "secret_value", "value"])
def test_it_refuses_details_that_name_a_secret(db, key):
    details: dict[str, Any] = {key: "hunter2"}
    with pytest.raises(ValueError, match=key):
        audit_record(action="oops", **details)
    assert not AuditEvent.objects.exists()


def test_it_cannot_be_changed_or_deleted(db):
    event = audit_record(action="login")
    event.action = "something else"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
