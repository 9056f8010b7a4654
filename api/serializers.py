"""The API's bodies: query and request validation, and the documented response shapes
(drf-spectacular builds the OpenAPI schema from these; schemathesis checks that every
answer matches them)."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from onboarding.models import Tenant


@extend_schema_field({"type": "string", "format": "date-time"})
class ZonedDateTime(serializers.CharField):
    """An ISO 8601 date-time that must name its time zone (a bare one would be ambiguous)."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        value = super().run_validation(data)  # a string, within max_length
        if value in (serializers.empty, None):
            return value
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise serializers.ValidationError(
                "Use an ISO 8601 date-time with a time zone, such as 2026-01-31T08:00:00Z."
            )
        return parsed


class ConnectionFilters(serializers.Serializer):
    tenant = serializers.UUIDField(required=False, help_text="Only this tenant's connections.")
    health = serializers.ChoiceField(
        choices=Tenant.Health.choices, required=False, help_text="Only connections in this health."
    )
    changed_since = ZonedDateTime(
        required=False,
        max_length=64,
        help_text="ISO 8601 date-time with a time zone (2026-01-31T08:00:00Z): only connections "
        "changed at or after it.",
    )
    cursor = serializers.CharField(required=False, max_length=1000)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class TenantRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    customer_reference = serializers.CharField(help_text="The vendor's own customer reference.")


class MailboxRef(serializers.Serializer):
    address = serializers.CharField()
    upn = serializers.CharField(help_text="Use it in Graph as /users/{upn}.")


class DiagnosisRef(serializers.Serializer):
    code = serializers.CharField(help_text="Stable name of the diagnosis (docs/api.md).")
    title = serializers.CharField(help_text="What is wrong, in plain words.")


class CredentialRef(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["client_secret", "certificate", "vendor_app"],
        help_text="vendor_app: the tenant connects through the vendor's own multi-tenant "
        "app and certificate (no secret_id or expiry of the customer's).",
    )
    secret_id = serializers.UUIDField(
        allow_null=True,
        help_text="The active credential's ID in Entra: a secret's Secret ID, or a "
        "certificate's Certificate ID; null for vendor_app.",
    )
    expires_on = serializers.DateField(allow_null=True)


class ConsentRef(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["confirmed", "claimed", "none"],
        help_text="confirmed: a passing check proved it; claimed: only the consent callback "
        "said so; none: not granted.",
    )


class Connection(serializers.Serializer):
    id = serializers.UUIDField(help_text="The connection's (mailbox's) id.")
    tenant = TenantRef()
    mailbox = MailboxRef()
    health = serializers.ChoiceField(choices=Tenant.Health.choices)
    last_checked_at = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    diagnosis = DiagnosisRef(allow_null=True)
    credential = CredentialRef(allow_null=True)
    consent = ConsentRef()
    changed_at = serializers.DateTimeField()


class ConnectionPage(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = Connection(many=True)


class ConnectionHealth(serializers.Serializer):
    id = serializers.UUIDField()
    health = serializers.ChoiceField(choices=Tenant.Health.choices)
    diagnosis = DiagnosisRef(allow_null=True)


class Token(serializers.Serializer):
    access_token = serializers.CharField(
        help_text="A Microsoft Graph access token: app-only, or for a personal Outlook.com "
        "mailbox its owner's delegated token (kind)."
    )
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_at = serializers.DateTimeField(help_text="At least 5 minutes from now.")
    expires_in = serializers.IntegerField(help_text="Seconds left, at least 300.")
    graph_base_url = serializers.URLField(help_text="Graph's v1.0 root in the tenant's cloud.")
    mailbox = MailboxRef()
    user_path = serializers.CharField(
        help_text="/users/{upn}, or /me for a delegated token: append to graph_base_url."
    )
    kind = serializers.ChoiceField(
        choices=["application", "delegated"],
        help_text="application: the app's own token (Mail.Read and Mail.Send roles); "
        "delegated: the mailbox owner's sign-in (scopes Mail.Read Mail.Send), for /me only.",
    )
    connection = ConnectionHealth(help_text="The connection's health: a failing one answers too.")


class TokenRequest(serializers.Serializer):
    """No fields: the connection is in the path."""


class CredentialsRequest(serializers.Serializer):
    reason = serializers.CharField(
        min_length=3,
        max_length=500,
        help_text="Why the legacy values are needed: kept in the audit log.",
    )


class SealedCredentials(serializers.Serializer):
    jwe = serializers.CharField(
        help_text="JWE compact serialization (RSA-OAEP-256, A256GCM) of a JSON object: "
        "client_id, client_secret, client_secret_id, mailbox_username, mailbox_password "
        "(null if none is stored), directory, connection_id, exported_at."
    )
    alg = serializers.ChoiceField(choices=["RSA-OAEP-256"])
    enc = serializers.ChoiceField(choices=["A256GCM"])
    kid = serializers.CharField(allow_blank=True)
    exported_at = serializers.DateTimeField()


class Problem(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
    diagnosis = DiagnosisRef(required=False)
    retry_after = serializers.IntegerField(required=False)
