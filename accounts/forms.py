from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.http import HttpRequest

from accounts import rate_limits
from accounts.client_ip import client_ip
from accounts.models import User
from accounts.tasks import password_reset_send

logger = logging.getLogger(__name__)


class LoginForm(AuthenticationForm):
    """Django's sign-in form with the portal's words. The address is looked up without
    regard to case (User.objects.get_by_natural_key), so only the password is
    case-sensitive, and the message says so instead of Django's "both fields may be".
    The same words for a wrong password, an unknown address and an inactive account,
    so the page tells nobody which addresses have an account."""

    error_messages = {
        "invalid_login": (
            "The e-mail address or the password is not right. Check the password: capital "
            "letters count there (they do not in the address)."
        ),
        "inactive": (
            "The e-mail address or the password is not right. Check the password: capital "
            "letters count there (they do not in the address)."
        ),
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        # type=email: phones show the keyboard with the @.
        username.widget = forms.EmailInput(
            attrs={**username.widget.attrs, "autocomplete": "email", "spellcheck": "false"}
        )
        username.label = "E-mail address"


class NewPasswordForm(SetPasswordForm):
    """The password reset's last step, in the portal's words."""

    error_messages = {"password_mismatch": "The two passwords are not the same."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password2"].label = "Repeat the new password"


class ResetRequestForm(PasswordResetForm):
    """Queues the reset e-mail by user id; the page looks the same for unknown addresses."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def save(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        email = self.cleaned_data["email"]
        if not self._within_limits(email, request):
            return  # the page answers as always: nothing tells the sender it was refused
        for user in self.get_users(email):
            password_reset_send.delay(str(user.pk))

    @staticmethod
    def _within_limits(email: str, request: HttpRequest | None) -> bool:
        """Count the request per address and per client IP (known address or not, so
        the limit says nothing about accounts); False once either is over its limit."""
        ip = (client_ip(request) if request is not None else None) or "unknown"
        ip_ok = rate_limits.hit("password-reset-ip", ip, limit=settings.PASSWORD_RESETS_PER_IP_HOUR)
        address_ok = rate_limits.hit(
            "password-reset-address", email, limit=settings.PASSWORD_RESETS_PER_ADDRESS_HOUR
        )
        if ip_ok and address_ok:
            return True
        logger.warning(
            "Password reset refused: over the hourly limit per %s (address %s, IP %s); "
            "no e-mail sent.",
            "address" if ip_ok else "IP",
            rate_limits.fingerprint(email),
            rate_limits.fingerprint(ip),
        )
        return False


class NewAdminForm(forms.Form):
    """A new admin from an invitation chooses their name and password."""

    full_name = forms.CharField(
        label="Your full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Repeat the password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError("Please enter your name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords are not the same.")
        elif password1:
            # The user does not exist yet; validate against what they will be.
            candidate = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ExistingAccountForm(forms.Form):
    """An invitation to an address that has an account: its owner confirms with their password."""

    password = forms.CharField(
        label="Your current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, request: HttpRequest, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request, self.email = request, email
        self.user: User | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            # Through authenticate(), so the brute-force lockout applies here too.
            user = authenticate(self.request, username=self.email, password=password)
            if user is None:
                raise forms.ValidationError("That password is not right. Try again.")
            self.user = user
        return cleaned
