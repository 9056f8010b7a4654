"""The audit log: one function that records who did what, from where.

Events are append-only (the model refuses updates and deletes). Details are
plain JSON facts; a key that names a secret is refused outright, because a
secret in the audit log would outlive every rotation of it.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from accounts.actors import SYSTEM, Actor
from onboarding.models import AuditEvent, Tenant

# The names under which a secret could arrive. Refusing them here turns a
# careless call into a failing test instead of a leak.
SECRET_KEYS = frozenset(
    {"password", "token", "secret", "value", "secret_value", "client_secret", "key"}
)


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_KEYS or "password" in lowered or "token" in lowered


def audit_record(
    *,
    action: str,
    actor: Actor = SYSTEM,
    tenant: Tenant | None = None,
    obj: models.Model | None = None,
    **details: Any,
) -> AuditEvent:
    """Write one audit event. `details` must be JSON-serialisable and never a secret."""
    refused = sorted(key for key in details if _is_secret_key(key))
    if refused:
        raise ValueError(f"Audit details must not hold secrets: {', '.join(refused)}")
    user = actor.user
    return AuditEvent.objects.create(
        action=action,
        actor=user,
        actor_label=user.email if user is not None else "",
        tenant=tenant,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        ip_address=actor.ip_address,
        details=details,
    )
