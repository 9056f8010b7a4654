from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from accounts.actors import Actor
from onboarding.client_secrets import secret_activate, secret_reject, secret_retire
from onboarding.models import AuditEvent, ClientSecret, Mailbox, Membership, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "onboarding_step", "health", "created_at"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "tenant", "action", "object_type", "ip_address"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ClientSecretAdminForm(forms.ModelForm):
    """The value is write-only: typed once, encrypted on save, never rendered back.
    The status is not a field: it changes only through the actions of the list, the
    audited transitions of onboarding.client_secrets."""

    new_value = forms.CharField(
        label="Secret value",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Leave blank to keep the current one.",
    )

    class Meta:
        model = ClientSecret
        fields = ["app", "secret_id", "expires_on"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance._state.adding and not cleaned.get("new_value"):
            self.add_error("new_value", "Enter the secret value.")
        return cleaned

    def save(self, commit: bool = True) -> ClientSecret:
        secret = super().save(commit=False)
        if self.cleaned_data.get("new_value"):
            secret.set_value(self.cleaned_data["new_value"])
        if commit:
            secret.save()
        return secret


@admin.register(ClientSecret)
class ClientSecretAdmin(admin.ModelAdmin):
    form = ClientSecretAdminForm
    list_display = ["secret_id", "hint", "app", "status", "expires_on", "value_key_id"]
    list_filter = ["status", "value_key_id"]
    readonly_fields = ["hint", "value_key_id", "status"]
    fields = ["app", "secret_id", "new_value", "hint", "value_key_id", "expires_on", "status"]
    actions = ["activate", "retire", "reject"]

    def _transition(self, request: HttpRequest, queryset: QuerySet, move: Any, done: str) -> None:
        actor = Actor.of(request)
        moved = [
            s for s in queryset.select_related("app__tenant") if move(s, actor=actor, via="admin")
        ]
        self.message_user(
            request, f"{len(moved)} of {queryset.count()} secret(s) {done}.", messages.INFO
        )

    @admin.action(description="Activate the selected pending secrets")
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._transition(request, queryset, secret_activate, "activated")

    @admin.action(description="Retire the selected live secrets")
    def retire(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._transition(request, queryset, secret_retire, "retired")

    @admin.action(description="Reject the selected pending secrets")
    def reject(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._transition(request, queryset, secret_reject, "rejected")

    @method_decorator(sensitive_post_parameters("new_value"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)


class MailboxAdminForm(forms.ModelForm):
    """The legacy password is write-only, like the secret value."""

    new_password = forms.CharField(
        label="New password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave blank to keep the current one.",
    )
    forget_password = forms.BooleanField(label="Remove the stored password", required=False)

    class Meta:
        model = Mailbox
        fields = ["tenant", "address"]

    def save(self, commit: bool = True) -> Mailbox:
        mailbox = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            mailbox.set_password(self.cleaned_data["new_password"])
        elif self.cleaned_data.get("forget_password"):
            mailbox.set_password(None)
        if commit:
            mailbox.save()
        return mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxAdminForm
    list_display = ["address", "tenant", "has_password", "password_key_id", "health"]
    list_filter = ["health", "password_key_id"]
    readonly_fields = ["has_password", "password_key_id"]
    fields = [
        "tenant",
        "address",
        "new_password",
        "forget_password",
        "has_password",
        "password_key_id",
    ]

    @method_decorator(sensitive_post_parameters("new_password"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)
