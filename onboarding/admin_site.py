"""The Django admin, behind the same second factor as /support/, for superusers only,
and audited: every addition, change, deletion and action lands in the AuditEvent log
(Django's LogEntry keeps recording them too).

Who gets what, as on /support/: anonymous visitors are sent to the portal's sign-in
page (the admin's own login form is never shown, so django-axes and the sign-in audit
see every attempt); a signed-in user who is not an active superuser gets a 404; a
superuser whose session has no verified TOTP code is sent to the support two-factor
page (which leads to enrolment when there is no device yet) and back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import update_wrapper
from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.common import no_append_slash

from accounts.actors import Actor
from onboarding.audit import audit_record
from onboarding.models import Tenant


def _tenant_of(obj: models.Model) -> Tenant | None:
    """The tenant an object belongs to, when it says so (directly or through its app)."""
    if isinstance(obj, Tenant):
        return obj
    for path in (("tenant",), ("app", "tenant"), ("mailbox", "tenant")):
        value: Any = obj
        for name in path:
            value = getattr(value, name, None)
        if isinstance(value, Tenant):
            return value
    return None


def _admin_audit(
    request: HttpRequest, action: str, objects: Iterable[models.Model], **details: Any
) -> None:
    actor = Actor.of(request)
    for obj in objects:
        audit_record(
            action=action,
            actor=actor,
            tenant=_tenant_of(obj),
            obj=obj,
            object_repr=str(obj)[:200],
            **details,
        )


class AuditedAdminMixin:
    """Every change made in the admin, written to the audit log. The site mixes it
    into every ModelAdmin registered with it, the third-party ones (TOTP devices,
    groups) included."""

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        _admin_audit(request, "admin.added", [obj], changes=message)
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        _admin_audit(request, "admin.changed", [obj], changes=message)
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        # Called before the deletion (the delete view and the "delete selected" action).
        _admin_audit(request, "admin.deleted", list(queryset))
        return super().log_deletions(request, queryset)  # type: ignore[misc]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        return {
            # "delete selected" is audited by log_deletions, once the deletion is confirmed.
            name: (func if name == "delete_selected" else _audited_action(func, name), n, desc)
            for name, (func, n, desc) in actions.items()
        }


def _audited_action(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    def audited(modeladmin: Any, request: HttpRequest, queryset: Any) -> Any:
        selected = list(queryset)
        response = func(modeladmin, request, queryset)
        _admin_audit(request, "admin.action", selected, admin_action=name)
        return response

    return update_wrapper(audited, func)


class PortalAdminSite(admin.AdminSite):
    site_header = "Mailbox portal administration"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (AuditedAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        verified = getattr(user, "is_verified", None)
        return bool(user.is_active and user.is_superuser and callable(verified) and verified())

    def _refusal(self, request: HttpRequest, next_url: str) -> HttpResponseBase | None:
        """None when the request may go on; else where it goes instead (or a 404)."""
        user = request.user
        if not user.is_authenticated:
            response: HttpResponseBase = redirect_to_login(next_url)
        elif not (user.is_active and user.is_superuser):
            raise Http404
        elif not self.has_permission(request):
            query = urlencode({"next": next_url})
            response = redirect(f"{reverse('support:two-factor')}?{query}")
        else:
            return None
        add_never_cache_headers(response)
        return response

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refusal = self._refusal(request, request.get_full_path())
            return refusal or inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Never the admin's own form: the portal's sign-in, then the second factor."""
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = reverse("admin:index", current_app=self.name)
        refusal = self._refusal(request, target)
        return refusal or redirect(target)  # type: ignore[return-value]

    @no_append_slash
    def catch_all_view(self, request: HttpRequest, url: str) -> HttpResponse:
        refusal = self._refusal(request, request.get_full_path())
        return refusal or super().catch_all_view(request, url)  # type: ignore[return-value]
