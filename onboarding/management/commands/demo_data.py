"""Demo data for `make run`: a support user, Contoso Freight waiting for its admin,
and a few tenants at other stages. Safe to run again: the state stays the same,
only the pending Contoso invitation is replaced (its token is stored hashed, so
a fresh link is the only way to print one)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import SUPPORT_GROUP, User
from onboarding.checks.health import tenant_recompute
from onboarding.invitations.services import invitation_create, invitation_link
from onboarding.models import AppRegistration, ClientSecret, Mailbox, Membership, Tenant
from onboarding.progress import record_progress

SUPPORT_EMAIL = "support@demo.example"
SUPPORT_PASSWORD = "demo-support-password"
ADMIN_PASSWORD = "demo-admin-password"
CONTOSO = "Contoso Freight"
CONTOSO_ADMIN = "it-admin@contoso.example"
# Tenants further along, so that lists and the dashboard have something to show.
# Their step and health are derived from their data, as for any tenant.
OTHERS = [
    ("Northwind Traders", "admin@northwind.example", "Nadia North"),
    ("Fabrikam Haulage", "admin@fabrikam.example", "Farid Fab"),
    ("Tailspin Couriers", "admin@tailspin.example", "Tara Tail"),
]
# Registered (steps 1 and 2), waiting for admin consent in step 3.
REGISTERED = {"Northwind Traders"}
# The finished tenants' Microsoft set-up, for the support dashboard: days until their
# secret expires, their mailbox and its diagnosis. The secret values are made up.
CONFIGURED = {
    "Fabrikam Haulage": (20, "orders@fabrikam.example", Tenant.Health.HEALTHY, ""),
    "Tailspin Couriers": (-4, "dispatch@tailspin.example", Tenant.Health.EXPIRED, "secret_expired"),
}


def _user(email: str, password: str, **fields: Any) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        return User.objects.create_user(email, password, **fields)
    # Setting the same password again would sign the user out of their sessions.
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _support_user() -> User:
    user = _user(SUPPORT_EMAIL, SUPPORT_PASSWORD, full_name="Sam Support", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    return user


def _other_tenants() -> None:
    for name, email, full_name in OTHERS:
        tenant, _ = Tenant.objects.get_or_create(name=name)
        admin = _user(email, ADMIN_PASSWORD, full_name=full_name)
        Membership.objects.get_or_create(tenant=tenant, user=admin)
        if not AppRegistration.objects.filter(tenant=tenant).exists():
            if name in CONFIGURED:
                _configure(tenant, *CONFIGURED[name])
            elif name in REGISTERED:
                _register(tenant)
        record_progress(tenant)
        tenant_recompute(tenant.pk)


def _register(tenant: Tenant) -> AppRegistration:
    return AppRegistration.objects.create(
        tenant=tenant,
        client_id=uuid.uuid4(),
        directory=f"{tenant.name.split()[0].lower()}.onmicrosoft.com",
        directory_id=uuid.uuid4(),
        authentication_confirmed_at=timezone.now() - timedelta(days=3),
    )


def _configure(tenant: Tenant, expires_in: int, address: str, health: str, diagnosis: str) -> None:
    """A configured tenant as months of use would leave it. Its directory is made up, so
    no check can ever run against it: the results of past checks (health, diagnosis) are
    seeded directly, the one place outside onboarding.checks.health that writes them."""
    now = timezone.now()
    app = _register(tenant)
    app.consent_granted_at = now - timedelta(days=120)
    app.save(update_fields=["consent_granted_at"])
    secret = ClientSecret(
        app=app,
        secret_id=uuid.uuid4(),
        expires_on=timezone.localdate() + timedelta(days=expires_in),
        status=ClientSecret.Status.ACTIVE,
    )
    secret.set_value(f"{tenant.name[:3]}8Q~demo-{uuid.uuid4().hex}")
    secret.save()
    success = (
        now - timedelta(hours=2) if health == Tenant.Health.HEALTHY else now - timedelta(days=5)
    )
    Mailbox.objects.create(
        tenant=tenant,
        address=address,
        health=health,
        diagnosis_code=diagnosis,
        last_checked_at=now - timedelta(hours=2),
        last_success_at=success,
    )


class Command(BaseCommand):
    help = "Create or refresh the demo data and print the logins and the invitation link."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data has well-known passwords: never in production.")
        with transaction.atomic():
            support = _support_user()
            _other_tenants()
            contoso, _ = Tenant.objects.get_or_create(name=CONTOSO)
        self._print_logins()
        if Membership.objects.filter(tenant=contoso, user__email__iexact=CONTOSO_ADMIN).exists():
            self.stdout.write(
                f"    {CONTOSO}'s admin ({CONTOSO_ADMIN}) has already accepted the invitation "
                "and signs in with the password chosen then. "
                "Delete var/portal.sqlite3 to start over."
            )
            return
        _invitation, token = invitation_create(
            tenant=contoso, email=CONTOSO_ADMIN, actor=Actor(user=support)
        )
        self.stdout.write(f"    Invitation for {CONTOSO_ADMIN} ({CONTOSO}), valid once:")
        self.stdout.write(f"      {invitation_link(token)}")

    def _print_logins(self) -> None:
        self.stdout.write(f"    Sign in at {settings.PORTAL_BASE_URL}/ with")
        self.stdout.write(f"      support staff: {SUPPORT_EMAIL} / {SUPPORT_PASSWORD}")
        self.stdout.write(
            "        then two-factor sign-in: the first time, scan the QR code shown with an "
            "authenticator app and enter its code"
        )
        self.stdout.write(f"      tenant admin:  {OTHERS[0][1]} / {ADMIN_PASSWORD}")
