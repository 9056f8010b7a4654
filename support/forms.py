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
