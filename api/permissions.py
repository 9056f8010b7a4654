"""Scopes (403) and the tenant restriction (404, exactly as an unknown id)."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Q
from rest_framework import permissions
from rest_framework.request import Request

from api.authentication import INVALID_KEY
from api.models import ServiceAccount

_UNREAD = object()


class HasScope(permissions.BasePermission):
    """A view names its `required_scope`; a view without one refuses every key, so a
    view cannot be opened by forgetting to name it."""

    message = INVALID_KEY

    def has_permission(self, request: Request, view: Any) -> bool:
        account = request.user
        if not isinstance(account, ServiceAccount):
            # DRF turns a refusal without authentication into its 401 (NotAuthenticated).
            return False
        scope = getattr(view, "required_scope", None)
        if scope is None or not account.has_scope(scope):
            self.message = (
                f"This key's service account lacks the scope '{scope}'."
                if scope
                else "This endpoint is not open to service keys."
            )
            return False
        return True


def allowed_tenant_ids(request: Request) -> list[Any] | None:
    """The tenant ids the request's account may see, or None for every tenant. Read once
    per request (kept on the account, which each request loads afresh)."""
    account = request.user
    if not isinstance(account, ServiceAccount):
        return []  # nobody: an unauthenticated request sees no tenant
    ids = getattr(account, "_tenant_ids", _UNREAD)
    if ids is _UNREAD:
        ids = list(account.tenants.values_list("pk", flat=True)) or None
        account._tenant_ids = ids  # type: ignore[attr-defined]
    return cast("list[Any] | None", ids)


def visible_tenants(request: Request, field: str = "tenant_id") -> Q:
    """A filter for querysets: `Model.objects.filter(visible_tenants(request))` keeps the
    rows of the tenants the key may see (`field` names the tenant id, e.g.
    "tenant_id" or "mailbox__tenant_id"). Everything else must then answer 404."""
    ids = allowed_tenant_ids(request)
    if ids is None:
        return Q()
    return Q(**{f"{field}__in": ids})
