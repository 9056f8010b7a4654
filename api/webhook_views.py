"""Webhook endpoints of the key's own service account (scope `webhooks:manage`).

List, register (the answer holds the signing secret, once), read, delete and rotate
the secret. An endpoint of another account answers exactly as an unknown id (404).
URLs and events are checked by webhooks.endpoints, which refuses private, loopback and
the portal's own addresses (400 problem, naming the field); nothing is written then.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.models import Scope
from api.serializers import Problem
from api.views import COMMON_ERRORS, ApiView
from webhooks import endpoints
from webhooks.models import EVENT_TYPES, Endpoint

_PROBLEM = OpenApiResponse(Problem, description="Problem details (RFC 9457)")
_NOT_FOUND = {
    404: OpenApiResponse(Problem, description="No such endpoint for this key"),
    **COMMON_ERRORS,
}
EVENT_CHOICES = sorted(EVENT_TYPES)


class EndpointSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))
    enabled = serializers.BooleanField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField(allow_blank=True)
    # Until then the previous signing secret signs too (after a rotation).
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class NewEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="The signing secret (whsec_...): shown only now.")


class EndpointRequest(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="A public https:// URL.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1, max_length=20
    )


class EndpointPage(serializers.Serializer):
    results = EndpointSerializer(many=True)


class NewSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret (whsec_...): shown only now.")
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


def _row(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": str(endpoint.pk),
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "disabled_at": _iso(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason,
        "previous_secret_expires_at": _iso(endpoint.previous_secret_expires_at),
        "created_at": _iso(endpoint.created_at),
    }


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _no_store(response: Response) -> Response:
    # The answer holds a signing secret: no cache may keep it.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


class WebhookView(ApiView):
    """Webhook endpoints of the key's own service account (scope `webhooks:manage`)."""

    required_scope = Scope.WEBHOOKS_MANAGE

    def endpoint(self, request: Request, pk: Any) -> Endpoint:
        found = Endpoint.objects.filter(pk=pk, owner_id=request.user.pk).first()
        if found is None:
            raise exceptions.NotFound("There is no such webhook endpoint.")
        self.audit_details = {"endpoint_id": str(found.pk)}
        return found


class EndpointList(WebhookView):
    """The account's endpoints, without their secrets; registering one returns its
    signing secret (`whsec_...`) in this answer only. URLs must be public https
    addresses: private, loopback and the portal's own are refused (400)."""

    audit_action = "webhooks.endpoints.list"

    @extend_schema(
        operation_id="webhook_endpoints_list",
        summary="List this account's webhook endpoints",
        responses={200: EndpointPage, **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        rows = [_row(endpoint) for endpoint in endpoints.owned_by(request.user.pk)]
        self.audit_details = {"count": len(rows)}
        return Response({"results": rows})

    @extend_schema(
        operation_id="webhook_endpoints_create",
        summary="Register a webhook endpoint (the answer holds its signing secret, once)",
        request=EndpointRequest,
        responses={
            201: NewEndpointSerializer,
            400: _PROBLEM,
            413: _PROBLEM,
            415: _PROBLEM,
            **COMMON_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        self.audit_action = "webhooks.endpoints.create"
        data = request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
        shape = EndpointRequest(data=data)
        shape.is_valid(raise_exception=True)
        try:
            endpoint, secret = endpoints.create(
                request.user.pk,
                url=shape.validated_data["url"],
                events=shape.validated_data["events"],
            )
        except endpoints.EndpointRefused as refused:
            raise exceptions.ValidationError({refused.field: [refused.message]}) from None
        self.audit_details = {"endpoint_id": str(endpoint.pk), "events": endpoint.events}
        return _no_store(Response({**_row(endpoint), "secret": secret}, status=201))


class EndpointDetail(WebhookView):
    """One endpoint of the account; another account's answers 404 like an unknown id."""

    audit_action = "webhooks.endpoints.read"

    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        summary="One webhook endpoint",
        responses={200: EndpointSerializer, **_NOT_FOUND},
    )
    def get(self, request: Request, pk: Any) -> Response:
        return Response(_row(self.endpoint(request, pk)))

    @extend_schema(
        operation_id="webhook_endpoints_destroy",
        summary="Delete a webhook endpoint (its pending deliveries are dropped)",
        responses={204: None, **_NOT_FOUND},
    )
    def delete(self, request: Request, pk: Any) -> Response:
        self.audit_action = "webhooks.endpoints.delete"
        endpoints.delete(self.endpoint(request, pk))
        return Response(status=204)


class EndpointRotateSecret(WebhookView):
    """A new signing secret, returned once. Until `previous_secret_expires_at` every
    webhook carries two signatures, one per secret, so receivers can switch over."""

    audit_action = "webhooks.endpoints.rotate_secret"

    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        summary="A new signing secret; the old one keeps signing for the overlap",
        request=None,
        responses={200: NewSecretSerializer, **_NOT_FOUND},
    )
    def post(self, request: Request, pk: Any) -> Response:
        endpoint = self.endpoint(request, pk)
        secret = endpoints.rotate(endpoint)
        endpoint.refresh_from_db()
        body = {
            "secret": secret,
            "previous_secret_expires_at": _iso(endpoint.previous_secret_expires_at),
        }
        return _no_store(Response(body))
