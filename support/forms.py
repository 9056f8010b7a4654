from __future__ import annotations

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
