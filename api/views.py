"""The API's views: thin. They validate, look up what the key may see (404 otherwise),
call api.tokens / api.handoff / api.connections, and record the call.

Order of refusals, the same everywhere: body too large (413), key (401), scope (403),
rate (429), then the id (404, also for a connection of a tenant the key may not see),
then parameters and body (400). A refused call writes nothing.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.client_ip import client_ip
from api import connections, handoff, keys, memo, problems, serializers, tokens
from api.authentication import service_key
from api.models import ApiCall, Scope, ServiceAccount
from api.permissions import allowed_tenant_ids, visible_tenants
from onboarding.audit import audit_record
from onboarding.models import Mailbox

logger = logging.getLogger(__name__)
_MAILBOXES = memo.Memo()

_PROBLEM = OpenApiResponse(serializers.Problem, description="Problem details (RFC 9457)")
COMMON_ERRORS = {
    401: OpenApiResponse(
        serializers.Problem, description="Missing, unknown, expired or revoked key"
    ),
    403: OpenApiResponse(serializers.Problem, description="The key lacks the scope"),
    429: OpenApiResponse(serializers.Problem, description="Rate limit of the key; see Retry-After"),
}
_OBJECT_ERRORS = {
    404: OpenApiResponse(serializers.Problem, description="No such connection for this key"),
    **COMMON_ERRORS,
}
_BODY_ERRORS = {
    400: OpenApiResponse(serializers.Problem, description="Bad body"),
    413: OpenApiResponse(serializers.Problem, description="Body too large"),
    415: OpenApiResponse(serializers.Problem, description="Not JSON"),
}


class ApiView(APIView):
    """Base of every API view: the body limit, and the call log of answered calls."""

    required_scope: str | None = None
    audit_action = ""
    # No OPTIONS metadata: the schema documents the API (OPTIONS is then a 405).
    metadata_class = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.PORTAL_API_MAX_BODY_BYTES
        if not length.isdigit() or int(length) > limit:
            raise problems.BodyTooLarge(limit)
        self.audit_tenant_id = ""
        self.audit_mailbox_id = ""
        self.audit_details: dict[str, Any] = {}
        super().initial(request, *args, **kwargs)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        key = service_key(request)
        answered = response.status_code < 400 or response.status_code in (409, 503)
        if key is not None and answered and self.audit_action:
            keys.touch(key)
            ApiCall.objects.create(
                account_id=key.account_id,
                key_id=key.key_id,
                tenant_id=self.audit_tenant_id,
                mailbox_id=self.audit_mailbox_id,
                action=self.audit_action,
                status=response.status_code,
                ip_address=client_ip(request._request),
                details=self.audit_details,
            )
        return response

    def connection(self, request: Request, pk: Any, *, full: bool = True) -> Mailbox:
        """The connection, or 404 exactly as for an unknown id when the key may not see
        its tenant (the URL admits UUIDs only). `full`: with everything a row shows;
        else the mailbox alone, from memory while nothing changed (the token call's hot
        path, api/memo.py)."""
        if full:
            mailbox = connections.connections(visible_tenants(request)).filter(pk=pk).first()
        else:
            mailbox = _MAILBOXES.get(
                str(pk), memo.version(request), Mailbox.objects.filter(pk=pk).first
            )
            allowed = allowed_tenant_ids(request)
            if mailbox is not None and allowed is not None and mailbox.tenant_id not in allowed:
                mailbox = None
        if mailbox is None:
            raise exceptions.NotFound("There is no such connection.")
        self.audit_tenant_id = str(mailbox.tenant_id)
        self.audit_mailbox_id = str(mailbox.pk)
        return mailbox

    def empty_or_json_object(self, request: Request) -> dict[str, Any]:
        """A body is optional; one that is given must be a JSON object."""
        if int(request.META.get("CONTENT_LENGTH") or 0) == 0:
            return {}
        data = request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
        return data


class ConnectionCursor(CursorPagination):
    ordering = ("created_at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": ["This cursor is not valid."]}) from None


class ConnectionList(ApiView):
    """Every connection (one per mailbox) the key may see, oldest first, in pages; the
    `next` link carries the cursor. Needs connections:read."""

    required_scope = Scope.CONNECTIONS_READ
    audit_action = "connections.list"

    @extend_schema(
        operation_id="connections_list",
        summary="List connections (one per mailbox)",
        parameters=[serializers.ConnectionFilters],
        responses={
            200: serializers.ConnectionPage,
            304: OpenApiResponse(description="Not modified (If-None-Match)"),
            400: _PROBLEM,
            **COMMON_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        filters = serializers.ConnectionFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        rows = connections.filtered(
            connections.connections(visible_tenants(request)),
            tenant=values.get("tenant"),
            health=values.get("health"),
            changed_since=values.get("changed_since"),
        )
        paginator = ConnectionCursor()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        self.audit_details = {"count": len(page)}
        return paginator.get_paginated_response([connections.row(m) for m in page])


class ConnectionDetail(ApiView):
    """One connection; 404 for an unknown id and for one the key may not see alike.
    Needs connections:read."""

    required_scope = Scope.CONNECTIONS_READ
    audit_action = "connections.read"

    @extend_schema(
        operation_id="connections_retrieve",
        summary="One connection",
        responses={
            200: serializers.Connection,
            304: OpenApiResponse(description="Not modified (If-None-Match)"),
            **_OBJECT_ERRORS,
        },
    )
    def get(self, request: Request, pk: Any) -> Response:
        return Response(connections.row(self.connection(request, pk)))


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


class ConnectionToken(ApiView):
    """A Graph access token for the connection's app, with at least 5 minutes left, from
    the portal's shared token cache. A failing connection still gets one (its health is
    in the body); a credential the portal cannot use is a 409 with the diagnosis. Needs
    tokens:issue."""

    required_scope = Scope.TOKENS_ISSUE
    audit_action = "token.issue"

    @extend_schema(
        operation_id="connections_token",
        summary="A Microsoft Graph access token for the connection's mailbox",
        request=serializers.TokenRequest,
        responses={
            200: serializers.Token,
            409: OpenApiResponse(
                serializers.Problem, description="The stored credential cannot be used"
            ),
            503: OpenApiResponse(serializers.Problem, description="Microsoft unavailable"),
            **_BODY_ERRORS,
            **_OBJECT_ERRORS,
        },
    )
    def post(self, request: Request, pk: Any) -> Response:
        mailbox = self.connection(request, pk, full=False)
        self.empty_or_json_object(request)
        health = {
            "id": str(mailbox.pk),
            "health": mailbox.health,
            "diagnosis": connections.diagnosis_of(mailbox.diagnosis_code),
        }
        try:
            issued = tokens.issue(mailbox, memo.version(request))
        except tokens.Unusable as exc:
            self.audit_details = {"refused": exc.code}
            return _no_store(_unusable(exc))
        except tokens.Unavailable as exc:
            self.audit_details = {"unavailable": exc.code}
            wait = max(1, int(exc.retry_after or 5))
            answer = problems.response(
                503, "Microsoft did not answer the token request; try again.", retry_after=wait
            )
            answer["Retry-After"] = str(wait)
            return _no_store(answer)
        self.audit_details = {"expires_in": issued.expires_in}
        upn = mailbox.sign_in_name
        delegated = issued.kind == "delegated"
        return _no_store(
            Response(
                {
                    "access_token": issued.access_token,
                    "token_type": "Bearer",
                    "expires_at": connections.iso(issued.expires_at),
                    "expires_in": issued.expires_in,
                    "graph_base_url": tokens.graph_base_url(),
                    "mailbox": connections.mailbox_ref(mailbox),
                    "user_path": "/me" if delegated else f"/users/{quote(upn, safe='@')}",
                    "kind": issued.kind,
                    "connection": health,
                }
            )
        )


def _unusable(exc: tokens.Unusable) -> Response:
    return problems.response(
        409,
        "The portal cannot get a token with the credential it stores; the diagnosis says "
        "what the customer must fix.",
        diagnosis={"code": exc.diagnosis.key, "title": exc.diagnosis.title},
    )


class ConnectionCredentials(ApiView):
    """The legacy hand-off, off unless PORTAL_API_CREDENTIAL_EXPORT is set: the guide's
    five values sealed to the account's registered RSA public key. Needs
    credentials:export and a reason (audited)."""

    required_scope = Scope.CREDENTIALS_EXPORT
    audit_action = "credentials.export"

    @extend_schema(
        operation_id="connections_credentials",
        summary="The legacy hand-off: the guide's five values, sealed (JWE)",
        request=serializers.CredentialsRequest,
        responses={
            200: serializers.SealedCredentials,
            409: OpenApiResponse(
                serializers.Problem,
                description="No public key registered, or the credential cannot be used",
            ),
            **_BODY_ERRORS,
            **_OBJECT_ERRORS,
        },
    )
    def post(self, request: Request, pk: Any) -> Response:
        if not settings.PORTAL_API_CREDENTIAL_EXPORT:
            raise exceptions.PermissionDenied(
                "The legacy credential hand-off is turned off in this portal; use the token "
                "endpoint."
            )
        mailbox = self.connection(request, pk, full=False)
        body = serializers.CredentialsRequest(data=self.empty_or_json_object(request))
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        account: ServiceAccount = request.user
        if not account.public_jwk:
            return _no_store(
                problems.response(
                    409,
                    "This service account has no public key registered to seal the values to.",
                    slug="no-public-key",
                    title="No public key registered",
                )
            )
        try:
            sealed, kid = handoff.seal(mailbox, account.public_jwk)  # never logged
        except tokens.Unusable as exc:
            self.audit_details = {"refused": exc.code, "reason": reason}
            return _no_store(_unusable(exc))
        except handoff.InvalidPublicKey as exc:
            return _no_store(
                problems.response(409, str(exc), slug="no-public-key", title="Unusable public key")
            )
        except handoff.CertificateOnly:
            self.audit_details = {"refused": "certificate_credential", "reason": reason}
            return _no_store(
                problems.response(
                    409,
                    "This connection signs in with a certificate whose private key never leaves "
                    "the portal; use the token call.",
                    slug="certificate-credential",
                    title="No secret to hand off",
                )
            )
        now = timezone.now()
        self.audit_details = {"reason": reason}
        with transaction.atomic():
            # On the tenant's page in support: "credentials exported to <account> at <time>".
            audit_record(
                action="api.credentials_exported",
                tenant=mailbox.tenant,
                obj=mailbox,
                service_account=account.name,
                service_account_id=str(account.pk),
                key_id=request.auth.key_id,
                reason=reason,
            )
        return _no_store(
            Response(
                {
                    "jwe": sealed,
                    "alg": handoff.ALG,
                    "enc": handoff.ENC,
                    "kid": kid,
                    "exported_at": connections.iso(now),
                }
            )
        )
