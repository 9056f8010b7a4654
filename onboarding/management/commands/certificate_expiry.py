"""Move a tenant's certificate in use closer to its expiry, and start the rollover scan:
how `make run` shows the portal renewing a certificate by itself without waiting
eleven months. Only the portal's record of the expiry moves; the certificate in Entra
is unchanged (and still valid), which is all the rollover needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import SYSTEM
from onboarding import tasks
from onboarding.audit import audit_record
from onboarding.client_secrets import secrets_in_use
from onboarding.models import ClientSecret, Tenant


class Command(BaseCommand):
    help = (
        "Set the expiry of a tenant's certificate in use to N days from today (default: "
        "inside PORTAL_CERTIFICATE_ROLLOVER_DAYS), then run the rollover scan, whose "
        "stages the worker carries out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="The tenant's name, as the portal lists it.")
        parser.add_argument("--in-days", type=int, default=None, help="Days until expiry.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(name__iexact=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant is called {options['tenant']!r}.")
        credential = (
            secrets_in_use()
            .filter(app__tenant=tenant, kind=ClientSecret.Kind.CERTIFICATE)
            .select_related("app")
            .first()
        )
        if credential is None:
            raise CommandError(f"{tenant.name} has no certificate in use (step 4).")
        if credential.app.object_id is None:
            raise CommandError(
                f"{tenant.name}'s app has no Object ID: enter it in step 4 beside the "
                "Certificate ID, or the portal cannot renew the certificate."
            )
        lead = settings.PORTAL_CERTIFICATE_ROLLOVER_DAYS
        days = options["in_days"] if options["in_days"] is not None else max(lead - 10, 1)
        expires_on = tenant.local_today() + timedelta(days=days)
        ClientSecret.objects.filter(pk=credential.pk).update(expires_on=expires_on)
        audit_record(
            action="certificate.expiry_moved",
            actor=SYSTEM,
            tenant=tenant,
            obj=credential,
            expires_on=expires_on.isoformat(),
        )
        self.stdout.write(
            f"{tenant.name}: certificate {credential.thumbprint} now expires on "
            f"{expires_on:%d %b %Y} ({days} days; the rollover lead time is {lead} days)."
        )
        ready = tasks.roll_over_certificates()
        self.stdout.write(f"Rollover scan: {ready} rollover(s) handed to the worker.")
