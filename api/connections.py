"""Connections as the API shows them: one row per mailbox, read-only, never a secret.

One query per page: the tenant and its app registration are joined, the active secret's
expiry and id and the newest secret's creation come as subqueries, and `changed_at`
(what `changed_since` filters on) is the latest of the mailbox's creation and last
check, the tenant's and app registration's last save and the newest secret's creation:
every change the API shows (health, diagnosis, consent, credential) moves one of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import DateTimeField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from onboarding.diagnosis import CATALOGUE
from onboarding.models import ClientSecret, Mailbox

CREDENTIAL_TYPE = "client_secret"
VENDOR_APP = "vendor_app"


def active_secrets(tenant: Any) -> QuerySet[ClientSecret]:
    """The tenant's active secrets, newest first (an app has one; a renewal switches)."""
    return ClientSecret.objects.filter(
        app__tenant_id=tenant, status=ClientSecret.Status.ACTIVE
    ).order_by("-created_at", "-pk")


def connections(visible: Q) -> QuerySet[Mailbox]:
    active = active_secrets(OuterRef("tenant_id"))
    newest = ClientSecret.objects.filter(app__tenant_id=OuterRef("tenant_id")).order_by(
        "-created_at"
    )
    return (
        Mailbox.objects.filter(visible)
        .select_related("tenant", "tenant__app_registration")
        .annotate(
            credential_expires_on=Subquery(active.values("expires_on")[:1]),
            credential_secret_id=Subquery(active.values("secret_id")[:1]),
            credential_kind=Subquery(active.values("kind")[:1]),
            newest_secret_at=Subquery(newest.values("created_at")[:1]),
        )
        .annotate(
            # SQLite's MAX() is NULL when any argument is: no NULL goes in.
            changed_at=Greatest(
                F("created_at"),
                Coalesce("last_checked_at", "created_at"),
                F("tenant__updated_at"),
                Coalesce("tenant__app_registration__updated_at", "created_at"),
                Coalesce("newest_secret_at", "created_at"),
                output_field=DateTimeField(),
            )
        )
    )


def filtered(
    rows: QuerySet[Mailbox],
    *,
    tenant: Any = None,
    health: str | None = None,
    changed_since: datetime | None = None,
) -> QuerySet[Mailbox]:
    if tenant is not None:
        rows = rows.filter(tenant_id=tenant)
    if health:
        rows = rows.filter(health=health)
    if changed_since is not None:
        rows = rows.filter(changed_at__gte=changed_since)  # type: ignore[misc]
    return rows


def diagnosis_of(code: str) -> dict[str, str] | None:
    """The current diagnosis as support's pages name it (onboarding.diagnosis)."""
    if not code:
        return None
    found = CATALOGUE.get(code)
    return {"code": code, "title": found.title if found else code}


def consent_state(mailbox: Mailbox) -> str:
    app = getattr(mailbox.tenant, "app_registration", None)
    return (app.consent_state if app is not None else "") or "none"


def mailbox_ref(mailbox: Mailbox) -> dict[str, str]:
    return {"address": mailbox.address, "upn": mailbox.sign_in_name}


def row(mailbox: Mailbox) -> dict[str, Any]:
    """One connection, as the API returns it (api/serializers.py documents it)."""
    tenant = mailbox.tenant
    expires_on = getattr(mailbox, "credential_expires_on", None)
    secret_id = getattr(mailbox, "credential_secret_id", None)
    kind = getattr(mailbox, "credential_kind", None)
    credential_type = "certificate" if kind == ClientSecret.Kind.CERTIFICATE else CREDENTIAL_TYPE
    return {
        "id": str(mailbox.pk),
        "tenant": {
            "id": str(tenant.pk),
            "name": tenant.name,
            "customer_reference": tenant.customer_reference,
        },
        "mailbox": mailbox_ref(mailbox),
        "health": mailbox.health,
        "last_checked_at": iso(mailbox.last_checked_at),
        "last_success_at": iso(mailbox.last_success_at),
        "diagnosis": diagnosis_of(mailbox.diagnosis_code),
        "credential": _credential(tenant, credential_type, secret_id, expires_on),
        "consent": {"state": consent_state(mailbox)},
        "changed_at": iso(getattr(mailbox, "changed_at", None)),
    }


def _credential(tenant: Any, kind: str, secret_id: Any, expires_on: Any) -> dict[str, Any] | None:
    if tenant.uses_vendor_app:
        # The vendor's own app and certificate: nothing of the customer's expires.
        return {"type": VENDOR_APP, "secret_id": None, "expires_on": None}
    if secret_id is None:
        return None
    return {
        "type": kind,
        "secret_id": str(secret_id),
        "expires_on": expires_on.isoformat() if expires_on else None,
    }


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    # DRF's format: ISO 8601 with "Z" for UTC.
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
