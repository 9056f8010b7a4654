"""Sign-ins, sign-outs and failures go to the audit log (connected in OnboardingConfig)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.actors import Actor
from accounts.models import User
from onboarding.audit import audit_record
from onboarding.models import Tenant


def _only_tenant(user: User) -> Tenant | None:
    memberships = list(user.memberships.select_related("tenant")[:2])
    return memberships[0].tenant if len(memberships) == 1 else None


def _attempted_username(credentials: dict[str, Any]) -> str:
    # People type passwords into the user-name field; only something shaped
    # like an address is kept, so the audit log never holds a stray password.
    username = str(credentials.get("username") or "").strip().lower()
    return username[:254] if "@" in username and " " not in username else ""


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit_record(action="login", actor=Actor.of(request, user), tenant=_only_tenant(user))


@receiver(user_logged_out)
def audit_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        audit_record(action="logout", actor=Actor.of(request, user), tenant=_only_tenant(user))


@receiver(user_login_failed)
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    audit_record(
        action="login.failed", actor=Actor.of(request), username=_attempted_username(credentials)
    )


@receiver(user_locked_out)
def audit_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    audit_record(
        action="login.locked_out",
        actor=Actor.of(request),
        username=_attempted_username({"username": username}),
    )
