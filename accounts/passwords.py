"""Password reset: the link is built where the e-mail is sent, from the user id."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import emails
from accounts.models import User


def password_reset_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password-reset-confirm", kwargs={"uidb64": uid, "token": token})
    return settings.PORTAL_BASE_URL + path


def password_reset_send(*, user_id: str) -> bool:
    """E-mail a reset link to an active user who has a password. True if sent."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    emails.password_reset(user=user, link=password_reset_link(user))
    return True
