from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms

from onboarding.models import Tenant


class TenantCreateForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=200)
    admin_email = forms.EmailField(
        label="E-mail address of its first admin",
        help_text="They receive a link to choose a password and start the setup.",
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter the organisation's name.")
        if Tenant.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A tenant with this name already exists.")
        return name


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address of the new admin")


class NotificationAddressForm(forms.Form):
    email = forms.EmailField(label="E-mail address that also receives reminders")


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Internal note", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Write the note.")
        return text


class TokenForm(forms.Form):
    token = forms.RegexField(
        label="6-digit code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Enter the 6 digits your app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip()


# --- The operations app's API: service accounts and the tenant's customer reference.

# An account's expiry, in days from now: a key that lives forever is a key nobody
# remembers to rotate, so there is always one, at most about two years away.
SERVICE_ACCOUNT_MAX_DAYS = 730
# How long the old keys keep working after a rotation (the overlap in which the
# operations app deploys the new key), in hours; 0 ends them at once.
ROTATION_OVERLAPS = [
    ("1", "1 hour"),
    ("24", "24 hours"),
    ("72", "3 days"),
    ("168", "7 days"),
    ("0", "No overlap: the old keys stop working now"),
]


class ServiceAccountForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        help_text="Who uses it, for example “Operations app, production”.",
        error_messages={"required": "Give the service account a name."},
    )
    scopes = forms.MultipleChoiceField(
        label="What it may do",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one thing it may do."},
    )
    tenants = forms.CharField(
        label="Only these tenants (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Tenant names or customer references, one a line. Empty: every tenant.",
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        initial=365,
        min_value=1,
        max_value=SERVICE_ACCOUNT_MAX_DAYS,
        error_messages={
            "required": "Say after how many days it expires.",
            "invalid": "Enter a whole number of days.",
            "min_value": "It must last at least 1 day.",
            "max_value": f"It may last at most {SERVICE_ACCOUNT_MAX_DAYS} days; rotate it then.",
        },
    )
    public_jwk = forms.CharField(
        label="RSA public key for the legacy hand-off (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="A public JWK (JSON, kty RSA, at least 2048 bits), only if the operations "
        "app must receive the guide's five values instead of tokens.",
    )

    # Names this filled-in form, so that sending it twice (a reload of the key's page)
    # creates one account, not two.
    form_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, scope_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("form_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = scope_choices  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the service account a name.")
        return name

    def clean_tenants(self) -> list[Tenant]:
        found: list[Tenant] = []
        unknown: list[str] = []
        for line in self.cleaned_data["tenants"].splitlines():
            wanted = " ".join(line.split())
            if not wanted:
                continue
            tenant = (
                Tenant.objects.filter(name__iexact=wanted).first()
                or Tenant.objects.filter(customer_reference__iexact=wanted).first()
            )
            if tenant is None:
                unknown.append(wanted)
            elif tenant not in found:
                found.append(tenant)
        if unknown:
            raise forms.ValidationError(
                f"No tenant is named or has the customer reference: {', '.join(unknown)}."
            )
        return found

    def clean_public_jwk(self) -> dict[str, Any] | None:
        text = self.cleaned_data["public_jwk"].strip()
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            raise forms.ValidationError(
                "The public key is not valid JSON: paste the whole JWK, braces included."
            ) from None
        if not isinstance(data, dict):
            raise forms.ValidationError("The public key must be one JWK, a JSON object.")
        return data


class RotateForm(forms.Form):
    overlap_hours = forms.TypedChoiceField(
        label="The old keys keep working for",
        choices=ROTATION_OVERLAPS,
        coerce=int,
        initial="24",
        error_messages={"invalid_choice": "Choose how long the old keys keep working."},
    )


class DisableEndpointForm(forms.Form):
    reason = forms.CharField(
        label="Why (the operations app's developers see this)",
        max_length=300,
        required=False,
        initial="Disabled by support.",
    )


class CustomerReferenceForm(forms.Form):
    customer_reference = forms.CharField(
        label="Customer reference",
        max_length=Tenant._meta.get_field("customer_reference").max_length,
        required=False,
        help_text="The vendor's own id for this customer (billing or CRM); the operations "
        "app's API returns it. Leave empty to remove it.",
        error_messages={"max_length": "Keep it to %(limit_value)d characters."},
    )

    def clean_customer_reference(self) -> str:
        return " ".join(self.cleaned_data["customer_reference"].split())
