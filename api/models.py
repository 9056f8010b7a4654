"""Service accounts (who the operations app is), their keys, and the API's call log.

A key is shown once and stored only as a SHA-256 hash of its random part (see
api/keys.py for why a fast hash is right for a 256-bit random secret). An account may
hold several keys at once: that is how a rotation overlaps (the old key stays valid
until the time given, the new one works at once).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    CONNECTIONS_READ = "connections:read", "Read connections"
    TOKENS_ISSUE = "tokens:issue", "Issue mail tokens"
    CREDENTIALS_EXPORT = "credentials:export", "Export credentials (legacy hand-off)"
    WEBHOOKS_MANAGE = "webhooks:manage", "Manage webhook endpoints"


SCOPES = frozenset(Scope.values)


class ServiceAccount(models.Model):
    """The operations app (or one deployment of it), as the API knows it.

    It is what DRF puts in `request.user`: `is_authenticated` is always True for an
    account that a key authenticated (unusable accounts never get that far).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    scopes = models.JSONField(default=list, blank=True)
    # Empty: every tenant. Otherwise the only tenants this account may see; any other
    # is answered exactly as an unknown id (404).
    tenants = models.ManyToManyField(
        "onboarding.Tenant", blank=True, related_name="service_accounts"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The operations app's RSA public key (a public JWK) for the legacy hand-off.
    public_jwk = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "created_at"]

    def __str__(self) -> str:
        return self.name

    # What DRF and Django's middleware ask of request.user.
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def is_usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ServiceKey(models.Model):
    """One key of an account: `mbp_live_<key_id>_<secret>`, of which only the key id and
    a hash of the secret are kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="keys")
    # Public, in the key itself: finds the row without a search on the hash.
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set by a rotation: the old key keeps working until then.
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute per key (api/keys.py), not on every call.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Key {self.key_id} of {self.account_id}"

    def is_usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiCall(models.Model):
    """One API call that a key made and the API answered (append-only): which key, for
    which tenant and mailbox, what. Refused calls (401, 403, 404, 400, 429) write
    nothing; they are logged without the key. Never holds a secret or a token."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    account = models.ForeignKey(
        ServiceAccount, null=True, on_delete=models.SET_NULL, related_name="calls"
    )
    key_id = models.CharField(max_length=16)
    # Ids as text, so the record outlives the tenant's or mailbox's deletion.
    tenant_id = models.CharField(max_length=36, blank=True, db_index=True)
    mailbox_id = models.CharField(max_length=36, blank=True)
    action = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["account", "-at"], name="apicall_account_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.key_id} {self.action} {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("API calls are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("API calls are append-only.")
